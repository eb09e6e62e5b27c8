/**
 * Zstandard (a standard zstd frame). `node:zlib` when it has zstd (Node >= 22.15), else
 * `@bokuweb/zstd-wasm`, initialised at module load.
 */
import * as zlib from "node:zlib"
import { fail } from "../ProtocolError.js"
import { type CodecImplementation, checkCap, guard } from "./codec.js"
import { loadOptional, nativeDisabled } from "./native.js"

interface ZlibZstd {
  readonly zstdCompressSync?: (data: Uint8Array, options?: { params?: Record<number, number> }) => Buffer
  readonly zstdDecompressSync?: (data: Uint8Array, options?: { maxOutputLength?: number }) => Buffer
}
interface ZstdWasm {
  readonly init: () => Promise<void>
  readonly compress: (data: Uint8Array, level?: number) => Uint8Array
  readonly decompress: (data: Uint8Array, options?: { defaultHeapSize?: number }) => Uint8Array
}

const MAGIC = 0xfd2fb528

/** The frame content size the first frame declares, -1 when absent. Fails when `data` is not a zstd frame. */
export const declaredContentSize = (data: Uint8Array): number => {
  if (data.length < 6) fail("zstd frame truncated")
  const magic = (data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24)) >>> 0
  if (magic !== MAGIC) fail(`bad zstd frame magic 0x${magic.toString(16)}`)
  const fhd = data[4]!
  const fcsFlag = fhd >> 6
  const singleSegment = (fhd & 0x20) !== 0
  if ((fhd & 0x08) !== 0) fail("zstd frame header has its reserved bit set")
  let p = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][fhd & 3]!
  const fcsSize = fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!
  if (fcsSize === 0) return -1
  if (p + fcsSize > data.length) fail("zstd frame header truncated")
  let v = 0
  for (let i = fcsSize - 1; i >= 0; i--) v = v * 256 + data[p + i]!
  p += fcsSize
  return fcsSize === 2 ? v + 256 : v
}

const zlibZstd = zlib as unknown as ZlibZstd
/** `ZSTD_c_compressionLevel` (100 in zstd's API; `zlib.constants` has it where node:zlib has zstd). */
const ZSTD_C_COMPRESSION_LEVEL =
  (zlib.constants as unknown as { readonly ZSTD_c_compressionLevel?: number }).ZSTD_c_compressionLevel ?? 100
/** zstd's own default level, which Kafka also uses (`compression.zstd.level` 3). */
const DEFAULT_LEVEL = 3
const zlibImpl = (): CodecImplementation | undefined => {
  const { zstdCompressSync: compress, zstdDecompressSync: decompress } = zlibZstd
  if (typeof compress !== "function" || typeof decompress !== "function") return undefined
  return {
    name: "node:zlib",
    native: true,
    compress: (data, level) =>
      guard("zstd", "compression", () =>
        level === undefined ? compress(data) : compress(data, { params: { [ZSTD_C_COMPRESSION_LEVEL]: level } })
      ),
    decompress: (data, maxBytes) =>
      guard("zstd", "decompression", () => {
        try {
          return decompress(data, { maxOutputLength: maxBytes })
        } catch (e) {
          if (e instanceof RangeError) checkCap("zstd", maxBytes + 1, maxBytes)
          throw e
        }
      })
  }
}

const wasmModule = loadOptional<ZstdWasm>("@bokuweb/zstd-wasm")
const wasm: ZstdWasm | undefined = await (async () => {
  if (wasmModule === undefined) return undefined
  try {
    await wasmModule.init()
    return wasmModule
  } catch {
    return undefined
  }
})()

const wasmDecompress = (z: ZstdWasm, data: Uint8Array, maxBytes: number): Uint8Array => {
  const declared = declaredContentSize(data)
  if (declared >= 0) {
    checkCap("zstd", declared, maxBytes)
    return z.decompress(data)
  }
  // No declared size (streaming encoders such as zstd-jni): grow the output until it fits or hits the cap.
  let size = Math.min(maxBytes, Math.max(1 << 20, data.length * 8))
  for (;;) {
    try {
      return z.decompress(data, { defaultHeapSize: size })
    } catch (e) {
      if (size >= maxBytes) {
        return fail(`zstd decompression failed (corrupt, or more than ${maxBytes} bytes): ${String(e)}`)
      }
      size = Math.min(maxBytes, size * 4)
    }
  }
}

/** WASM zstd, `undefined` when the module does not load. */
export const fallback: CodecImplementation | undefined =
  wasm === undefined
    ? undefined
    : {
        name: "@bokuweb/zstd-wasm",
        native: false,
        compress: (data, level) => guard("zstd", "compression", () => wasm.compress(data, level ?? DEFAULT_LEVEL)),
        decompress: (data, maxBytes) => guard("zstd", "decompression", () => wasmDecompress(wasm, data, maxBytes))
      }

/** Native zstd from `node:zlib` when present and not disabled. */
export const nativeAvailable: CodecImplementation | undefined = zlibImpl()
export const native: CodecImplementation | undefined = nativeDisabled ? undefined : nativeAvailable
