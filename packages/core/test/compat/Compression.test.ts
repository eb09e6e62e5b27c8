/**
 * Real clients and Kafka's compression rules: zstd data written by kcat (librdkafka) read by kafkajs 2.2.4 through
 * Fetch v9 (a broker advertising Fetch 0-9, as Kafka 2.0 did) and by librdkafka with an old Fetch (v0-3, where
 * zstd cannot be down-converted); a topic whose `compression.type` names a codec receiving other codecs from kcat
 * and kafkajs and serving them recompressed to both. The kcat cases are skipped, with a note, where kcat is not
 * installed (`apt-get install -y kcat`; CI installs it).
 */
import * as child from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { CompressionCodecs, CompressionTypes, Kafka, logLevel } from "kafkajs"
import type { AnyHandler } from "../../src/broker/Handler.js"
import * as FetchHandler from "../../src/broker/handlers/fetch.js"
import type * as KafkaApis from "../../src/broker/KafkaApis.js"
import * as Compression from "../../src/protocol/Compression.js"
import * as Fetch from "../../src/protocol/generated/Fetch.js"
import * as RecordBatch from "../../src/protocol/RecordBatch.js"
import { createTopic, fetchOne } from "../broker/produceFetch.js"
import { connect, type RawClient, startBroker, tempDir } from "../broker/util.js"

const hasKcat = child.spawnSync("kcat", ["-V"], { stdio: "ignore" }).status === 0
if (!hasKcat) console.warn("Compression.test.ts: kcat is not installed; skipping the kcat compression tests")

// kafkajs ships gzip only; snappy, lz4 and zstd come from Eddy's own codecs
const codec = (id: number) => () => ({
  compress: async (encoder: { buffer: Buffer }) => Buffer.from(Compression.compress(id, encoder.buffer)),
  decompress: async (buffer: Buffer) => Buffer.from(Compression.decompress(id, buffer))
})
CompressionCodecs[CompressionTypes.Snappy] = codec(Compression.Codec.snappy)
CompressionCodecs[CompressionTypes.LZ4] = codec(Compression.Codec.lz4)
CompressionCodecs[CompressionTypes.ZSTD] = codec(Compression.Codec.zstd)

/** Runs kcat to completion; its stdout. */
const kcat = (args: ReadonlyArray<string>, input?: string) =>
  Effect.async<string, Error>((resume) => {
    const proc = child.execFile("kcat", [...args], { timeout: 30_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) resume(Effect.fail(new Error(`kcat ${args.join(" ")} failed: ${err.message}\n${stderr}`)))
      else resume(Effect.succeed(stdout))
    })
    if (input !== undefined) proc.stdin!.end(input)
    return Effect.sync(() => proc.kill())
  })

/** Runs kcat until `done(stdout, stderr)` holds (or 20 s pass), then stops it; its output so far. */
const kcatUntil = (args: ReadonlyArray<string>, done: (stdout: string, stderr: string) => boolean) =>
  Effect.async<{ readonly stdout: string; readonly stderr: string }>((resume) => {
    const proc = child.spawn("kcat", [...args], { stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    let finished = false
    const finish = () => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      proc.kill()
      resume(Effect.succeed({ stdout, stderr }))
    }
    const timer = setTimeout(finish, 20_000)
    proc.stdout.on("data", (c: Buffer) => {
      stdout += c.toString()
      if (done(stdout, stderr)) finish()
    })
    proc.stderr.on("data", (c: Buffer) => {
      stderr += c.toString()
      if (done(stdout, stderr)) finish()
    })
    proc.on("exit", finish)
    return Effect.sync(() => {
      clearTimeout(timer)
      proc.kill()
    })
  })

/** The Fetch handler capped at `maxVersion`, recording the versions it serves. */
const cappedFetch = (maxVersion: number, seen: Set<number>): AnyHandler<KafkaApis.Requirements> =>
  ({
    ...FetchHandler.handler,
    maxVersion,
    handle: (request: Fetch.FetchRequest, context: Parameters<typeof FetchHandler.handler.handle>[1]) => {
      seen.add(context.apiVersion)
      return FetchHandler.handler.handle(request, context)
    }
  }) as unknown as AnyHandler<KafkaApis.Requirements>

const kafkaFor = (port: number) =>
  new Kafka({
    clientId: "eddy-compat",
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 50 }
  })

interface KafkajsBroker {
  fetch(request: unknown): Promise<{
    responses: Array<{
      partitions: Array<{
        partition: number
        errorCode: number
        messages: Array<{ readonly offset: string; readonly key: Buffer | null; readonly value: Buffer | null }>
      }>
    }>
  }>
}

interface KafkajsCluster {
  connect(): Promise<void>
  disconnect(): Promise<void>
  addTargetTopic(topic: string): Promise<void>
  findLeaderForPartitions(topic: string, partitions: Array<number>): Record<string, Array<number>>
  findBroker(node: { nodeId: string }): Promise<KafkajsBroker>
}

