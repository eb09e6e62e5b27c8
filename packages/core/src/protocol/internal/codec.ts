/**
 * The shape every compression implementation has, and the helpers they share.
 */
import { fail, isProtocolError } from "../ProtocolError.js"

/** One implementation of one codec. `decompress` never produces more than `maxBytes` bytes. */
export interface CodecImplementation {
  /** Package (or built-in module) behind it, e.g. `"snappy"`, `"snappyjs"`, `"node:zlib"`. */
  readonly name: string
  /** True for a native addon or built-in native code, false for pure JS or WASM. */
  readonly native: boolean
  /** Compresses `data`; `level` is honoured by codecs that have levels (gzip, zstd) and ignored by the others. */
  readonly compress: (data: Uint8Array, level?: number) => Uint8Array
  readonly decompress: (data: Uint8Array, maxBytes: number) => Uint8Array
}

/** Runs `f`, turning any failure that is not already a ProtocolError into one naming the codec. */
export const guard = <A>(codec: string, op: string, f: () => A): A => {
  try {
    return f()
  } catch (e) {
    if (isProtocolError(e)) throw e
    return fail(`${codec} ${op} failed: ${e instanceof Error ? e.message : String(e)}`)
  }
}

/** Fails when `n` decompressed bytes exceed the cap. */
export const checkCap = (codec: string, n: number, maxBytes: number): void => {
  if (n > maxBytes) fail(`${codec} data decompresses to more than ${maxBytes} bytes (${n})`)
}

/** A Buffer view over the same memory (no copy), for addons that want a Buffer. */
export const asBuffer = (data: Uint8Array): Buffer =>
  Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)

/** A growable output buffer capped at `max` bytes. */
export class Output {
  buf: Uint8Array
  length = 0
  constructor(
    initial: number,
    readonly max: number,
    readonly codec: string
  ) {
    this.buf = new Uint8Array(Math.max(0, Math.min(initial, max)))
  }

  /** Makes room for `n` more bytes or fails when the cap would be exceeded. */
  ensure(n: number): void {
    const needed = this.length + n
    if (needed <= this.buf.length) return
    checkCap(this.codec, needed, this.max)
    let size = Math.max(this.buf.length * 2, 1024)
    while (size < needed) size *= 2
    const next = new Uint8Array(Math.min(size, this.max))
    next.set(this.buf.subarray(0, this.length))
    this.buf = next
  }

  append(bytes: Uint8Array): void {
    this.ensure(bytes.length)
    this.buf.set(bytes, this.length)
    this.length += bytes.length
  }

  finish(): Uint8Array {
    return this.buf.length === this.length ? this.buf : this.buf.subarray(0, this.length)
  }
}
