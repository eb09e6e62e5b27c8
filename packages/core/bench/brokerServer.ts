/**
 * The servers of `broker.bench.ts`, each in its own process so that the load generator does not share
 * an event loop with them:
 * - `broker <dataDir> [settings]`: an Eddy broker on 127.0.0.1, port 0, with extra broker settings given
 *   as a JSON object (`{"metrics.port":"0"}`); it prints `METRICS <port>` too when it serves metrics;
 * - `baseline <file>`: a plain Node.js server that appends every received frame to a file and answers
 *   each with an 8-byte frame (the raw socket-to-file floor a broker is compared with);
 * - `relay <file>`: the end-to-end latency floor: a plain Node.js server using only the generated
 *   codecs that appends each Produce's records to a file (one async write, in order), answers it, and
 *   hands the records to parked Fetches from memory (no log, no index, no actor, no Effect).
 * Each prints `LISTENING <port>` and exits on SIGTERM.
 */
import * as fs from "node:fs"
import * as net from "node:net"
import { Context, Effect, Fiber, Layer, Logger, LogLevel } from "effect"
import * as Broker from "../src/broker/Broker.js"
import * as BrokerConfig from "../src/broker/BrokerConfig.js"
import { decodeRequestFrame, encodeResponseFrame, FrameDecoder } from "../src/protocol/Frame.js"
import { decodeRequest } from "../src/protocol/generated/ApiKey.js"
import * as CreateTopics from "../src/protocol/generated/CreateTopics.js"
import * as Fetch from "../src/protocol/generated/Fetch.js"
import * as Produce from "../src/protocol/generated/Produce.js"
import * as RecordBatch from "../src/protocol/RecordBatch.js"

const [mode, target, settings] = process.argv.slice(2)

