// OffsetDelete v0 (KIP-496): deletes committed offsets of an empty group, or of topics a consumer group no longer subscribes to.
import { Effect } from "effect"
import * as OffsetDelete from "../../protocol/generated/OffsetDelete.js"
import { Codes, toWire } from "../BrokerError.js"
import { GroupCoordinator } from "../GroupCoordinator.js"
import * as Handler from "../Handler.js"
import { TopicRegistry } from "../TopicRegistry.js"

export const handler = Handler.make({
  apiKey: OffsetDelete.apiKey,
  minVersion: OffsetDelete.validVersions.min,
  maxVersion: OffsetDelete.validVersions.max,
  handle: (request) =>
    Effect.gen(function* () {
      const groups = yield* GroupCoordinator
      const registry = yield* TopicRegistry
      const codes = new Map<string, number>()
      const known: Array<{ topic: string; partitions: Array<number> }> = []
      for (const t of request.topics) {
        const topic = yield* registry.get(t.name)
        const partitions: Array<number> = []
        for (const p of t.partitions) {
          if (topic === undefined || p.partitionIndex < 0 || p.partitionIndex >= topic.partitions) {
            codes.set(`${t.name}\u0000${p.partitionIndex}`, Codes.UNKNOWN_TOPIC_OR_PARTITION)
          } else partitions.push(p.partitionIndex)
        }
        if (partitions.length > 0) known.push({ topic: t.name, partitions })
      }
      const results = yield* groups.deleteOffsets(request.groupId, known)
      for (const r of results) {
        codes.set(`${r.topic}\u0000${r.partition}`, r.error === undefined ? Codes.NONE : toWire(r.error).errorCode)
      }
      return OffsetDelete.makeOffsetDeleteResponse({
        errorCode: Codes.NONE,
        topics: request.topics.map((t) =>
          OffsetDelete.makeOffsetDeleteResponseTopic({
            name: t.name,
            partitions: t.partitions.map((p) =>
              OffsetDelete.makeOffsetDeleteResponsePartition({
                partitionIndex: p.partitionIndex,
                errorCode: codes.get(`${t.name}\u0000${p.partitionIndex}`) ?? Codes.NONE
              })
            )
          })
        )
      })
    }),
  errorResponse: (_request, error) => OffsetDelete.makeOffsetDeleteResponse({ errorCode: error.errorCode, topics: [] })
})
