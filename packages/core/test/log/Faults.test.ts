import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Disk from "../../src/log/internal/disk.js"
import * as Log from "../../src/log/Log.js"
import * as LogConfig from "../../src/log/LogConfig.js"
import { batch, instrumented, offsetsOf, tempDir } from "./helpers.js"

const dir = "/data/t-0"

describe("Faults", () => {
  it.effect("disk full on append: a typed KAFKA_STORAGE_ERROR, nothing half-written, the log stays usable", () =>
    Effect.gen(function* () {
      const mem = Disk.memory()
      const d = instrumented(mem)
      const log = yield* Log.open({ dir, config: LogConfig.make(), disk: d.disk })
      yield* log.append(batch({ count: 2 }))
      d.setFault((op) => (op === "write" ? "ENOSPC" : undefined))
      const e = yield* Effect.flip(log.append(batch({ count: 3 })))
      assert.strictEqual(e._tag, "KafkaStorageError")
      assert.strictEqual((e as { errorCode: number }).errorCode, 56)
      assert.strictEqual((e as { code: string }).code, "ENOSPC")
      assert.strictEqual(log.logEndOffset, 2)
      d.setFault(undefined)
      const ok = yield* log.append(batch({ count: 1 }))
      assert.strictEqual(ok.firstOffset, 2)
      const r = yield* log.read(0, 1 << 20)
      assert.deepStrictEqual(offsetsOf(r.records), [
        [0, 1],
        [2, 2]
      ])
      yield* log.close
      const again = yield* Log.open({ dir, config: LogConfig.make(), disk: mem })
      assert.strictEqual(again.logEndOffset, 3)
    })
  )

  it.effect("permission denied when rolling: typed error, the log keeps its active segment", () =>
    Effect.gen(function* () {
      const d = instrumented(Disk.memory())
      const log = yield* Log.open({ dir, config: LogConfig.make({ "segment.bytes": 200 }), disk: d.disk })
      yield* log.append(batch({ count: 1, valueSize: 100 }))
      d.setFault((op, path) => (op === "open" && path.endsWith(".log") ? "EACCES" : undefined))
      const e = yield* Effect.flip(log.append(batch({ count: 1, valueSize: 100 })))
      assert.strictEqual((e as { code: string }).code, "EACCES")
      assert.strictEqual((e as { errorCode: number }).errorCode, 56)
      d.setFault(undefined)
      const ok = yield* log.append(batch({ count: 1, valueSize: 100 }))
      assert.strictEqual(ok.firstOffset, 1)
      assert.strictEqual(log.segments.length, 2)
    })
  )

  it.effect("a failed fsync takes the log offline and fails the waiting appends", () =>
    Effect.gen(function* () {
      const d = instrumented(Disk.memory())
      const log = yield* Log.open({ dir, config: LogConfig.make({ "flush.messages": 1 }), disk: d.disk })
      yield* log.append(batch())
      d.setFault((op) => (op === "fsync" ? "EIO" : undefined))
      const e = yield* Effect.flip(log.append(batch()))
      assert.strictEqual((e as { code: string }).code, "EIO")
      d.setFault(undefined)
      const later = yield* Effect.flip(log.append(batch()))
      assert.strictEqual(later._tag, "KafkaStorageError")
      assert.strictEqual((yield* Effect.flip(log.read(0, 100)))._tag, "KafkaStorageError")
    })
  )

  it.effect("a failed index write at close leaves no clean marker, and the next open rebuilds the index", () =>
    Effect.gen(function* () {
      const mem = Disk.memory()
      const d = instrumented(mem)
      const config = LogConfig.make({ "index.interval.bytes": 10 })
      const log = yield* Log.open({ dir, config, disk: d.disk })
      for (let i = 0; i < 20; i++) yield* log.append(batch({ timestamp: i }))
      d.setFault((op, path) => (op === "write" && path.endsWith(".index") ? "ENOSPC" : undefined))
      const e = yield* Effect.flip(log.close)
      assert.strictEqual(e._tag, "KafkaStorageError")
      assert.isFalse(yield* mem.exists(`${dir}/.kafka_cleanshutdown`))
      const again = yield* Log.open({ dir, config, disk: mem })
      assert.strictEqual(again.logEndOffset, 20)
      const r = yield* again.read(13, 1)
      assert.deepStrictEqual(offsetsOf(r.records), [[13, 13]])
    })
  )

  it.scoped("group commit: concurrent durable appends share fsyncs", () =>
    Effect.gen(function* () {
      const path = yield* tempDir
      // fsync as slow as a real device's, so that sharing does not depend on how loaded the machine is
      const d = instrumented(Disk.node)
      d.setDelay("fsync", 10)
      const log = yield* Log.open({
        dir: path,
        config: LogConfig.make({ "flush.messages": 1, "flush.group.commit": true }),
        disk: d.disk
      })
      const n = 64
      const infos = yield* Effect.all(
        Array.from({ length: n }, () => log.append(batch({ valueSize: 1000 }))),
        { concurrency: "unbounded" }
      )
      yield* Effect.all(
        infos.map((i) => i.durable),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(log.recoveryPoint, n)
      assert.isBelow(d.count("fsync"), n / 2)
      assert.isAbove(d.count("fsync"), 0)
      // without group commit, concurrent appenders still share fsyncs; each append returns durable
      const d2 = instrumented(Disk.node)
      d2.setDelay("fsync", 10)
      const path2 = yield* tempDir
      const log2 = yield* Log.open({ dir: path2, config: LogConfig.make({ "flush.messages": 1 }), disk: d2.disk })
      yield* Effect.all(
        Array.from({ length: n }, () => log2.append(batch({ valueSize: 1000 }))),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(log2.recoveryPoint, n)
      assert.isBelow(d2.count("fsync"), n / 2)
      // sequential appends: one fsync each
      const before = d2.count("fsync")
      for (let i = 0; i < 5; i++) yield* log2.append(batch())
      assert.strictEqual(d2.count("fsync") - before, 5)
    })
  )
})