if (mode === "baseline") {
  const fd = fs.openSync(target!, "a")
  const server = net.createServer({ noDelay: true }, (socket) => {
    // frames are cut without copying when a chunk holds them whole, else gathered once
    let chunks: Array<Buffer> = []
    let buffered = 0
    let need = -1
    let chain: Promise<void> = Promise.resolve()
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk)
      buffered += chunk.length
      const frames: Array<Buffer> = []
      for (;;) {
        if (need < 0) {
          if (buffered < 4) break
          const head = chunks[0]!.length >= 4 ? chunks[0]! : Buffer.concat(chunks)
          need = 4 + head.readInt32BE(0)
        }
        if (buffered < need) break
        const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, buffered)
        frames.push(all.subarray(0, need))
        const rest = all.subarray(need)
        chunks = rest.length > 0 ? [rest] : []
        buffered = rest.length
        need = -1
      }
      if (frames.length === 0) return
      chain = chain.then(
        () =>
          new Promise<void>((resolve) => {
            fs.writev(fd, frames, () => {
              const acks = Buffer.alloc(8 * frames.length)
              frames.forEach((f, i) => {
                acks.writeInt32BE(4, i * 8)
                acks.writeInt32BE(f.readInt32BE(8), i * 8 + 4) // the request's correlation id
              })
              socket.write(acks)
              resolve()
            })
          })
      )
    })
    socket.on("error", () => {})
  })
  server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`LISTENING ${(server.address() as net.AddressInfo).port}\n`)
  })
  process.on("SIGTERM", () => process.exit(0))
} else if (mode === "relay") {
  const fd = fs.openSync(target!, "a")
  // one partition: batches with their assigned base offsets, and the fetches waiting for more
  const batches: Array<{ readonly baseOffset: number; readonly next: number; readonly bytes: Buffer }> = []
  let logEnd = 0
  let parked: Array<() => void> = []
  let chain: Promise<void> = Promise.resolve()
  const server = net.createServer({ noDelay: true }, (socket) => {
    const decoder = new FrameDecoder({ maxFrameSize: 1 << 30 })
    // responses leave in request order: each request gets a slot filled when it is answered
    const slots: Array<{ out: Uint8Array | undefined }> = []
    const flush = () => {
      while (slots.length > 0 && slots[0]!.out !== undefined) socket.write(slots.shift()!.out!)
    }
    const answer = (slot: { out: Uint8Array | undefined }, out: Uint8Array) => {
      slot.out = out
      flush()
    }
    socket.on("data", (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        const { header, body } = decodeRequestFrame(frame)
        const { requestApiKey: key, requestApiVersion: version, correlationId } = header
        const slot: { out: Uint8Array | undefined } = { out: undefined }
        slots.push(slot)
        if (key === CreateTopics.apiKey) {
          const req = decodeRequest(CreateTopics.apiKey, version, body)
          const topics = req.topics.map((t) =>
            CreateTopics.makeCreateTopicsResponseCreatableTopicResult({ name: t.name })
          )
          answer(
            slot,
            encodeResponseFrame(
              CreateTopics.apiKey,
              version,
              correlationId,
              CreateTopics.makeCreateTopicsResponse({ topics })
            )
          )
        } else if (key === Produce.apiKey) {
          const req = decodeRequest(Produce.apiKey, version, body)
          const t = req.topicData[0]!
          const records = Buffer.from(t.partitionData[0]!.records!)
          const baseOffset = logEnd
          logEnd += RecordBatch.readHeader(records).lastOffsetDelta + 1
          RecordBatch.setBaseOffset(records, 0, baseOffset)
          chain = chain.then(
            () =>
              new Promise<void>((resolve) =>
                fs.write(fd, records, () => {
                  batches.push({
                    baseOffset,
                    next: baseOffset + RecordBatch.readHeader(records).lastOffsetDelta + 1,
                    bytes: records
                  })
                  const responses = [
                    Produce.makeProduceResponseTopicProduceResponse({
                      name: t.name,
                      partitionResponses: [
                        Produce.makeProduceResponsePartitionProduceResponse({
                          index: 0,
                          baseOffset: BigInt(baseOffset)
                        })
                      ]
                    })
                  ]
                  answer(
                    slot,
                    encodeResponseFrame(
                      Produce.apiKey,
                      version,
                      correlationId,
                      Produce.makeProduceResponse({ responses })
                    )
                  )
                  const wake = parked
                  parked = []
                  for (const w of wake) w()
                  resolve()
                })
              )
          )
        } else if (key === Fetch.apiKey) {
          const req = decodeRequest(Fetch.apiKey, version, body)
          const topic = req.topics[0]!
          const offset = Number(topic.partitions[0]!.fetchOffset)
          let timer: NodeJS.Timeout | undefined
          const respond = () => {
            if (timer !== undefined) clearTimeout(timer)
            const found = batches.filter((b) => b.next > offset)
            const records = Buffer.concat(found.map((b) => b.bytes))
            const high = batches.length === 0 ? 0 : batches[batches.length - 1]!.next
            const partitions = [
              Fetch.makeFetchResponsePartitionData({
                partitionIndex: 0,
                highWatermark: BigInt(high),
                lastStableOffset: BigInt(high),
                records
              })
            ]
            const responses = [Fetch.makeFetchResponseFetchableTopicResponse({ topic: topic.topic, partitions })]
            answer(
              slot,
              encodeResponseFrame(Fetch.apiKey, version, correlationId, Fetch.makeFetchResponse({ responses }))
            )
          }
          if (batches.length > 0 && batches[batches.length - 1]!.next > offset) respond()
          else {
            parked.push(respond)
            timer = setTimeout(() => {
              parked = parked.filter((w) => w !== respond)
              respond()
            }, req.maxWaitMs)
          }
        } else socket.destroy()
      }
    })
    socket.on("error", () => {})
  })
  server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`LISTENING ${(server.address() as net.AddressInfo).port}\n`)
  })
  process.on("SIGTERM", () => process.exit(0))
} else {
  const main = Effect.gen(function* () {
    const config = yield* BrokerConfig.make({
      listeners: "PLAINTEXT://127.0.0.1:0",
      "log.dirs": target!,
      ...(settings === undefined ? {} : (JSON.parse(settings) as Record<string, string>))
    })
    const context = yield* Layer.build(Broker.layer(config, { drainTimeoutMs: 2000 }))
    const broker = Context.get(context, Broker.Broker)
    if (broker.metricsAddress !== undefined) process.stdout.write(`METRICS ${broker.metricsAddress.port}\n`)
    process.stdout.write(`LISTENING ${broker.address.port}\n`)
    return yield* Effect.never
  }).pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Warning))
  const fiber = Effect.runFork(main)
  process.on("SIGTERM", () => {
    Effect.runPromise(Fiber.interrupt(fiber)).then(
      () => process.exit(0),
      () => process.exit(1)
    )
  })
}
