/**
 * The high-watermark checkpoint (`replication-offset-checkpoint`): its text layout (round trip, malformed files), and
 * a real broker over a real data directory writing it every `replica.high.watermark.checkpoint.interval.ms` (driven by
 * the TestClock), at clean shutdown, without deleted partitions, and starting with a warning over a malformed one.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, FastCheck, Logger, Scope, TestClock } from "effect"
import * as HwCheckpoint from "../../src/broker/internal/hwCheckpoint.js"
import { ReplicaManager } from "../../src/broker/ReplicaManager.js"
import * as Disk from "../../src/log/internal/disk.js"
import * as DeleteTopics from "../../src/protocol/generated/DeleteTopics.js"
import { batch, createTopic, fetchOne, produce } from "./produceFetch.js"
import { connect, startBroker, tempDir } from "./util.js"

/** Lets real socket I/O happen (the broker's timers run on the test's TestClock, not on this). */
const realPause = (ms: number) => Effect.promise(() => new Promise<void>((r) => setTimeout(r, ms)))

const checkpointOf = (dir: string): string | undefined => {
  try {
    return fs.readFileSync(path.join(dir, HwCheckpoint.FILE), "utf8")
  } catch {
    return undefined
  }
}

/** One checkpoint interval of TestClock time, then a real pause for the file I/O it starts. */
const tick = Effect.zipRight(TestClock.adjust(5000), realPause(50))

/** Runs intervals until `dir`'s checkpoint reads `expected` (at most 100). */
const awaitCheckpoint = (dir: string, expected: string) =>
  Effect.gen(function* () {
    for (let i = 0; i < 100 && checkpointOf(dir) !== expected; i++) yield* tick
    assert.strictEqual(checkpointOf(dir), expected)
  })

/** A broker over `dir` in a scope of its own (closing it is a clean shutdown). */
const startNode = (dir: string, logger?: Logger.Logger<unknown, void>) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const start = startBroker({ dir }).pipe(Scope.extend(scope))
    const node = yield* logger === undefined
      ? start
      : start.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
    const client = yield* connect(node.broker.address.port).pipe(Scope.extend(scope))
    return { scope, client, replicas: Context.get(node.context, ReplicaManager) }
  })

const topicName = FastCheck.stringMatching(/^[a-zA-Z0-9._-]{1,40}$/)
const entry = FastCheck.record({
  topic: topicName,
  partition: FastCheck.integer({ min: 0, max: 100_000 }),
  offset: FastCheck.maxSafeNat()
})

describe("replication-offset-checkpoint format", () => {
  it.prop("encode then decode gives the entries back", [FastCheck.array(entry, { maxLength: 50 })], ([entries]) => {
    const decoded = HwCheckpoint.decode(HwCheckpoint.encode(entries))
    assert.deepStrictEqual(decoded, { entries })
  })

  it("is Kafka's layout: version, count, one line per partition", () => {
    assert.strictEqual(
      HwCheckpoint.encode([
        { topic: "a", partition: 0, offset: 5 },
        { topic: "b.c", partition: 12, offset: 0 }
      ]),
      "0\n2\na 0 5\nb.c 12 0\n"
    )
    assert.deepStrictEqual(HwCheckpoint.decode("0\n0\n"), { entries: [] })
  })

  it("refuses malformed text", () => {
    for (const text of [
      "",
      "1\n0\n",
      "0\n",
      "0\nx\n",
      "0\n2\na 0 5\n",
      "0\n1\na 0 5\nb 1 2\n",
      "0\n1\na 0\n",
      "0\n1\na 0 5 6\n",
      "0\n1\na -1 5\n",
      "0\n1\na 0 -5\n",
      "0\n1\na 0 1.5\n",
      "0\n1\n 0 5\n",
      "0\n1\na 0 99999999999999999999\n"
    ]) {
      assert.isTrue("malformed" in HwCheckpoint.decode(text), JSON.stringify(text))
    }
  })
})

