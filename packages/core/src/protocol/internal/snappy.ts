/**
 * Snappy for Kafka: decodes raw snappy (librdkafka) and the xerial framing (Java client); encodes xerial
 * with 32 KiB blocks. Native `snappy` (napi-rs) when it loads; else `snappyjs` to compress and the
 * bounds-checked decoder below to decompress (snappyjs's decoder trusts its input).
 */
import { fail } from "../ProtocolError.js"
import { asBuffer, type CodecImplementation, checkCap, guard, Output } from "./codec.js"
import { loadNative, loadOptional } from "./native.js"

/** `82 'S' 'N' 'A' 'P' 'P' 'Y' 00` */
export const XERIAL_MAGIC = Uint8Array.of(0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00)
const XERIAL_HEADER_SIZE = 16
const XERIAL_BLOCK_SIZE = 32 * 1024

/** Raw snappy block codec: `compress` returns one raw block, `uncompress` decodes one raw block. */
interface RawSnappy {
  readonly compress: (data: Uint8Array) => Uint8Array
  readonly uncompress: (data: Uint8Array, length: number) => Uint8Array
}

/** True when `data` starts with the xerial magic. */
export const isXerial = (data: Uint8Array): boolean => {
  if (data.length < XERIAL_HEADER_SIZE) return false
  for (let i = 0; i < 8; i++) if (data[i] !== XERIAL_MAGIC[i]) return false
  return true
}

/** The uncompressed length a raw snappy block declares (its uvarint preamble). */
export const rawLength = (data: Uint8Array, start = 0, end = data.length): number => {
  let result = 0
  for (let shift = 0, i = start; shift < 35 && i < end; shift += 7, i++) {
    const b = data[i]!
    result += (b & 0x7f) * 2 ** shift
    if ((b & 0x80) === 0) return result > 0xffffffff ? fail("snappy length overflows 32 bits") : result
  }
  return fail("snappy block has no valid length preamble")
}

const xerialEncode = (raw: RawSnappy, data: Uint8Array): Uint8Array => {
  const blocks: Array<Uint8Array> = []
  let size = XERIAL_HEADER_SIZE
  for (let i = 0; i < data.length; i += XERIAL_BLOCK_SIZE) {
    const block = raw.compress(data.subarray(i, Math.min(i + XERIAL_BLOCK_SIZE, data.length)))
    blocks.push(block)
    size += 4 + block.length
  }
  const out = Buffer.allocUnsafe(size)
  out.set(XERIAL_MAGIC, 0)
  out.writeInt32BE(1, 8) // version
  out.writeInt32BE(1, 12) // minimum compatible version
  let pos = XERIAL_HEADER_SIZE
  for (const block of blocks) {
    out.writeInt32BE(block.length, pos)
    out.set(block, pos + 4)
    pos += 4 + block.length
  }
  return out
}

