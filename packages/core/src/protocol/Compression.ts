/**
 * Kafka's record-batch compression codecs behind one synchronous interface: gzip, snappy, lz4, zstd.
 *
 * Each codec uses a native accelerator where one loads (and `EDDY_NO_NATIVE=1` is not set), else a
 * pure-JS or WASM fallback; {@link implementation} says which. Decompression is bounded: output beyond
 * `maxBytes` (default {@link DEFAULT_MAX_DECOMPRESSED_BYTES}) fails, so a lying size field or a zip bomb
 * cannot allocate without limit. Every failure is a {@link ProtocolError}.
 */
import * as zlib from "node:zlib"
import { type CodecImplementation, checkCap, guard } from "./internal/codec.js"
import * as lz4 from "./internal/lz4.js"
import * as snappy from "./internal/snappy.js"
import * as zstd from "./internal/zstd.js"
import { fail } from "./ProtocolError.js"

export type { CodecImplementation } from "./internal/codec.js"

/** Codec ids as they appear in attribute bits 0-2 (same values as `RecordBatch.Compression`). */
export const Codec = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const
/** A codec id. */
export type Codec = (typeof Codec)[keyof typeof Codec]

/** The name of a real (non-`none`) codec. */
export type CodecName = "gzip" | "snappy" | "lz4" | "zstd"

/** Default cap on one decompressed payload: 64 MiB. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024

/** Options for {@link decompress}. */
export interface DecompressOptions {
  /** Maximum decompressed size in bytes; larger output fails with a ProtocolError. */
  readonly maxBytes?: number
}

const gzipImpl: CodecImplementation = {
  name: "node:zlib",
  native: true,
  compress: (data, level) =>
    guard("gzip", "compression", () =>
      // Kafka's -1 is Deflater.DEFAULT_COMPRESSION, which zlib calls Z_DEFAULT_COMPRESSION (-1) too
      level === undefined ? zlib.gzipSync(data) : zlib.gzipSync(data, { level })
    ),
  decompress: (data, maxBytes) =>
    guard("gzip", "decompression", () => {
      try {
        return zlib.gunzipSync(data, { maxOutputLength: Math.max(maxBytes, 1) })
      } catch (e) {
        if (e instanceof RangeError) checkCap("gzip", maxBytes + 1, maxBytes)
        throw e
      }
    })
}

/** Every implementation of each codec that loads here, ignoring `EDDY_NO_NATIVE` (tests, benchmarks). */
export const implementations: {
  readonly [K in CodecName]: {
    readonly native: CodecImplementation | undefined
    readonly fallback: CodecImplementation | undefined
  }
} = {
  gzip: { native: gzipImpl, fallback: gzipImpl },
  snappy: { native: snappy.nativeAvailable, fallback: snappy.fallback },
  lz4: { native: lz4.nativeAvailable, fallback: lz4.fallback },
  zstd: { native: zstd.nativeAvailable, fallback: zstd.fallback }
}

const unavailable = (codec: CodecName): CodecImplementation => ({
  name: "unavailable",
  native: false,
  compress: () => fail(`${codec} compression is not available on this runtime`),
  decompress: () => fail(`${codec} decompression is not available on this runtime`)
})

const active: { readonly [K in CodecName]: CodecImplementation } = {
  gzip: gzipImpl,
  snappy: snappy.native ?? snappy.fallback ?? unavailable("snappy"),
  lz4: lz4.native ?? lz4.fallback ?? unavailable("lz4"),
  zstd: zstd.native ?? zstd.fallback ?? unavailable("zstd")
}

/** Which implementation each codec uses: the package name, e.g. `{ snappy: "snappy", lz4: "lz4js" }`. */
export const implementation: { readonly [K in CodecName]: string } = {
  gzip: active.gzip.name,
  snappy: active.snappy.name,
  lz4: active.lz4.name,
  zstd: active.zstd.name
}

const NAMES: ReadonlyArray<CodecName | undefined> = [undefined, "gzip", "snappy", "lz4", "zstd"]

/** The name of codec id `codec`; fails for an unknown id, `undefined` for `none`. */
export const codecName = (codec: number): CodecName | undefined => {
  if (codec === 0) return undefined
  const name = NAMES[codec]
  return name === undefined ? fail(`unknown compression codec ${codec}`) : name
}

/** Options for {@link compress}. */
export interface CompressOptions {
  /** Compression level (KIP-390): gzip 1-9 or -1 (zlib's default), zstd -131072..22; ignored by snappy and lz4. */
  readonly level?: number
}

/** Compresses `data` with `codec` (`none` returns `data` itself). */
export const compress = (codec: number, data: Uint8Array, options?: CompressOptions): Uint8Array => {
  const name = codecName(codec)
  return name === undefined ? data : active[name].compress(data, options?.level)
}

/** Decompresses `data` with `codec` (`none` returns `data` itself), failing beyond `options.maxBytes`. */
export const decompress = (codec: number, data: Uint8Array, options?: DecompressOptions): Uint8Array => {
  const name = codecName(codec)
  if (name === undefined) return data
  return active[name].decompress(data, options?.maxBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES)
}
