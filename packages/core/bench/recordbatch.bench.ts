/**
 * RecordBatch, CRC-32C and compression throughput, native accelerators vs pure-JS/WASM fallbacks, on
 * realistic ~1 KiB JSON-ish records.
 */
import { type CodecName, implementation, implementations } from "../src/protocol/Compression.js"
import { implementations as crcImpls } from "../src/protocol/Crc32c.js"
import * as RecordBatch from "../src/protocol/RecordBatch.js"

const TARGET_MS = 250

/** Runs `f` for about TARGET_MS after a warm-up; returns MB/s for `bytes` processed per call. */
const measure = (bytes: number, f: () => unknown): number => {
  const warm = performance.now()
  while (performance.now() - warm < 40) f()
  let n = 0
  const start = performance.now()
  let elapsed = 0
  while (elapsed < TARGET_MS) {
    for (let i = 0; i < 4; i++) f()
    n += 4
    elapsed = performance.now() - start
  }
  return (bytes * n) / (elapsed / 1000) / 1e6
}

const fmt = (mbs: number) => (mbs >= 1000 ? `${(mbs / 1000).toFixed(2)} GB/s` : `${mbs.toFixed(0)} MB/s`)

const record = (i: number): Uint8Array => {
  const body = {
    id: `evt-${i.toString(16).padStart(8, "0")}`,
    type: ["page_view", "click", "purchase", "signup"][i % 4],
    user: { id: 10_000 + (i % 997), country: ["DE", "US", "FR", "JP", "BR"][i % 5], plan: i % 3 ? "free" : "pro" },
    ts: 1_700_000_000_000 + i * 37,
    tags: Array.from({ length: 6 }, (_, j) => `tag-${(i * 7 + j) % 50}`),
    payload: Array.from({ length: 12 }, (_, j) => ({ k: `field_${j}`, v: (i * 31 + j * 17) % 10_007 }))
  }
  return Buffer.from(JSON.stringify(body).padEnd(1024, " ").slice(0, 1024))
}

export const run = async (): Promise<void> => {
  // CRC-32C
  const crcRows: Array<Record<string, string>> = []
  for (const size of [1 << 20, 16 << 10]) {
    const data = new Uint8Array(size)
    for (let i = 0; i < size; i++) data[i] = (i * 2654435761) >>> 24
    const js = measure(size, () => crcImpls.js(data))
    const native = crcImpls.native === undefined ? Number.NaN : measure(size, () => crcImpls.native!(data))
    crcRows.push({
      input: size >= 1 << 20 ? "1 MiB" : "16 KiB",
      js: fmt(js),
      native: Number.isNaN(native) ? "n/a" : fmt(native),
      "native/js": Number.isNaN(native) ? "n/a" : `${(native / js).toFixed(1)}x`
    })
  }
  console.log("CRC-32C")
  console.table(crcRows)

  // RecordBatch encode/decode, 100 x 1 KiB records
  const inputs = Array.from({ length: 100 }, (_, i) => ({
    key: Buffer.from(`key-${i}`),
    value: record(i),
    headers: [{ key: "trace-id", value: Buffer.from(`t-${i}`) }],
    timestamp: 1_700_000_000_000 + i
  }))
  const raw = inputs.reduce((n, r) => n + r.value.length + r.key.length, 0)
  const batchRows: Array<Record<string, string>> = []
  for (const [name, compression] of Object.entries(RecordBatch.Compression)) {
    const batch = RecordBatch.encode(inputs, { compression })
    batchRows.push({
      codec: name,
      impl: name === "none" ? "-" : implementation[name as CodecName],
      "batch bytes": String(batch.length),
      encode: fmt(measure(raw, () => RecordBatch.encode(inputs, { compression }))),
      decode: fmt(measure(raw, () => RecordBatch.decode(batch))),
      validate: fmt(measure(raw, () => RecordBatch.validate(batch)))
    })
  }
  console.log("\nRecordBatch (100 x 1 KiB records; MB/s of record payload)")
  console.table(batchRows)

  // Codecs, native vs fallback, on the same records section
  const section = RecordBatch.encode(inputs).subarray(RecordBatch.HEADER_SIZE)
  const codecRows: Array<Record<string, string>> = []
  for (const name of ["gzip", "snappy", "lz4", "zstd"] as const) {
    const { native, fallback } = implementations[name]
    const impls = native === fallback ? [native] : [native, fallback]
    const results: Array<{ name: string; c: number; d: number }> = []
    for (const impl of impls) {
      if (impl === undefined) continue
      const compressed = impl.compress(section)
      const c = measure(section.length, () => impl.compress(section))
      const d = measure(section.length, () => impl.decompress(compressed, 64 << 20))
      results.push({ name: impl.name, c, d })
      codecRows.push({
        codec: name,
        impl: `${impl.name}${impl.native ? " (native)" : ""}`,
        ratio: (section.length / compressed.length).toFixed(2),
        compress: fmt(c),
        decompress: fmt(d)
      })
    }
    if (results.length === 2) {
      codecRows.push({
        codec: name,
        impl: "native/fallback",
        ratio: "",
        compress: `${(results[0]!.c / results[1]!.c).toFixed(1)}x`,
        decompress: `${(results[0]!.d / results[1]!.d).toFixed(1)}x`
      })
    }
  }
  console.log(`\nCompression (records section of ${section.length} bytes)`)
  console.table(codecRows)
}
