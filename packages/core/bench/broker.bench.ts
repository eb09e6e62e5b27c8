/**
 * The broker's produce/fetch path, end to end over loopback, next to a raw Node.js socket-to-file
 * baseline run in the same session. Servers run in child processes (bench/brokerServer.ts); this
 * process only generates load.
 *
 * - produce throughput of pre-encoded 1 MiB Produce v7 requests (4 partitions x 256 KiB batches of
 *   100 B or 1 KiB records), acks=1 and acks=all, 16 requests in flight, vs the baseline server; and of
 *   requests holding one 16 KiB batch (the Java client's default batch.size), the per-request cost;
 * - produce throughput with kafkajs 2.2.4 (batches of 1000 messages, 4 sends in flight);
 * - consume throughput from the beginning with a raw Fetch v11 driver;
 * - end-to-end latency at 1,000 msgs/s (one 100 B record per Produce, acks=1; a long-polling
 *   consumer on another connection), p50/p99/p99.9 over 5 s after a 1 s warm-up, beside the same
 *   load against the relay floor (a raw Node.js server: produce -> file write -> parked fetch).
 * Goals: ingest >= 0.6x the baseline; p99 end-to-end <= 1 ms.
 */
import * as child from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Kafka, logLevel } from "kafkajs"
import { decodeResponseFrame, encodeRequestFrame, FrameDecoder } from "../src/protocol/Frame.js"
import type { ApiKey, RequestTypes, ResponseTypes } from "../src/protocol/generated/ApiKey.js"
import * as CreateTopics from "../src/protocol/generated/CreateTopics.js"
import * as Fetch from "../src/protocol/generated/Fetch.js"
import * as Produce from "../src/protocol/generated/Produce.js"
import * as RecordBatch from "../src/protocol/RecordBatch.js"

const MiB = 1 << 20
export const PARTITIONS = 4
const REQUEST_BYTES = MiB
const VOLUME = Number(process.env.EDDY_BENCH_MIB ?? 192) * MiB
const WINDOW = 16
const here = path.dirname(fileURLToPath(import.meta.url))

/** A server process of `brokerServer.ts`. */
export interface Server {
  readonly port: number
  /** The metrics endpoint's port, when the broker serves one. */
  readonly metricsPort: number | undefined
  /** The process id (to read its CPU time). */
  readonly pid: number
  readonly stop: () => Promise<void>
}

/** Starts a `brokerServer.ts` process; `settings` are extra broker settings. */
export const spawnServer = (
  mode: "broker" | "baseline" | "relay",
  target: string,
  settings?: Record<string, string>
): Promise<Server> =>
  new Promise((resolve, reject) => {
    // EDDY_BENCH_SERVER_FLAGS: extra node/V8 flags for every server process (e.g. GC settings), space-separated
    const flags = (process.env.EDDY_BENCH_SERVER_FLAGS ?? "").split(" ").filter((f) => f.length > 0)
    const proc = child.spawn(
      process.execPath,
      [
        ...flags,
        "--import",
        "tsx",
        path.join(here, "brokerServer.ts"),
        mode,
        target,
        ...(settings === undefined ? [] : [JSON.stringify(settings)])
      ],
      { stdio: ["ignore", "pipe", "inherit"] }
    )
    let out = ""
    proc.stdout!.on("data", (c: Buffer) => {
      out += c.toString()
      const m = /LISTENING (\d+)/.exec(out)
      if (m) {
        const metrics = /METRICS (\d+)/.exec(out)
        resolve({
          port: Number(m[1]),
          metricsPort: metrics === null ? undefined : Number(metrics[1]),
          pid: proc.pid!,
          stop: () =>
            new Promise((done) => {
              proc.once("exit", () => done())
              proc.kill("SIGTERM")
            })
        })
      }
    })
    proc.once("exit", (code) => reject(new Error(`${mode} server exited (${code})`)))
  })

