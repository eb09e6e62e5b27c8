import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { batch, createTopic, fetchOne, produce, values } from "./produceFetch.js"
import { connect, processExited, spawnBrokerProcess, startBroker, tempDir } from "./util.js"

const flushEveryBatch = { "log.flush.interval.messages": "1" }

const spawnBroker = (dir: string) => spawnBrokerProcess(dir, flushEveryBatch)

const exited = processExited

/** Produces `count` batches with acks=-1 on `port`; returns the values acknowledged. */
const produceAcked = (port: number, count: number, prefix: string) =>
  Effect.scoped(
    Effect.gen(function* () {
      const client = yield* connect(port)
      const acked: Array<string> = []
      for (let i = 0; i < count; i++) {
        const value = `${prefix}-${i}`
        const p = yield* produce(client, "t", 0, batch([value]), { acks: -1 })
        if (p.errorCode === 0) acked.push(value)
      }
      return acked
    })
  )

/** Reads every value of t-0 from a broker started in this process over `dir`. */
const readBack = (dir: string) =>
  Effect.scoped(
    Effect.gen(function* () {
      const { broker } = yield* startBroker({ dir })
      const client = yield* connect(broker.address.port)
      const all: Array<string> = []
      let offset = 0
      for (;;) {
        const f = yield* fetchOne(client, "t", 0, offset)
        assert.strictEqual(f.errorCode, 0)
        const vs = values(f.records)
        if (vs.length === 0) break
        all.push(...vs)
        offset += vs.length
      }
      return all
    })
  )

describe("Restart", () => {
  it.scopedLive("serves all acknowledged data after a graceful stop, which leaves clean-shutdown markers", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const { proc, port } = yield* spawnBroker(dir)
      yield* Effect.scoped(Effect.flatMap(connect(port), (c) => createTopic(c, "t", 1)))
      const acked = yield* produceAcked(port, 50, "graceful")
      assert.strictEqual(acked.length, 50)
      proc.kill("SIGTERM")
      assert.strictEqual(yield* exited(proc), 0)
      assert.isTrue(fs.existsSync(path.join(dir, "t-0", ".kafka_cleanshutdown")))
      assert.deepStrictEqual(yield* readBack(dir), acked)
    })
  )

  it.scopedLive("serves all acknowledged data after SIGKILL with a flush per batch", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const { proc, port } = yield* spawnBroker(dir)
      yield* Effect.scoped(Effect.flatMap(connect(port), (c) => createTopic(c, "t", 1)))
      const acked = yield* produceAcked(port, 40, "before")
      // keep producing while the process is killed: whatever was acknowledged must survive
      const during: Array<string> = []
      const producing = Effect.scoped(
        Effect.gen(function* () {
          const client = yield* connect(port)
          for (let i = 0; ; i++) {
            const p = yield* produce(client, "t", 0, batch([`during-${i}`]), { acks: -1 })
            if (p.errorCode === 0) during.push(`during-${i}`)
          }
        })
      )
      yield* Effect.fork(producing)
      yield* Effect.sleep(150)
      proc.kill("SIGKILL")
      yield* exited(proc)
      assert.isFalse(fs.existsSync(path.join(dir, "t-0", ".kafka_cleanshutdown")))
      const stored = yield* readBack(dir)
      const expected = [...acked, ...during]
      assert.deepStrictEqual(stored.slice(0, expected.length), expected)
      assert.isAbove(during.length, 0)
    })
  )
})
