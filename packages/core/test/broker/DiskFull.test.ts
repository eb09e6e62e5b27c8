/**
 * A full disk is visible: a produce failing with KAFKA_STORAGE_ERROR logs one line naming the partition
 * and the file (at most once per 10 s per partition), and a start that cannot write names the file.
 * Faults come from the log's disk seam (`log/internal/disk.ts`, `withHooks`).
 */
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Logger, LogLevel, TestClock } from "effect"
import * as Broker from "../../src/broker/Broker.js"
import { KafkaStorageError } from "../../src/broker/BrokerError.js"
import * as PartitionManager from "../../src/broker/PartitionManager.js"
import * as ReplicaManager from "../../src/broker/ReplicaManager.js"
import * as TopicConfig from "../../src/broker/TopicConfig.js"
import * as Disk from "../../src/log/internal/disk.js"
import * as LogConfig from "../../src/log/LogConfig.js"
import * as LogStorage from "../../src/log/LogStorage.js"
import { ErrorCode } from "../../src/protocol/generated/ErrorCode.js"
import { captureWarnings, instrumented } from "../log/helpers.js"
import { batch, createTopic, produceRequest } from "./produceFetch.js"
import { connect, tempDir, testConfig } from "./util.js"

/** A broker over `dir` whose log engine writes through `disk`. */
const brokerOn = (dir: string, disk: Disk.Disk) =>
  Effect.gen(function* () {
    const config = yield* testConfig(dir)
    const storage = Layer.scoped(
      LogStorage.LogStorage,
      LogStorage.make({ disk, config: { "log.dirs": dir, log: TopicConfig.toLogConfig(config, {}) } })
    )
    const context = yield* Layer.build(
      Broker.layer(config, { drainTimeoutMs: 2000, partitionManager: Layer.provide(ReplicaManager.layer(), storage) })
    )
    return { broker: Context.get(context, Broker.Broker), context }
  })

const enospc = (op: Disk.Operation) => (op === "write" || op === "writeFile" || op === "open" ? "ENOSPC" : undefined)

describe("disk full", () => {
  it.scopedLive("a produce failing with KAFKA_STORAGE_ERROR logs one line naming the partition and file", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const d = instrumented(Disk.node)
      const warnings = captureWarnings()
      yield* Effect.gen(function* () {
        const { broker } = yield* brokerOn(dir, d.disk)
        const client = yield* connect(broker.address.port)
        yield* createTopic(client, "t", 2)
        d.setFault(enospc)
        for (let i = 0; i < 3; i++) {
          for (const partition of [0, 1]) {
            const res = yield* client.send(0, 9, produceRequest("t", partition, batch(["x"])))
            assert.strictEqual(res.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.KAFKA_STORAGE_ERROR)
          }
        }
        d.setFault(undefined)
        const ok = yield* client.send(0, 9, produceRequest("t", 0, batch(["y"])))
        assert.strictEqual(ok.responses[0]!.partitionResponses[0]!.errorCode, 0)
      }).pipe(Effect.provide(Logger.minimumLogLevel(LogLevel.Warning)), Effect.provide(warnings.layer))
      const lines = warnings.messages.filter((m) => m.includes("KAFKA_STORAGE_ERROR"))
      // one line per partition within 10 s, each naming the partition and its segment file
      assert.strictEqual(lines.length, 2, warnings.messages.join("\n"))
      for (const partition of [0, 1]) {
        const segment = path.join(dir, `t-${partition}`, "00000000000000000000.log")
        const line = lines.find((l) => l.startsWith(`Partition t-${partition}: `))
        assert.isDefined(line)
        assert.include(line, `cannot write ${segment}`)
        assert.include(line, "ENOSPC")
        assert.notInclude(line, "\n")
      }
    })
  )

  it.scoped("storage warnings of a partition are rate-limited by Clock: one per 10 s", () =>
    Effect.gen(function* () {
      const ctx = yield* Layer.build(ReplicaManager.layerMemory())
      yield* Context.get(ctx, PartitionManager.PartitionManager).createPartitions({
        topic: "t",
        topicId: "id",
        count: 1,
        config: LogConfig.make()
      })
      const replica = Context.get(ctx, ReplicaManager.ReplicaManager).get("t", 0)!
      const warnings = captureWarnings()
      const error = new KafkaStorageError({ message: "write failed: ENOSPC", path: "/data/t-0/x.log", code: "ENOSPC" })
      const warn = replica.warnStorageError(error).pipe(Effect.provide(warnings.layer))
      yield* warn
      yield* TestClock.adjust("9999 millis")
      yield* warn
      assert.strictEqual(warnings.messages.length, 1)
      yield* TestClock.adjust("1 millis")
      yield* warn
      yield* warn
      assert.strictEqual(warnings.messages.length, 2)
      assert.strictEqual(
        warnings.messages[0],
        "Partition t-0: cannot write /data/t-0/x.log: write failed: ENOSPC (KAFKA_STORAGE_ERROR; at most one such line per 10 s)"
      )
    })
  )

  it.scopedLive("a start that cannot write names the file in one line", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const d = instrumented(Disk.node)
      yield* Effect.scoped(
        Effect.gen(function* () {
          const { broker } = yield* brokerOn(dir, d.disk)
          const client = yield* connect(broker.address.port)
          yield* createTopic(client, "t")
        })
      )
      d.setFault((op) => (op === "write" || op === "writeFile" ? "ENOSPC" : undefined))
      const warnings = captureWarnings()
      const error = yield* Effect.flip(Effect.scoped(brokerOn(dir, d.disk))).pipe(Effect.provide(warnings.layer))
      assert.strictEqual(error._tag, "KafkaStorageError")
      assert.include(error.message, path.join(dir, "t-0"))
      assert.include(error.message, "ENOSPC")
      assert.notInclude(error.message, "\n")
      for (const m of warnings.messages) assert.notMatch(m, /\n\s+at /, "no stack trace is logged")
    })
  )
})