describe("high-watermark checkpoint of a broker", () => {
  it.scoped(
    "is written every interval when a high watermark changed, at clean shutdown, and forgets deleted topics",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const node = yield* startNode(dir)
        yield* createTopic(node.client, "a", 2)
        yield* createTopic(node.client, "b", 1)
        yield* produce(node.client, "a", 1, batch(["x", "y"]))
        yield* produce(node.client, "b", 0, batch(["z"]))
        yield* TestClock.adjust(4999)
        yield* realPause(50)
        assert.strictEqual(checkpointOf(dir), undefined, "written before the interval")
        yield* awaitCheckpoint(dir, "0\n3\na 0 0\na 1 2\nb 0 1\n")
        // nothing changed: not written again
        fs.writeFileSync(path.join(dir, HwCheckpoint.FILE), "left alone")
        yield* tick
        yield* tick
        assert.strictEqual(checkpointOf(dir), "left alone")
        // a deleted topic leaves the next write
        const deleted = yield* node.client.send(20, 4, DeleteTopics.makeDeleteTopicsRequest({ topicNames: ["b"] }))
        assert.strictEqual(deleted.responses[0]!.errorCode, 0)
        yield* awaitCheckpoint(dir, "0\n2\na 0 0\na 1 2\n")
        // a clean shutdown writes the last high watermarks without waiting for the interval
        yield* produce(node.client, "a", 0, batch(["p", "q", "r"]))
        yield* Scope.close(node.scope, Exit.void)
        assert.strictEqual(checkpointOf(dir), "0\n2\na 0 3\na 1 2\n")
      })
  )

  it.scoped("a single node restarted from its checkpoint serves from its log end, as its partitions' sole leader", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const first = yield* startNode(dir)
      yield* createTopic(first.client, "s", 1)
      yield* produce(first.client, "s", 0, batch(["a", "b"]))
      yield* Scope.close(first.scope, Exit.void)
      // a high watermark below the log end (records written after the last checkpoint)
      fs.writeFileSync(path.join(dir, HwCheckpoint.FILE), "0\n1\ns 0 1\n")
      const back = yield* startNode(dir)
      const replica = back.replicas.get("s", 0)!
      assert.isTrue(replica.isLeader())
      assert.strictEqual(replica.highWatermark(), 2)
      assert.strictEqual((yield* fetchOne(back.client, "s", 0, 0)).highWatermark, 2n)
      yield* Scope.close(back.scope, Exit.void)
    })
  )

  it.scoped("a malformed checkpoint is a warning: the broker starts and its partitions start from their logs", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const first = yield* startNode(dir)
      yield* createTopic(first.client, "m", 1)
      yield* produce(first.client, "m", 0, batch(["a", "b", "c"]))
      yield* Scope.close(first.scope, Exit.void)
      fs.writeFileSync(path.join(dir, HwCheckpoint.FILE), "0\n7\nm zero 3\n")
      const warnings: Array<string> = []
      const logger = Logger.make(({ logLevel, message }) => {
        if (logLevel._tag === "Warning") warnings.push(Array.isArray(message) ? message.join(" ") : String(message))
      })
      const back = yield* startNode(dir, logger)
      assert.isTrue(
        warnings.some((w) => w.includes("malformed") && w.includes(HwCheckpoint.FILE)),
        warnings.join("\n")
      )
      assert.strictEqual((yield* produce(back.client, "m", 0, batch(["d"]))).errorCode, 0)
      assert.strictEqual(back.replicas.get("m", 0)!.highWatermark(), 4)
      // the next write replaces it
      yield* Scope.close(back.scope, Exit.void)
      assert.strictEqual(checkpointOf(dir), "0\n1\nm 0 4\n")
    })
  )

  it.effect("reading a missing file in an empty data directory says nothing", () =>
    Effect.gen(function* () {
      const warnings: Array<string> = []
      const logger = Logger.make(({ message }) => {
        warnings.push(String(message))
      })
      const disk = Disk.memory()
      yield* disk.mkdir("/d")
      const read = yield* HwCheckpoint.read(disk, "/d", false).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, logger))
      )
      assert.strictEqual(read.size, 0)
      assert.deepStrictEqual(warnings, [])
      yield* HwCheckpoint.read(disk, "/d", true).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      assert.strictEqual(warnings.length, 1)
    })
  )
})
