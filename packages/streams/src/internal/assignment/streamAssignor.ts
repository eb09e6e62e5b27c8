/**
 * The `stream` partition assignor (Kafka Streams' `StreamsPartitionAssignor`) as a custom assignor of the
 * public Consumer: each stream thread's subscription carries its instance's process id and
 * `application.server`, the tasks it ran and the offset sums of its local state; the leader turns the
 * topology and the partition counts into tasks, reads the changelogs' end offsets to get each instance's lag,
 * runs the pure `assign` and hands every member its tasks' partitions plus an `AssignmentInfo` (active and
 * standby tasks, every instance's partitions by host, the next probing rebalance, an error code).
 *
 * Invariants: a member gets exactly the source partitions of its active tasks; when any subscription carries
 * SHUTDOWN_REQUESTED, every member gets that error code and no partition (the whole application stops).
 */
import type * as Consumer from "@eddy/core/client/Consumer"
import { Effect } from "effect"
import * as StreamsConfig from "../../StreamsConfig.js"
import * as Topology from "../../topology/Topology.js"
import * as A from "./assign.js"
import * as Info from "./info.js"

/** The protocol name every member announces (Kafka's). */
export const NAME = "stream"

/** A task of the running topology: its source partitions and changelog partitions. */
export interface TaskPartitions {
  readonly id: string
  readonly sources: ReadonlyArray<Consumer.TopicPartition>
  readonly changelogs: ReadonlyArray<Consumer.TopicPartition>
}

/** The tasks of `topology` for the given partition counts (full topic names): one per partition number. */
export const tasksOf = (
  topology: Topology.Topology<unknown>,
  applicationId: string,
  counts: ReadonlyMap<string, number>
): Array<TaskPartitions> => {
  const out: Array<TaskPartitions> = []
  for (const sub of topology.subtopologies) {
    const topics = sub.sourceTopics.map((t) => Topology.resolveTopic(topology, applicationId, t))
    const logged = sub.stores
      .filter((s) => topology.stores.get(s)?.loggingEnabled === true)
      .map((s) => Topology.resolveTopic(topology, applicationId, Topology.changelogTopicName(s)))
    const n = Math.max(0, ...topics.map((t) => counts.get(t) ?? 0))
    for (let partition = 0; partition < n; partition++) {
      out.push({
        id: `${sub.id}_${partition}`,
        sources: topics.filter((t) => (counts.get(t) ?? 0) > partition).map((topic) => ({ topic, partition })),
        changelogs: logged.map((topic) => ({ topic, partition }))
      })
    }
  }
  return out
}

/** What a thread gives its assignor. */
export interface StreamAssignorParams {
  readonly topology: Topology.Topology<unknown>
  readonly config: StreamsConfig.StreamsConfig
  readonly processId: string
  /** This member's subscription state at each join. */
  readonly subscription: Effect.Effect<Omit<Info.SubscriptionInfo, "version" | "processId" | "endpoint">>
  /** Changelog end offsets (leader only): partition -> end. */
  readonly endOffsets: (topic: string, partitions: ReadonlyArray<number>) => Effect.Effect<Map<number, number>, unknown>
  /** The member's assignment (its info undefined when the leader sent none this code reads). */
  readonly onAssignment: (
    partitions: ReadonlyArray<Consumer.TopicPartition>,
    info: Info.AssignmentInfo | undefined
  ) => Effect.Effect<void>
}

const sum = (xs: Iterable<number>) => {
  let n = 0
  for (const x of xs) n += x
  return n
}

/** Client (process id) -> the lag of its local state per stateful task. */
const lagsOf = (
  members: ReadonlyArray<{ readonly info: Info.SubscriptionInfo }>,
  endSums: ReadonlyMap<string, number>
): Map<string, number> => {
  const lags = new Map<string, number>()
  for (const [task, end] of endSums) {
    let best = end
    for (const { info } of members) {
      if (info.prevActive.includes(task)) best = 0
      const s = info.offsetSums[task]
      if (s === Info.LATEST_OFFSET) best = 0
      else if (s !== undefined && s >= 0) best = Math.min(best, Math.max(0, end - s))
    }
    lags.set(task, best)
  }
  return lags
}