/** A pipelined raw connection: responses are matched to requests in order. */
export class Conn {
  private readonly waiters: Array<(frame: Uint8Array) => void> = []
  private readonly decoder = new FrameDecoder({ maxFrameSize: 1 << 30 })
  private corr = 0
  private constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      for (const f of this.decoder.push(chunk)) this.waiters.shift()!(f)
    })
  }
  static open(port: number): Promise<Conn> {
    return new Promise((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port, noDelay: true }, () => resolve(new Conn(s)))
    })
  }
  /** Writes a pre-encoded frame; resolves with the response frame. */
  raw(frame: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve) => {
      this.waiters.push(resolve)
      this.socket.write(frame)
    })
  }
  async send<K extends ApiKey>(apiKey: K, version: number, body: RequestTypes[K]): Promise<ResponseTypes[K]> {
    const frame = await this.raw(encodeRequestFrame(apiKey, version, ++this.corr, "bench", body))
    return decodeResponseFrame(apiKey, version, frame).body
  }
  close(): void {
    this.socket.destroy()
  }
}

/** Creates `name` with {@link PARTITIONS} partitions. */
export const createTopic = async (conn: Conn, name: string) => {
  const res = await conn.send(
    19,
    4,
    CreateTopics.makeCreateTopicsRequest({
      timeoutMs: 5000,
      topics: [
        CreateTopics.makeCreateTopicsRequestCreatableTopic({ name, numPartitions: PARTITIONS, replicationFactor: 1 })
      ]
    })
  )
  if (res.topics[0]!.errorCode !== 0) throw new Error(`CreateTopics failed: ${res.topics[0]!.errorCode}`)
}

const recordBatch = (recordSize: number, bytes: number): Buffer => {
  const count = Math.max(1, Math.floor(bytes / (recordSize + 12)))
  const value = Buffer.alloc(recordSize, 0x61)
  return RecordBatch.encode(Array.from({ length: count }, () => ({ value })))
}

/**
 * A pre-encoded Produce v7 request of ~1 MiB over all partitions, or (`small`) one 16 KiB batch (the Java
 * client's default `batch.size`) for partition 0.
 */
/** A pre-encoded Produce v7 request of 1 MiB (4 partitions) or, when `small`, one 16 KiB batch. */
export const produceFrame = (topic: string, recordSize: number, acks: number, small = false) => {
  const partitions = small ? 1 : PARTITIONS
  const batch = recordBatch(recordSize, small ? 16 * 1024 : REQUEST_BYTES / PARTITIONS)
  const records = RecordBatch.readHeader(batch).recordCount * partitions
  const frame = encodeRequestFrame(
    0,
    7,
    1,
    "bench",
    Produce.makeProduceRequest({
      acks,
      timeoutMs: 30000,
      topicData: [
        {
          name: topic,
          partitionData: Array.from({ length: partitions }, (_, index) => ({ index, records: Buffer.from(batch) }))
        }
      ]
    })
  )
  return { frame, records }
}

/** Sends `count` copies of `frame` with WINDOW in flight; returns seconds elapsed. */
/** Sends `frame` `count` times, {@link WINDOW} in flight; returns the seconds taken. */
export const drive = async (conn: Conn, frame: Uint8Array, count: number): Promise<number> => {
  const t0 = performance.now()
  let sent = 0
  let done = 0
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (sent < count && sent - done < WINDOW) {
        sent++
        conn.raw(frame).then(() => {
          done++
          if (done === count) resolve()
          else pump()
        })
      }
    }
    pump()
  })
  return (performance.now() - t0) / 1000
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })

const rows: Array<Array<string>> = []
const row = (...cells: Array<string>) => {
  rows.push(cells)
  console.log(`| ${cells.join(" | ")} |`)
}

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

/**
 * One 100 B record per Produce (acks=1) at 1,000 msgs/s on one connection, a long-polling Fetch v11
 * consumer on another; 1 s of warm-up, then 5 s measured. Returns sorted end-to-end latencies (produce
 * call to fetch response, same clock) and sorted produce acknowledgement times, in ms.
 */