/** kafkajs's cluster (the object its consumer fetches through). */
const clusterOf = (kafka: Kafka): KafkajsCluster => {
  const create = Object.getOwnPropertySymbols(kafka).find((s) => s.description === "private:Kafka:createCluster")
  if (create === undefined) throw new Error("kafkajs cluster factory not found (kafkajs version changed?)")
  return (kafka as unknown as Record<symbol, (o: object) => KafkajsCluster>)[create]!({ allowAutoTopicCreation: false })
}

/** Reads partition 0 of `topic` from the beginning with kafkajs's own fetch path: `key=value` per record. */
const kafkajsRead = (port: number, topic: string, expected: number) =>
  Effect.promise(async () => {
    const cluster = clusterOf(kafkaFor(port))
    await cluster.connect()
    try {
      await cluster.addTargetTopic(topic)
      const out: Array<string> = []
      let next = 0n
      for (let round = 0; round < 100 && out.length < expected; round++) {
        const [nodeId] = Object.keys(cluster.findLeaderForPartitions(topic, [0]))
        const broker = await cluster.findBroker({ nodeId: nodeId! })
        const res = await broker.fetch({
          replicaId: -1,
          isolationLevel: 1,
          maxWaitTime: 50,
          minBytes: 1,
          maxBytes: 10 << 20,
          topics: [{ topic, partitions: [{ partition: 0, fetchOffset: String(next), maxBytes: 1 << 20 }] }]
        })
        for (const p of res.responses[0]?.partitions ?? []) {
          assert.strictEqual(p.errorCode, 0, "kafkajs fetch error")
          for (const m of p.messages) {
            if (BigInt(m.offset) < next) continue
            out.push(`${m.key?.toString() ?? ""}=${m.value?.toString() ?? ""}`)
            next = BigInt(m.offset) + 1n
          }
        }
      }
      return out
    } finally {
      await cluster.disconnect()
    }
  })

/** The codec of every batch of partition 0 of `topic` (Eddy's raw Fetch), each CRC checked. */
const storedCodecs = (client: RawClient, topic: string, version = 12) =>
  Effect.map(fetchOne(client, topic, 0, 0, version), (p) =>
    RecordBatch.headers(p.records!).map(({ position, header }) => {
      assert.isTrue(RecordBatch.isCrcValid(p.records!, position), "stored CRC")
      return RecordBatch.compressionOf(header.attributes)
    })
  )

/** A stored batch: its codec and its records as `key=value`. */
interface StoredBatch {
  readonly codec: number
  readonly records: ReadonlyArray<string>
}

/**
 * Produces `key:value` lines with kcat, one run per codec, to a topic it creates in `dir` on a broker of its own;
 * returns the batches as stored (librdkafka decides the batching, and sends a batch uncompressed when that is
 * smaller, so tests derive what to expect from these).
 */
const writeWithKcat = (dir: string, topic: string, runs: ReadonlyArray<readonly [string, ReadonlyArray<string>]>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const { broker } = yield* startBroker({ dir })
      const client = yield* connect(broker.address.port)
      yield* createTopic(client, topic)
      for (const [codec, ls] of runs) {
        yield* kcat(
          [
            ...["-b", `127.0.0.1:${broker.address.port}`, "-X", "linger.ms=200", "-P", "-t", topic, "-p", "0"],
            ...["-K", ":", "-z", codec]
          ],
          `${ls.join("\n")}\n`
        )
      }
      const p = yield* fetchOne(client, topic, 0, 0, 12)
      return RecordBatch.headers(p.records!).map(
        ({ position, header }): StoredBatch => ({
          codec: RecordBatch.compressionOf(header.attributes),
          records: RecordBatch.decode(p.records!, position).records.map(
            (r) => `${Buffer.from(r.key ?? []).toString()}=${Buffer.from(r.value ?? []).toString()}`
          )
        })
      )
    })
  )

