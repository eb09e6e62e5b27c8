/**
 * The co-partitioning check of joins (Kafka Streams' copartitioned-topics enforcer): the input topics of a
 * join must have equal partition counts, or records with one key would land in different tasks. A group's
 * repartition topics without a fixed count take the count of its other topics (or the largest of them when
 * all are repartition topics); topics of the group with different counts fail the start-up.
 */
import * as Topology from "../../topology/Topology.js"

/** Sets the counts of the groups' repartition topics; returns the first mismatch as a message, if any. */
export const enforce = (
  topology: Topology.Topology<unknown>,
  applicationId: string,
  counts: Map<string, number>
): string | undefined => {
  for (const group of topology.copartitionGroups ?? []) {
    const open = group.filter((t) => {
      const internal = topology.internalTopics.get(t)
      return internal?.kind === "repartition" && internal.numberOfPartitions === undefined
    })
    const fixed = group.filter((t) => !open.includes(t))
    const full = (t: string) => Topology.resolveTopic(topology, applicationId, t)
    const fixedCounts = fixed.map((t) => ({ topic: full(t), n: counts.get(full(t)) }))
    const known = fixedCounts.filter((c): c is { topic: string; n: number } => c.n !== undefined)
    if (new Set(known.map((c) => c.n)).size > 1) {
      const list = known.map((c) => `${c.topic} (${c.n} partitions)`).join(", ")
      return `Topics not co-partitioned: [${list}]. The inputs of a join must have the same number of partitions: repartition() one side to the other's count`
    }
    const target =
      known.length > 0
        ? known[0]!.n
        : Math.max(0, ...open.map((t) => counts.get(full(t))).filter((n): n is number => n !== undefined))
    if (target > 0) for (const t of open) counts.set(full(t), target)
  }
  return undefined
}
