// OffsetFetch v0-9: v2 null topics = all and a top-level error; v3 throttle; v5 leader epoch (KIP-320); v6 flexible; v7 require_stable (KIP-447: UNSTABLE_OFFSET_COMMIT while a transactional commit is pending); v8 several groups (KIP-709); v9 member id/epoch (KIP-848, unused by classic groups).
import { Effect } from "effect"
import * as OffsetFetch from "../../protocol/generated/OffsetFetch.js"
import { Codes, toWire, type WireError } from "../BrokerError.js"
import { type FetchedOffset, GroupCoordinator } from "../GroupCoordinator.js"
import * as Handler from "../Handler.js"

const MULTI_GROUP_VERSION = 8

type Topics = ReadonlyArray<{ readonly name: string; readonly partitionIndexes: ReadonlyArray<number> }> | null

const byTopic = (offsets: ReadonlyArray<FetchedOffset>): Array<[string, Array<FetchedOffset>]> => {
  const topics = new Map<string, Array<FetchedOffset>>()
  for (const o of offsets) {
    const list = topics.get(o.topic)
    if (list === undefined) topics.set(o.topic, [o])
    else list.push(o)
  }
  return [...topics]
}

const fetchGroup = (groups: GroupCoordinator["Type"], groupId: string, topics: Topics) =>
  groups
    .fetchOffsets(
      groupId,
      topics === null ? null : topics.map((t) => ({ topic: t.name, partitions: t.partitionIndexes }))
    )
    .pipe(Effect.either)

/** A partition's answer; with `require_stable`, a pending transactional commit answers UNSTABLE_OFFSET_COMMIT. */
const partition = (o: FetchedOffset, requireStable: boolean) =>
  requireStable && o.unstable === true
    ? {
        partitionIndex: o.partition,
        committedOffset: -1n,
        committedLeaderEpoch: -1,
        metadata: "",
        errorCode: Codes.UNSTABLE_OFFSET_COMMIT
      }
    : {
        partitionIndex: o.partition,
        committedOffset: BigInt(o.offset),
        committedLeaderEpoch: o.leaderEpoch,
        metadata: o.metadata,
        errorCode: Codes.NONE
      }

const failedPartitions = (topics: Topics, error: WireError) =>
  (topics ?? []).map((t) => ({
    name: t.name,
    partitions: t.partitionIndexes.map((p) => ({
      partitionIndex: p,
      committedOffset: -1n,
      committedLeaderEpoch: -1,
      metadata: "",
      errorCode: error.errorCode
    }))
  }))

export const handler = Handler.make({
  apiKey: OffsetFetch.apiKey,
  minVersion: OffsetFetch.validVersions.min,
  maxVersion: OffsetFetch.validVersions.max,
  handle: (request, context) =>
    Effect.gen(function* () {
      const groups = yield* GroupCoordinator
      const requireStable = context.apiVersion >= 7 && request.requireStable
      if (context.apiVersion >= MULTI_GROUP_VERSION) {
        const results = yield* Effect.forEach(request.groups, (g) =>
          Effect.map(fetchGroup(groups, g.groupId, g.topics), (r) =>
            r._tag === "Left"
              ? OffsetFetch.makeOffsetFetchResponseGroup({
                  groupId: g.groupId,
                  errorCode: toWire(r.left).errorCode,
                  topics: []
                })
              : OffsetFetch.makeOffsetFetchResponseGroup({
                  groupId: g.groupId,
                  errorCode: Codes.NONE,
                  topics: byTopic(r.right).map(([name, list]) =>
                    OffsetFetch.makeOffsetFetchResponseTopics({
                      name,
                      partitions: list.map((o) =>
                        OffsetFetch.makeOffsetFetchResponsePartitions(partition(o, requireStable))
                      )
                    })
                  )
                })
          )
        )
        return OffsetFetch.makeOffsetFetchResponse({ groups: results })
      }
      // v0-1 have no "all partitions" form
      const topics = context.apiVersion < 2 && request.topics === null ? [] : request.topics
      const r = yield* fetchGroup(groups, request.groupId, topics)
      if (r._tag === "Left") {
        const error = toWire(r.left)
        return OffsetFetch.makeOffsetFetchResponse({
          errorCode: error.errorCode,
          topics: failedPartitions(topics, error).map((t) =>
            OffsetFetch.makeOffsetFetchResponseTopic({
              name: t.name,
              partitions: t.partitions.map((p) => OffsetFetch.makeOffsetFetchResponsePartition(p))
            })
          )
        })
      }
      return OffsetFetch.makeOffsetFetchResponse({
        errorCode: Codes.NONE,
        topics: byTopic(r.right).map(([name, list]) =>
          OffsetFetch.makeOffsetFetchResponseTopic({
            name,
            partitions: list.map((o) => OffsetFetch.makeOffsetFetchResponsePartition(partition(o, requireStable)))
          })
        )
      })
    }),
  errorResponse: (request, error, context) =>
    context.apiVersion >= MULTI_GROUP_VERSION
      ? OffsetFetch.makeOffsetFetchResponse({
          groups: request.groups.map((g) =>
            OffsetFetch.makeOffsetFetchResponseGroup({ groupId: g.groupId, errorCode: error.errorCode, topics: [] })
          )
        })
      : OffsetFetch.makeOffsetFetchResponse({
          errorCode: error.errorCode,
          topics: failedPartitions(request.topics, error).map((t) =>
            OffsetFetch.makeOffsetFetchResponseTopic({
              name: t.name,
              partitions: t.partitions.map((p) => OffsetFetch.makeOffsetFetchResponsePartition(p))
            })
          )
        })
})