const lines = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}-k${i}:${tag}-v${i}`)
const asRead = (ls: ReadonlyArray<string>) => ls.map((l) => l.replace(":", "="))

describe("compression with real clients", () => {
  it.scopedLive.skipIf(!hasKcat)(
    "kcat writes zstd; kafkajs reads it through Fetch v9, as from a Kafka 2.0 broker",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const sent = lines("zstd", 30)
        const stored = yield* writeWithKcat(dir, "kz", [["zstd", sent]])
        assert.isTrue(
          stored.some((b) => b.codec === 4),
          "kcat wrote zstd"
        )
        // librdkafka writes zstd only to brokers serving Fetch v10, so the capped broker opens the data afterwards
        const seen = new Set<number>()
        const { broker } = yield* startBroker({ dir, withoutApis: [Fetch.apiKey], handlers: [cappedFetch(9, seen)] })
        const client = yield* connect(broker.address.port)
        // Fetch v9 serves them as stored
        assert.deepStrictEqual(
          yield* storedCodecs(client, "kz", 9),
          stored.map((b) => b.codec)
        )
        assert.deepStrictEqual(yield* kafkajsRead(broker.address.port, "kz", sent.length), asRead(sent))
        assert.deepStrictEqual([...seen].sort(), [9], "Fetch versions")
      })
  )

  it.scopedLive.skipIf(!hasKcat)(
    "librdkafka reading through Fetch v0-3 gets the batches before a zstd one, then UNSUPPORTED_COMPRESSION_TYPE",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const gzip = lines("gzip", 5)
        // enough records that librdkafka compresses them (it sends a batch uncompressed when that is smaller)
        const zstd = lines("zstd", 20)
        const stored = yield* writeWithKcat(dir, "old", [
          ["gzip", gzip],
          ["zstd", zstd]
        ])
        const firstZstd = stored.findIndex((b) => b.codec === 4)
        assert.isAbove(firstZstd, 0, "kcat wrote gzip, then zstd")
        const before = stored.slice(0, firstZstd).flatMap((b) => b.records)
        const seen = new Set<number>()
        const { broker } = yield* startBroker({ dir, withoutApis: [Fetch.apiKey], handlers: [cappedFetch(3, seen)] })
        const bootstrap = `127.0.0.1:${broker.address.port}`
        const { stdout, stderr } = yield* kcatUntil(
          ["-b", bootstrap, "-u", "-C", "-t", "old", "-p", "0", "-o", "beginning", "-f", "%k=%s\\n"],
          (out, err) => /compression/i.test(err) && out.trim().split("\n").length >= before.length
        )
        // what precedes the first zstd batch: the gzip records (and any record librdkafka sent uncompressed)
        assert.deepStrictEqual(before.slice(0, gzip.length), asRead(gzip))
        assert.deepStrictEqual(stdout.trim().split("\n"), before)
        assert.match(stderr, /compression/i)
        assert.isTrue(
          [...seen].every((v) => v <= 3),
          `Fetch versions ${[...seen]}`
        )
      })
  )

  it.scopedLive.skipIf(!hasKcat)(
    "a compression.type=gzip topic stores snappy from kcat and lz4 from kafkajs as gzip; both clients read it",
    () =>
      Effect.gen(function* () {
        const { broker } = yield* startBroker()
        const port = broker.address.port
        const bootstrap = `127.0.0.1:${port}`
        const client = yield* connect(port)
        yield* createTopic(client, "gz", 1, { "compression.type": "gzip" })
        const fromKcat = lines("snappy", 25)
        yield* kcat(
          ["-b", bootstrap, "-P", "-t", "gz", "-p", "0", "-K", ":", "-z", "snappy"],
          `${fromKcat.join("\n")}\n`
        )
        const fromKafkajs = lines("lz4", 10)
        yield* Effect.promise(async () => {
          const producer = kafkaFor(port).producer()
          await producer.connect()
          await producer.send({
            topic: "gz",
            compression: CompressionTypes.LZ4,
            messages: fromKafkajs.map((l) => {
              const [key, value] = l.split(":")
              return { key: key!, value: value!, partition: 0 }
            })
          })
          await producer.disconnect()
        })
        const codecs = yield* storedCodecs(client, "gz")
        assert.isAbove(codecs.length, 1)
        assert.isTrue(
          codecs.every((c) => c === 1),
          `stored codecs ${codecs}`
        )
        const expected = [...asRead(fromKcat), ...asRead(fromKafkajs)]
        assert.deepStrictEqual(yield* kafkajsRead(port, "gz", expected.length), expected)
        const out = yield* kcat([
          "-b",
          bootstrap,
          "-X",
          "check.crcs=true",
          "-C",
          "-t",
          "gz",
          "-p",
          "0",
          "-o",
          "beginning",
          "-e",
          "-f",
          "%k=%s\\n"
        ])
        assert.deepStrictEqual(out.trim().split("\n"), expected)
      })
  )

  it.scopedLive.skipIf(!hasKcat)(
    "an idempotent librdkafka producer's lz4 batches stored as zstd keep their producer fields; kcat reads them",
    () =>
      Effect.gen(function* () {
        const { broker } = yield* startBroker()
        const bootstrap = `127.0.0.1:${broker.address.port}`
        const client = yield* connect(broker.address.port)
        yield* createTopic(client, "idem", 1, { "compression.type": "zstd" })
        const sent = lines("idem", 40)
        yield* kcat(
          ["-b", bootstrap, "-X", "enable.idempotence=true", "-P", "-t", "idem", "-p", "0", "-K", ":", "-z", "lz4"],
          `${sent.join("\n")}\n`
        )
        const p = yield* fetchOne(client, "idem", 0, 0, 12)
        const batches = RecordBatch.headers(p.records!)
        assert.isAbove(batches.length, 0)
        for (const { header } of batches) {
          assert.strictEqual(RecordBatch.compressionOf(header.attributes), 4)
          assert.isAtLeast(header.producerId, 0)
          assert.isAtLeast(header.baseSequence, 0)
        }
        const out = yield* kcat([
          "-b",
          bootstrap,
          "-X",
          "check.crcs=true",
          "-C",
          "-t",
          "idem",
          "-p",
          "0",
          "-o",
          "beginning",
          "-e",
          "-f",
          "%k=%s\\n"
        ])
        assert.deepStrictEqual(out.trim().split("\n"), asRead(sent))
      })
  )
})
