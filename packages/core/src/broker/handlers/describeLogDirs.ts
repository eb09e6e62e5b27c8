// DescribeLogDirs v0-4: sizes per partition (KIP-113); v2 flexible; v3 top-level error code; v4 total/usable bytes (KIP-827).
import { Effect } from "effect"
import * as DescribeLogDirs from "../../protocol/generated/DescribeLogDirs.js"
import { Codes, toWire } from "../BrokerError.js"
import * as Handler from "../Handler.js"
import { PartitionManager } from "../PartitionManager.js"

export const handler = Handler.make({
  apiKey: DescribeLogDirs.apiKey,
  minVersion: DescribeLogDirs.validVersions.min,
  maxVersion: DescribeLogDirs.validVersions.max,
  handle: (request) =>
    Effect.gen(function* () {
      const partitions = yield* PartitionManager
      const dirs = yield* Effect.either(partitions.logDirInfo)
      if (dirs._tag === "Left") {
        return DescribeLogDirs.makeDescribeLogDirsResponse({ errorCode: toWire(dirs.left).errorCode })
      }
      const wanted =
        request.topics === null ? null : new Map(request.topics.map((t) => [t.topic, new Set(t.partitions)]))
      const results = dirs.right.map((dir) => {
        const byTopic = new Map<string, Array<DescribeLogDirs.DescribeLogDirsResponseDescribeLogDirsPartition>>()
        for (const p of dir.partitions) {
          if (wanted !== null && !wanted.get(p.topic)?.has(p.partition)) continue
          let list = byTopic.get(p.topic)
          if (list === undefined) {
            list = []
            byTopic.set(p.topic, list)
          }
          list.push({
            partitionIndex: p.partition,
            partitionSize: BigInt(p.size),
            offsetLag: BigInt(p.offsetLag),
            isFutureKey: false
          })
        }
        return {
          errorCode: Codes.NONE,
          logDir: dir.path,
          topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
          totalBytes: BigInt(dir.totalBytes),
          usableBytes: BigInt(dir.usableBytes)
        }
      })
      return DescribeLogDirs.makeDescribeLogDirsResponse({ results })
    }),
  errorResponse: (_request, error) => DescribeLogDirs.makeDescribeLogDirsResponse({ errorCode: error.errorCode })
})
