/**
 * Throughput of the generated codecs on large messages: a 1 MiB Produce request (v7 and v9) and a 1 MiB Fetch
 * response (v11 and v12), encode and decode, in MB/s. The record bytes are opaque (the codecs never look inside).
 */
import * as Fetch from "../src/protocol/generated/Fetch.js"
import * as Produce from "../src/protocol/generated/Produce.js"
import { Reader } from "../src/protocol/Reader.js"
import { Writer } from "../src/protocol/Writer.js"

const MiB = 1 << 20
const PARTITIONS = 4

const recordBytes = (size: number): Uint8Array => {
  const b = new Uint8Array(size)
  for (let i = 0; i < size; i++) b[i] = (i * 31) & 0xff
  return b
}

const produceRequest = (): Produce.ProduceRequest =>
  Produce.makeProduceRequest({
    acks: -1,
    timeoutMs: 30000,
    topicData: [
      Produce.makeProduceRequestTopicProduceData({
        name: "bench-topic",
        partitionData: Array.from({ length: PARTITIONS }, (_, index) =>
          Produce.makeProduceRequestPartitionProduceData({ index, records: recordBytes(MiB / PARTITIONS) })
        )
      })
    ]
  })

const fetchResponse = (): Fetch.FetchResponse =>
  Fetch.makeFetchResponse({
    responses: [
      Fetch.makeFetchResponseFetchableTopicResponse({
        topic: "bench-topic",
        partitions: Array.from({ length: PARTITIONS }, (_, partitionIndex) =>
          Fetch.makeFetchResponsePartitionData({
            partitionIndex,
            highWatermark: 1_000_000n,
            lastStableOffset: 1_000_000n,
            logStartOffset: 0n,
            records: recordBytes(MiB / PARTITIONS)
          })
        )
      })
    ]
  })

interface Case<T> {
  readonly name: string
  readonly value: T
  readonly version: number
  readonly encode: (w: Writer, v: T, version: number) => void
  readonly decode: (r: Reader, version: number) => T
}

const timeIt = (iterations: number, f: () => void): number => {
  const t0 = performance.now()
  for (let i = 0; i < iterations; i++) f()
  return (performance.now() - t0) / iterations
}

const measure = <T>(c: Case<T>): string => {
  // A reused writer (the steady state of a connection); the first encode grows it to size.
  const w = new Writer(256)
  const encodeOnce = (): void => {
    w.offset = 0
    c.encode(w, c.value, c.version)
  }
  encodeOnce()
  const bytes = Uint8Array.from(w.finish())
  const decodeOnce = (): void => {
    c.decode(new Reader(bytes), c.version)
  }
  for (let i = 0; i < 50; i++) {
    encodeOnce()
    decodeOnce()
  }
  const reps = 5
  let enc = Number.POSITIVE_INFINITY
  let dec = Number.POSITIVE_INFINITY
  for (let i = 0; i < reps; i++) {
    enc = Math.min(enc, timeIt(100, encodeOnce))
    dec = Math.min(dec, timeIt(2000, decodeOnce))
  }
  const mb = bytes.length / 1e6
  return `${c.name.padEnd(22)} ${String(bytes.length).padStart(8)} B  encode ${(mb / (enc / 1000)).toFixed(0).padStart(7)} MB/s (${(enc * 1000).toFixed(1)} µs)  decode ${(mb / (dec / 1000)).toFixed(0).padStart(8)} MB/s (${(dec * 1000).toFixed(2)} µs)`
}

/** Prints encode/decode throughput of large Produce requests and Fetch responses. */
export const run = async (): Promise<void> => {
  const produce = produceRequest()
  const fetch = fetchResponse()
  const cases: Array<string> = [
    measure({
      name: "Produce request v7",
      value: produce,
      version: 7,
      encode: Produce.encodeProduceRequest,
      decode: Produce.decodeProduceRequest
    }),
    measure({
      name: "Produce request v9",
      value: produce,
      version: 9,
      encode: Produce.encodeProduceRequest,
      decode: Produce.decodeProduceRequest
    }),
    measure({
      name: "Fetch response v11",
      value: fetch,
      version: 11,
      encode: Fetch.encodeFetchResponse,
      decode: Fetch.decodeFetchResponse
    }),
    measure({
      name: "Fetch response v12",
      value: fetch,
      version: 12,
      encode: Fetch.encodeFetchResponse,
      decode: Fetch.decodeFetchResponse
    })
  ]
  console.log("protocol codecs (1 MiB of records in 4 partitions; decode returns views, encode copies)")
  for (const line of cases) console.log(`  ${line}`)
}

if (process.argv[1]?.endsWith("protocol.bench.ts")) await run()
