/**
 * CRC-32C (Castagnoli), the checksum of RecordBatch v2.
 *
 * One interface; a pure-JS implementation always works, and the native accelerator `@node-rs/crc32`
 * (SSE4.2 / ARMv8 CRC instructions) is used when it loads and `EDDY_NO_NATIVE=1` is not set
 * (see {@link implementation}).
 */
import { crc32cJs } from "./internal/crc32cJs.js"
import { loadNative, loadOptional } from "./internal/native.js"

type NativeCrc32c = (input: Uint8Array, initialState?: number) => number

interface NodeRsCrc32 {
  readonly crc32c: NativeCrc32c
}

const wrapNative = (native: NativeCrc32c) => {
  // The addon continues from `initialState` (a previous result); 0 starts a fresh checksum.
  const fn = (buf: Uint8Array, start = 0, end = buf.length): number =>
    start === 0 && end === buf.length ? native(buf) >>> 0 : native(buf.subarray(start, end)) >>> 0
  // A known vector guards against a broken or incompatible binary.
  return fn(new TextEncoder().encode("123456789")) === 0xe3069283 ? fn : undefined
}

const loadImpl = (load: typeof loadNative) => {
  const mod = load<NodeRsCrc32>("@node-rs/crc32")
  if (mod === undefined || typeof mod.crc32c !== "function") return undefined
  try {
    return wrapNative(mod.crc32c)
  } catch {
    return undefined
  }
}

const native = loadImpl(loadNative)

/** CRC-32C of `buf[start..end)`. */
export const crc32c: (buf: Uint8Array, start?: number, end?: number) => number =
  native ?? ((buf, start = 0, end = buf.length) => crc32cJs(buf, start, end))

/** Which implementation {@link crc32c} uses. */
export const implementation: "js" | "native" = native === undefined ? "js" : "native"

/**
 * Every implementation that loads on this runtime, ignoring `EDDY_NO_NATIVE` (for tests and benchmarks
 * comparing them).
 */
export const implementations: {
  readonly js: (buf: Uint8Array, start?: number, end?: number) => number
  readonly native: ((buf: Uint8Array, start?: number, end?: number) => number) | undefined
} = {
  js: (buf, start = 0, end = buf.length) => crc32cJs(buf, start, end),
  native: native ?? loadImpl(loadOptional)
}