const latency = async (port: number): Promise<{ readonly e2e: Array<number>; readonly acks: Array<number> }> => {
  const topic = "latency"
  const admin = await Conn.open(port)
  await createTopic(admin, topic)
  admin.close()
  const producerConn = await Conn.open(port)
  const consumerConn = await Conn.open(port)
  const latencies: Array<number> = []
  const acks: Array<number> = []
  const total = 5000
  // the first second warms the path up (JIT, buffers) and is not measured
  const warmup = 1000
  let stop = false
  const consumer = (async () => {
    let offset = 0n
    while (!stop) {
      const res = await consumerConn.send(
        1,
        11,
        Fetch.makeFetchRequest({
          replicaId: -1,
          maxWaitMs: 500,
          minBytes: 1,
          maxBytes: MiB,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [
            {
              topic,
              topicId: new Uint8Array(16),
              partitions: [
                Fetch.makeFetchRequestFetchPartition({ partition: 0, fetchOffset: offset, partitionMaxBytes: MiB })
              ]
            }
          ]
        })
      )
      const now = performance.now()
      const recs = res.responses[0]!.partitions[0]!.records
      if (recs === null || recs.length === 0) continue
      for (const { position, header } of RecordBatch.headers(recs)) {
        for (const r of RecordBatch.decode(recs, position).records) {
          if (BigInt(r.offset) < offset) continue
          if (r.offset >= warmup) latencies.push(now - Buffer.from(r.value!).readDoubleBE(0))
        }
        offset = BigInt(header.baseOffset + header.lastOffsetDelta + 1)
      }
    }
  })()
  const value = Buffer.alloc(100)
  const produce = (i: number, timeoutMs: number) => {
    const sent = performance.now()
    value.writeDoubleBE(sent, 0)
    const frame = encodeRequestFrame(
      0,
      7,
      i,
      "bench",
      Produce.makeProduceRequest({
        acks: 1,
        timeoutMs,
        topicData: [{ name: topic, partitionData: [{ index: 0, records: RecordBatch.encode([{ value }]) }] }]
      })
    )
    return producerConn.raw(frame).then(() => {
      if (i >= warmup) acks.push(performance.now() - sent)
    })
  }
  const t0 = performance.now()
  for (let i = 0; i < warmup + total; i++) {
    const wait = t0 + i - performance.now()
    // timers are 1 ms grained: wait when ahead, send at once when behind (1,000 msgs/s on average, no spinning)
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    void produce(i, 30000)
  }
  while (latencies.length < total) await new Promise((r) => setTimeout(r, 10))
  stop = true
  // one more record wakes the consumer's last long poll
  await produce(-1, 1000)
  await consumer
  producerConn.close()
  consumerConn.close()
  return {
    e2e: latencies.slice(0, total).sort((a, b) => a - b),
    acks: acks.slice(0, total).sort((a, b) => a - b)
  }
}

