/**
 * Internal topics at start-up: partition counts derived from the topology (a repartition topic gets its
 * `Repartitioned` count or the largest input of the sub-topology writing it; a changelog the largest input
 * of the sub-topology owning its store), then created with Kafka Streams' configs; existing ones are kept.
 */

import type * as Admin from "@eddy/core/client/Admin"
import { Effect } from "effect"
import { StreamsFatalError } from "../../StreamsError.js"
import * as Topology from "../../topology/Topology.js"
import * as Copartition from "./copartition.js"

/** Thrown by `partitionCounts` when a join's inputs have different partition counts. */
export class CopartitionMismatch extends Error {}

/** Partition counts of every topic the topology reads or keeps (full names). */
export const partitionCounts = (
  topology: Topology.Topology<unknown>,
  applicationId: string,
  external: ReadonlyMap<string, number>
): Map<string, number> => {
  const counts = new Map(external)
  const full = (t: string) => Topology.resolveTopic(topology, applicationId, t)
  for (const t of topology.internalTopics.values()) {
    if (t.numberOfPartitions !== undefined) counts.set(full(t.name), t.numberOfPartitions)
  }
  const inputsOf = (s: Topology.Subtopology) => s.sourceTopics.map((t) => counts.get(full(t)))
  const writers = (topic: string) =>
    topology.subtopologies.filter((s) =>
      s.nodes.some((n) => {
        const node = topology.nodes.get(n)!
        return node.kind === "sink" && node.topic === topic
      })
    )
  // repartition topics may feed each other: resolve until nothing changes
  for (let changed = true; changed; ) {
    changed = false
    for (const t of topology.internalTopics.values()) {
      if (t.kind !== "repartition" || counts.has(full(t.name))) continue
      const inputs = writers(t.name).flatMap(inputsOf)
      if (inputs.length > 0 && inputs.every((n) => n !== undefined)) {
        counts.set(full(t.name), Math.max(...(inputs as Array<number>)))
        changed = true
      }
    }
  }
  const mismatch = Copartition.enforce(topology, applicationId, counts)
  if (mismatch !== undefined) throw new CopartitionMismatch(mismatch)
  for (const s of topology.subtopologies) {
    const inputs = inputsOf(s).filter((n): n is number => n !== undefined)
    for (const store of s.stores) {
      const name = full(Topology.changelogTopicName(store))
      if (topology.internalTopics.has(Topology.changelogTopicName(store)) && inputs.length > 0) {
        counts.set(name, Math.max(...inputs))
      }
    }
  }
  return counts
}

/** External topics the topology reads (sub-topology and global sources). */
export const externalSourceTopics = (topology: Topology.Topology<unknown>): Array<string> => {
  const out = new Set<string>()
  for (const n of topology.nodes.values()) {
    if (n.kind === "source") for (const t of n.topics) if (!topology.internalTopics.has(t)) out.add(t)
  }
  return [...out]
}

/** Reads source partition counts, then creates the internal topics that do not exist. */
export const setUp = (
  admin: Admin.Admin,
  topology: Topology.Topology<unknown>,
  applicationId: string,
  replicationFactor: number
) =>
  Effect.gen(function* () {
    const sources = externalSourceTopics(topology)
    const described = yield* admin.describeTopics(sources).pipe(
      Effect.mapError(
        (cause) =>
          new StreamsFatalError({
            message: `Cannot read the source topics ${sources.join(", ")} (do they exist?): ${String(cause)}`,
            cause
          })
      )
    )
    const external = new Map(described.map((d) => [d.name, d.partitions.length]))
    for (const t of sources) {
      if (!external.has(t) || external.get(t) === 0) {
        return yield* new StreamsFatalError({ message: `Source topic ${t} does not exist`, cause: undefined })
      }
    }
    const counts = yield* Effect.try({
      try: () => partitionCounts(topology, applicationId, external),
      catch: (e) => new StreamsFatalError({ message: e instanceof Error ? e.message : String(e), cause: e })
    })
    const existing = new Set(yield* admin.listTopics({ includeInternal: true }).pipe(Effect.orElseSucceed(() => [])))
    for (const t of topology.internalTopics.values()) {
      const name = Topology.resolveTopic(topology, applicationId, t.name)
      if (existing.has(name)) continue
      const numPartitions = counts.get(name)
      if (numPartitions === undefined) {
        return yield* new StreamsFatalError({
          message: `Cannot derive the partition count of ${name}`,
          cause: undefined
        })
      }
      yield* admin
        .createTopics([
          {
            name,
            numPartitions,
            ...(replicationFactor > 0 ? { replicationFactor } : {}),
            configs: { "message.timestamp.type": "CreateTime", ...t.configs }
          }
        ])
        .pipe(
          Effect.catchIf(
            (e) => e._tag === "KafkaError" && e.errorName === "TOPIC_ALREADY_EXISTS",
            () => Effect.void
          ),
          Effect.mapError(
            (cause) => new StreamsFatalError({ message: `Cannot create ${name}: ${String(cause)}`, cause })
          )
        )
    }
    return counts
  })