/** The leader's side: every member's share for a group. */
const assignGroup = (p: StreamAssignorParams, group: Consumer.GroupSubscription) =>
  Effect.gen(function* () {
    const { config } = p
    const applicationId = config["application.id"]
    const decoded = group.members.map((m) => ({ member: m, info: Info.decodeSubscription(m.userData) }))
    const empty = (errorCode: number): Info.AssignmentInfo => ({
      version: Info.VERSION,
      active: [],
      standby: [],
      hosts: [],
      probingRebalanceAt: -1,
      errorCode
    })
    if (decoded.some((d) => d.info?.errorCode === Info.ErrorCode.SHUTDOWN_REQUESTED)) {
      yield* Effect.logWarning(`streams ${applicationId}: an instance asked the application to shut down`)
      const bytes = Info.encodeAssignment(empty(Info.ErrorCode.SHUTDOWN_REQUESTED))
      return new Map(group.members.map((m) => [m.memberId, { partitions: [], userData: bytes }]))
    }
    const tasks = tasksOf(p.topology, applicationId, group.partitionCounts)
    // changelog ends per task (a stateless task has none)
    const byTopic = new Map<string, Array<number>>()
    for (const t of tasks)
      for (const c of t.changelogs) byTopic.set(c.topic, [...(byTopic.get(c.topic) ?? []), c.partition])
    const ends = new Map<string, number>()
    for (const [topic, partitions] of byTopic) {
      const resolved = yield* p.endOffsets(topic, partitions).pipe(
        Effect.tapError((e) => Effect.logWarning(`cannot read the end offsets of ${topic}: ${String(e)}`)),
        Effect.orElseSucceed(() => new Map<number, number>())
      )
      for (const [partition, end] of resolved) ends.set(`${topic}:${partition}`, end)
    }
    const endSums = new Map<string, number>()
    for (const t of tasks) {
      if (t.changelogs.length > 0)
        endSums.set(t.id, sum(t.changelogs.map((c) => ends.get(`${c.topic}:${c.partition}`) ?? 0)))
    }
    // members by client; a member whose subscription this code cannot read is a client of its own
    const clients = new Map<string, Array<{ member: Consumer.GroupMember; info: Info.SubscriptionInfo }>>()
    for (const { member, info } of decoded) {
      const i: Info.SubscriptionInfo = info ?? {
        version: Info.VERSION,
        processId: member.memberId,
        endpoint: "",
        prevActive: [],
        prevStandby: [],
        offsetSums: {},
        errorCode: 0
      }
      clients.set(i.processId, [...(clients.get(i.processId) ?? []), { member, info: i }])
    }
    const specs: Array<A.ClientSpec> = [...clients].map(([processId, ms]) => ({
      processId,
      members: ms.map(({ member, info }) => ({
        memberId: member.memberId,
        prevActive: info.prevActive,
        prevStandby: info.prevStandby
      })),
      lags: lagsOf(ms, endSums)
    }))
    const result = A.assign(
      tasks.map((t) => ({ id: t.id, stateful: t.changelogs.length > 0 })),
      specs,
      {
        numStandbyReplicas: config["num.standby.replicas"] ?? StreamsConfig.defaults["num.standby.replicas"],
        acceptableRecoveryLag: config["acceptable.recovery.lag"] ?? StreamsConfig.defaults["acceptable.recovery.lag"],
        maxWarmupReplicas: config["max.warmup.replicas"] ?? StreamsConfig.defaults["max.warmup.replicas"]
      }
    )
    const byId = new Map(tasks.map((t) => [t.id, t]))
    const partitionsOf = (ids: ReadonlyArray<string>) => ids.flatMap((id) => byId.get(id)?.sources ?? [])
    const hosts: Array<Info.AssignmentInfo["hosts"][number]> = []
    for (const [processId, ms] of clients) {
      const endpoint = ms[0]!.info.endpoint
      const c = result.clients.get(processId)
      if (endpoint !== "" && c !== undefined) {
        hosts.push({ endpoint, active: partitionsOf(c.active), standby: partitionsOf(c.standby) })
      }
    }
    const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
    const probingRebalanceAt =
      result.warmups > 0
        ? now + (config["probing.rebalance.interval.ms"] ?? StreamsConfig.defaults["probing.rebalance.interval.ms"])
        : -1
    if (result.warmups > 0) {
      yield* Effect.logInfo(`streams ${applicationId}: ${result.warmups} warm-up replica(s); probing rebalance planned`)
    }
    return new Map(
      group.members.map((m) => {
        const mine = result.members.get(m.memberId) ?? { active: [], standby: [] }
        const info: Info.AssignmentInfo = {
          version: Info.VERSION,
          active: mine.active,
          standby: mine.standby,
          hosts,
          probingRebalanceAt,
          errorCode: 0
        }
        return [m.memberId, { partitions: partitionsOf(mine.active), userData: Info.encodeAssignment(info) }]
      })
    )
  })

/** The `stream` assignor of one stream thread. */
export const make = (p: StreamAssignorParams): Consumer.PartitionAssignor => ({
  name: NAME,
  subscriptionUserData: () =>
    Effect.map(p.subscription, (s) =>
      Info.encodeSubscription({
        version: Info.VERSION,
        processId: p.processId,
        endpoint: p.config["application.server"] ?? "",
        ...s
      })
    ),
  assign: (group) => assignGroup(p, group),
  onAssignment: (assignment) => p.onAssignment(assignment.partitions, Info.decodeAssignment(assignment.userData))
})