const decode = (raw: RawSnappy, data: Uint8Array, maxBytes: number): Uint8Array => {
  if (!isXerial(data)) {
    const length = rawLength(data)
    checkCap("snappy", length, maxBytes)
    return raw.uncompress(data, length)
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  let pos = XERIAL_HEADER_SIZE
  // Sum the declared lengths first so the output is allocated once and the cap is checked up front.
  let total = 0
  while (pos < data.length) {
    if (pos + 4 > data.length) fail("xerial snappy block length truncated", pos)
    const n = view.getInt32(pos)
    if (n < 0 || pos + 4 + n > data.length) fail(`xerial snappy block of ${n} bytes runs past the input`, pos)
    total += rawLength(data, pos + 4, pos + 4 + n)
    checkCap("snappy", total, maxBytes)
    pos += 4 + n
  }
  const out = new Output(total, maxBytes, "snappy")
  pos = XERIAL_HEADER_SIZE
  while (pos < data.length) {
    const n = view.getInt32(pos)
    const block = data.subarray(pos + 4, pos + 4 + n)
    out.append(raw.uncompress(block, rawLength(block)))
    pos += 4 + n
  }
  return out.finish()
}

const make = (name: string, native: boolean, raw: RawSnappy): CodecImplementation => ({
  name,
  native,
  compress: (data) => guard("snappy", "compression", () => xerialEncode(raw, data)),
  decompress: (data, maxBytes) => guard("snappy", "decompression", () => decode(raw, data, maxBytes))
})

interface SnappyNative {
  readonly compressSync: (input: Uint8Array) => Buffer
  readonly uncompressSync: (input: Uint8Array, options?: { asBuffer?: boolean }) => Buffer | string
}
interface SnappyJs {
  readonly compress: (input: Uint8Array) => Uint8Array
}

const nativeFrom = (mod: SnappyNative | undefined): CodecImplementation | undefined =>
  mod === undefined || typeof mod.compressSync !== "function"
    ? undefined
    : make("snappy", true, {
        compress: (data) => mod.compressSync(asBuffer(data)),
        uncompress: (data, length) => {
          const out = mod.uncompressSync(asBuffer(data), { asBuffer: true }) as Buffer
          if (out.length !== length) fail(`snappy block decoded to ${out.length} bytes, declared ${length}`)
          return out
        }
      })

const js = loadOptional<SnappyJs>("snappyjs")

/**
 * Decodes one raw snappy block, checking every element against the input and the output: the pure-JS
 * decoder, used instead of `snappyjs`'s, which trusts its input (it reads a 4-byte literal length as a
 * signed int, and a length with its top bit set walks its read position backwards: billions of steps on
 * 6 bytes of input, a broker hung by one produce request). Every literal lies within the input, every
 * copy's offset within what was already produced, the total is the declared length.
 */
export const decodeRawSnappy = (data: Uint8Array, declared: number): Uint8Array => {
  let pos = 0
  while (pos < data.length && (data[pos]! & 0x80) !== 0) pos++
  pos++ // past the uvarint preamble (rawLength checked it)
  const out = Buffer.allocUnsafe(declared)
  let produced = 0
  while (pos < data.length) {
    const tag = data[pos++]!
    let len: number
    if ((tag & 0x3) === 0) {
      len = (tag >>> 2) + 1
      if (len > 60) {
        const extra = len - 60
        if (pos + extra > data.length) fail("snappy literal length runs past the input", pos)
        len = 0
        for (let i = 0; i < extra; i++) len += data[pos + i]! * 2 ** (8 * i)
        len += 1
        pos += extra
      }
      if (pos + len > data.length) fail(`snappy literal of ${len} bytes runs past the input`, pos)
      if (produced + len > declared) fail(`snappy block decodes past its declared ${declared} bytes`, pos)
      out.set(data.subarray(pos, pos + len), produced)
      pos += len
    } else {
      let offset: number
      if ((tag & 0x3) === 1) {
        if (pos + 1 > data.length) fail("snappy copy runs past the input", pos)
        len = ((tag >>> 2) & 0x7) + 4
        offset = data[pos]! + ((tag >>> 5) << 8)
        pos += 1
      } else if ((tag & 0x3) === 2) {
        if (pos + 2 > data.length) fail("snappy copy runs past the input", pos)
        len = (tag >>> 2) + 1
        offset = data[pos]! + data[pos + 1]! * 256
        pos += 2
      } else {
        if (pos + 4 > data.length) fail("snappy copy runs past the input", pos)
        len = (tag >>> 2) + 1
        offset = data[pos]! + data[pos + 1]! * 256 + data[pos + 2]! * 65536 + data[pos + 3]! * 16777216
        pos += 4
      }
      if (offset === 0 || offset > produced) fail(`snappy copy offset ${offset} is outside the output`, pos)
      if (produced + len > declared) fail(`snappy block decodes past its declared ${declared} bytes`, pos)
      // an offset shorter than the length repeats the bytes being written: copy byte by byte then
      if (offset >= len) out.copyWithin(produced, produced - offset, produced - offset + len)
      else for (let i = 0; i < len; i++) out[produced + i] = out[produced - offset + i]!
    }
    produced += len
  }
  if (produced !== declared) fail(`snappy block decoded to ${produced} bytes, declared ${declared}`)
  return out
}

/** Pure-JS snappy: `snappyjs` compresses, the checked decoder above decompresses. */
export const fallback: CodecImplementation | undefined =
  js === undefined
    ? undefined
    : make("snappyjs", false, {
        compress: (data) => js.compress(data),
        uncompress: decodeRawSnappy
      })

/** Native snappy, `undefined` when disabled or not loadable. */
export const native: CodecImplementation | undefined = nativeFrom(loadNative<SnappyNative>("snappy"))

/** Native snappy even when `EDDY_NO_NATIVE` is set (tests, benchmarks). */
export const nativeAvailable: CodecImplementation | undefined =
  native ?? nativeFrom(loadOptional<SnappyNative>("snappy"))
