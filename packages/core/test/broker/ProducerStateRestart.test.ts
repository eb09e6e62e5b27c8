/**
 * Producer state across broker restarts over the wire: a broker in a child process is stopped gracefully
 * (producer-state snapshots written at shutdown) and killed with SIGKILL (rebuilt from the log); after each,
 * a retried batch is answered with its original offset, a sequence gap is refused, and an open transaction
 * still holds the last stable offset.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as ProducerState from "../../src/log/ProducerState.js"
import { batch, createTopic, fetchOne, produce } from "./produceFetch.js"
import { connect, processExited, type RawClient, spawnBrokerProcess, startBroker, tempDir } from "./util.js"

const spawnBroker = (dir: string) => spawnBrokerProcess(dir, { "log.flush.interval.messages": "1" })

const exited = processExited

const idem = (baseSequence: number, transactional = false) =>
  batch([`v${baseSequence}`], { producerId: transactional ? 8 : 7, producerEpoch: 0, baseSequence, transactional })

/** Produces with acks=-1 and returns [errorCode, baseOffset]. */
const send = (client: RawClient, b: Uint8Array) =>
  Effect.map(produce(client, "t", 0, b, { acks: -1 }), (p) => [p.errorCode, Number(p.baseOffset)] as const)

/** After a restart: retries answered with their original offsets, gaps refused, the open transaction kept. */
const checkAfterRestart = (dir: string, lastSeq: number, txnOffset: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const { broker } = yield* startBroker({ dir })
      const client = yield* connect(broker.address.port)
      const end = Number((yield* fetchOne(client, "t", 0, 0)).highWatermark)
      // producer 7's batches are at offsets 0..lastSeq except for the transactional one at txnOffset
      const offsetOf = (seq: number) => (seq < txnOffset ? seq : seq + 1)
      assert.deepStrictEqual(yield* send(client, idem(lastSeq)), [0, offsetOf(lastSeq)])
      assert.deepStrictEqual(yield* send(client, idem(lastSeq - 2)), [0, offsetOf(lastSeq - 2)])
      assert.strictEqual((yield* send(client, idem(lastSeq + 5)))[0], 45)
      const committed = yield* fetchOne(client, "t", 0, 0, 11, { isolationLevel: 1 })
      assert.deepStrictEqual([Number(committed.highWatermark), Number(committed.lastStableOffset)], [end, txnOffset])
    })
  )

describe("Producer state across restarts", () => {
  it.scopedLive("survives a graceful stop (snapshot) and a SIGKILL (log replay)", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const first = yield* spawnBroker(dir)
      yield* Effect.scoped(
        Effect.gen(function* () {
          const client = yield* connect(first.port)
          yield* createTopic(client, "t", 1)
          for (let s = 0; s < 5; s++) assert.deepStrictEqual(yield* send(client, idem(s)), [0, s])
          assert.deepStrictEqual(yield* send(client, idem(0, true)), [0, 5])
          for (let s = 5; s < 8; s++) assert.deepStrictEqual(yield* send(client, idem(s)), [0, s + 1])
        })
      )
      first.proc.kill("SIGTERM")
      yield* exited(first.proc)
      const partitionDir = path.join(dir, "t-0")
      assert.include(
        fs.readdirSync(partitionDir),
        ProducerState.snapshotFileName(9),
        "a graceful stop snapshots at the log end"
      )
      yield* checkAfterRestart(dir, 7, 5)

      // more batches, then SIGKILL: no snapshot at the end, the state comes from the log
      const second = yield* spawnBroker(dir)
      yield* Effect.scoped(
        Effect.gen(function* () {
          const client = yield* connect(second.port)
          for (let s = 8; s < 12; s++) assert.deepStrictEqual(yield* send(client, idem(s)), [0, s + 1])
        })
      )
      second.proc.kill("SIGKILL")
      yield* exited(second.proc)
      assert.notInclude(fs.readdirSync(partitionDir), ProducerState.snapshotFileName(13))
      yield* checkAfterRestart(dir, 11, 5)
    })
  )
})
