/**
 * Pattern sources at start-up: each source added with a pattern reads the topics whose whole name matches
 * it among the cluster's topics when the application starts (topics made later are not picked up), except
 * topics other sources read and the application's own internal topics. The result is an ordinary topology
 * with those topics filled in, so the rest of the runtime never sees a pattern.
 */
import type * as Admin from "@eddy/core/client/Admin"
import { Effect } from "effect"
import { StreamsFatalError } from "../../StreamsError.js"
import * as Topology from "../../topology/Topology.js"

/** True when some source reads by pattern. */
export const hasPatterns = (topology: Topology.Topology<unknown>): boolean =>
  [...topology.nodes.values()].some((n) => n.kind === "source" && n.pattern !== undefined)

/** `topology` with each pattern source reading the matching topics among `topics` (pure). */
export const resolveWith = (
  topology: Topology.Topology<unknown>,
  applicationId: string,
  topics: ReadonlyArray<string>
): Topology.Topology<unknown> => {
  const taken = new Set<string>()
  for (const n of topology.nodes.values()) if (n.kind === "source") for (const t of n.topics) taken.add(t)
  const internal = new Set([...topology.internalTopics.keys()].map((t) => `${applicationId}-${t}`))
  const eligible = topics.filter((t) => !taken.has(t) && !internal.has(t) && !t.startsWith("__")).sort()
  const nodes = new Map(topology.nodes)
  for (const n of topology.nodes.values()) {
    if (n.kind !== "source" || n.pattern === undefined) continue
    const pattern = n.pattern
    nodes.set(n.name, { ...n, topics: eligible.filter((t) => Topology.matchesPattern(pattern, t)) })
  }
  const subtopologies = topology.subtopologies.map((s) => ({
    ...s,
    sourceTopics: s.sources.flatMap((name) => (nodes.get(name) as Topology.SourceNode).topics)
  }))
  return Topology.make({ ...topology, nodes, subtopologies })
}

/** Resolves the pattern sources of `topology` against the cluster's topics (the topology as is without any). */
export const resolve = (admin: Admin.Admin, topology: Topology.Topology<unknown>, applicationId: string) =>
  hasPatterns(topology)
    ? admin.listTopics().pipe(
        Effect.map((topics) => resolveWith(topology, applicationId, topics)),
        Effect.mapError((cause) => new StreamsFatalError({ message: "Cannot list topics for pattern sources", cause }))
      )
    : Effect.succeed(topology)