export const run = async (): Promise<void> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "eddy-bench-broker-"))
  const baseline = await spawnServer("baseline", path.join(dir, "baseline.log"))
  const broker = await spawnServer("broker", path.join(dir, "data"))
  try {
    console.log("| case | requests | MB/s | records/s | vs baseline |")
    console.log("| --- | --- | --- | --- | --- |")
    const count = Math.round(VOLUME / REQUEST_BYTES)

    // baseline: the same 1 KiB-record frames, appended to a file
    const bconn = await Conn.open(baseline.port)
    const baselineOf = async (frame: Uint8Array, records: number, n: number, label: string) => {
      await drive(bconn, frame, 8)
      const secs = await drive(bconn, frame, n)
      const mbs = (n * frame.length) / MiB / secs
      row(label, String(n), fmt(mbs), fmt((n * records) / secs), "1.00x")
      return mbs
    }
    const sample = produceFrame("t", 1024, 1)
    const baselineMBs = await baselineOf(sample.frame, sample.records, count, "raw socket-to-file baseline")

    const conn = await Conn.open(broker.port)
    const eddy = async (_topic: string, frame: Uint8Array, records: number, n: number, label: string, base: number) => {
      await drive(conn, frame, 8)
      const secs = await drive(conn, frame, n)
      const mbs = (n * frame.length) / MiB / secs
      row(label, String(n), fmt(mbs), fmt((n * records) / secs), `${fmt(mbs / base, 2)}x`)
    }
    for (const recordSize of [100, 1024]) {
      for (const acks of [1, -1]) {
        const topic = `p${recordSize}-${acks === 1 ? "1" : "all"}`
        await createTopic(conn, topic)
        const { frame, records } = produceFrame(topic, recordSize, acks)
        await eddy(
          topic,
          frame,
          records,
          count,
          `Eddy produce ${recordSize} B, acks=${acks === 1 ? "1" : "all"} (pre-encoded)`,
          baselineMBs
        )
      }
    }
    // small requests: the broker's cost per request and per batch, beside the baseline with the same frames
    const smallCount = Math.round(VOLUME / 4 / (16 * 1024))
    const smallSample = produceFrame("t", 1024, 1, true)
    const smallBaseline = await baselineOf(
      smallSample.frame,
      smallSample.records,
      smallCount,
      "raw socket-to-file baseline, 16 KiB requests"
    )
    bconn.close()
    for (const acks of [1, -1]) {
      const topic = `small-${acks === 1 ? "1" : "all"}`
      await createTopic(conn, topic)
      const { frame, records } = produceFrame(topic, 1024, acks, true)
      await eddy(
        topic,
        frame,
        records,
        smallCount,
        `Eddy produce 1024 B, acks=${acks === 1 ? "1" : "all"}, one 16 KiB batch per request (pre-encoded)`,
        smallBaseline
      )
    }

    // kafkajs producer
    const kafka = new Kafka({ clientId: "bench", brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING })
    const admin = kafka.admin()
    await admin.connect()
    const producer = kafka.producer({ allowAutoTopicCreation: false })
    await producer.connect()
    for (const recordSize of [100, 1024]) {
      const topic = `kjs${recordSize}`
      await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] })
      const value = Buffer.alloc(recordSize, 0x62)
      const messages = Array.from({ length: 1000 }, (_, i) => ({ value, partition: i % PARTITIONS }))
      const sends = recordSize === 100 ? 200 : 100
      const t0 = performance.now()
      let next = 0
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next++ < sends) await producer.send({ topic, acks: 1, messages })
        })
      )
      const secs = (performance.now() - t0) / 1000
      const total = sends * 1000
      row(
        `kafkajs produce ${recordSize} B, acks=1`,
        `${sends} x 1000 msgs`,
        fmt((total * recordSize) / MiB / secs),
        fmt(total / secs),
        "-"
      )
    }
    await producer.disconnect()
    await admin.disconnect()

    // consume from the beginning (the 1 KiB acks=1 topic)
    {
      const topic = "p1024-1"
      const offsets = new Array<bigint>(PARTITIONS).fill(0n)
      const ends = new Array<bigint>(PARTITIONS).fill(-1n)
      let bytes = 0
      let records = 0
      const t0 = performance.now()
      for (;;) {
        const res = await conn.send(
          1,
          11,
          Fetch.makeFetchRequest({
            replicaId: -1,
            maxWaitMs: 0,
            minBytes: 0,
            maxBytes: 16 * MiB,
            sessionId: 0,
            sessionEpoch: -1,
            topics: [
              {
                topic,
                topicId: new Uint8Array(16),
                partitions: offsets.map((o, partition) =>
                  Fetch.makeFetchRequestFetchPartition({ partition, fetchOffset: o, partitionMaxBytes: 4 * MiB })
                )
              }
            ]
          })
        )
        for (const p of res.responses[0]!.partitions) {
          ends[p.partitionIndex] = p.highWatermark
          const recs = p.records
          if (recs === null || recs.length === 0) continue
          bytes += recs.length
          for (const { header } of RecordBatch.headers(recs)) {
            records += header.recordCount
            offsets[p.partitionIndex] = BigInt(header.baseOffset + header.lastOffsetDelta + 1)
          }
        }
        if (offsets.every((o, i) => o >= ends[i]!)) break
      }
      const secs = (performance.now() - t0) / 1000
      row("Eddy consume 1 KiB from the beginning (Fetch v11)", "-", fmt(bytes / MiB / secs), fmt(records / secs), "-")
    }
    conn.close()

    // end-to-end latency at 1,000 msgs/s, Eddy beside the relay floor (started only now, so that it
    // does not sit idle through the throughput phase)
    const relay = await spawnServer("relay", path.join(dir, "relay.log"))
    try {
      console.log("")
      console.log(
        "| end-to-end latency at 1,000 msgs/s (100 B, acks=1) | p50 ms | p99 ms | p99.9 ms | max ms | produce ack p50 | ack p99 |"
      )
      console.log("| --- | --- | --- | --- | --- | --- | --- |")
      for (const [name, port] of [
        ["raw relay floor (bench/brokerServer.ts relay)", relay.port],
        ["Eddy", broker.port]
      ] as const) {
        const { e2e, acks } = await latency(port)
        console.log(
          `| ${name} | ${fmt(percentile(e2e, 50), 3)} | ${fmt(percentile(e2e, 99), 3)} | ${fmt(percentile(e2e, 99.9), 3)} | ${fmt(e2e[e2e.length - 1]!, 3)} | ${fmt(percentile(acks, 50), 3)} | ${fmt(percentile(acks, 99), 3)} |`
        )
      }
    } finally {
      await relay.stop()
    }
  } finally {
    await broker.stop()
    await baseline.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
