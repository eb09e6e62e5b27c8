/**
 * Helpers of the group coordinator tests: a coordinator over a topic registry and real partition
 * replicas (in memory, or over files for restart tests), consumer-protocol metadata, and a range assignor.
 */
import { Context, Effect, Layer } from "effect"
import * as Broker from "../../src/broker/Broker.js"
import * as GroupCoordinator from "../../src/broker/GroupCoordinator.js"
import * as ReplicaManager from "../../src/broker/ReplicaManager.js"
import * as TopicRegistry from "../../src/broker/TopicRegistry.js"
import * as ConsumerProtocolAssignment from "../../src/protocol/generated/data/ConsumerProtocolAssignment.js"
import * as ConsumerProtocolSubscription from "../../src/protocol/generated/data/ConsumerProtocolSubscription.js"
import { Reader } from "../../src/protocol/Reader.js"
import { Writer } from "../../src/protocol/Writer.js"
import { testConfig } from "./util.js"

/** Settings of coordinator tests: no initial delay, small `__consumer_offsets`. */
export const groupDefaults: Record<string, string> = {
  "group.initial.rebalance.delay.ms": "0",
  "offsets.topic.num.partitions": "4"
}

/**
 * A group coordinator in the current scope over `dir` (memory logs unless `files`), with topics `t`
 * (12 partitions) and `u` (2) created when missing.
 */
export const makeCoordinator = (
  dir: string,
  options: {
    readonly extra?: Record<string, string>
    readonly files?: boolean
    readonly coordinator?: GroupCoordinator.GroupCoordinatorOptions
  } = {}
) =>
  Effect.gen(function* () {
    const config = yield* testConfig(dir, { ...groupDefaults, ...options.extra })
    const replicas = options.files
      ? Layer.provide(ReplicaManager.layer(), Broker.storageLayer(config))
      : ReplicaManager.layerMemory()
    const ctx = yield* Layer.build(Layer.provideMerge(TopicRegistry.layer(config), replicas))
    const registry = Context.get(ctx, TopicRegistry.TopicRegistry)
    for (const [name, numPartitions] of [
      ["t", 12],
      ["u", 2]
    ] as const) {
      if ((yield* registry.get(name)) === undefined) {
        yield* registry.create({ name, numPartitions, replicationFactor: 1 })
      }
    }
    const groups = yield* GroupCoordinator.make(options.coordinator).pipe(Effect.provide(ctx))
    return { groups, registry, ctx }
  })

/** Consumer-protocol subscription bytes (int16 version + struct). */
export const subscription = (topics: ReadonlyArray<string>): Uint8Array => {
  const w = new Writer()
  w.int16(0)
  ConsumerProtocolSubscription.encodeConsumerProtocolSubscription(
    w,
    ConsumerProtocolSubscription.makeConsumerProtocolSubscription({ topics: [...topics] }),
    0
  )
  return Uint8Array.from(w.finish())
}

/** Consumer-protocol assignment bytes. */
export const assignment = (topic: string, partitions: ReadonlyArray<number>): Uint8Array => {
  const w = new Writer()
  w.int16(0)
  ConsumerProtocolAssignment.encodeConsumerProtocolAssignment(
    w,
    ConsumerProtocolAssignment.makeConsumerProtocolAssignment({
      assignedPartitions: partitions.length === 0 ? [] : [{ topic, partitions: [...partitions] }]
    }),
    0
  )
  return Uint8Array.from(w.finish())
}

/** The partitions of `topic` in assignment bytes (empty bytes: none). */
export const assignedPartitions = (bytes: Uint8Array, topic: string): Array<number> => {
  if (bytes.length === 0) return []
  const r = new Reader(bytes)
  const version = r.int16()
  const a = ConsumerProtocolAssignment.decodeConsumerProtocolAssignment(r, Math.min(version, 3))
  return a.assignedPartitions.filter((t) => t.topic === topic).flatMap((t) => t.partitions)
}

/** Kafka's range assignor over one topic: members sorted by id, contiguous ranges. */
export const rangeAssign = (
  memberIds: ReadonlyArray<string>,
  topic: string,
  partitions: number
): Array<{ memberId: string; assignment: Uint8Array }> => {
  const sorted = [...memberIds].sort()
  const per = Math.floor(partitions / sorted.length)
  const extra = partitions % sorted.length
  let next = 0
  return sorted.map((memberId, i) => {
    const n = per + (i < extra ? 1 : 0)
    const mine = Array.from({ length: n }, (_, k) => next + k)
    next += n
    return { memberId, assignment: assignment(topic, mine) }
  })
}

/** A JoinGroup input with test defaults. */
export const joinInput = (partial: Partial<GroupCoordinator.JoinInput> = {}): GroupCoordinator.JoinInput => ({
  memberId: "",
  groupInstanceId: null,
  clientId: "client",
  clientHost: "/127.0.0.1",
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 30_000,
  protocolType: "consumer",
  protocols: [{ name: "range", metadata: subscription(["t"]) }],
  requireKnownMemberId: true,
  supportsSkipAssignment: false,
  ...partial
})
