/**
 * LZ4 frame format (magic `04 22 4D 18`), the format Kafka uses for magic 2. Native `lz4-napi` when it
 * loads; else `lz4js` to compress and the bounds-checked decoder below to decompress (lz4js's own
 * decoder trusts its input: lying block sizes make it loop or silently drop output).
 */
import { fail } from "../ProtocolError.js"
import { asBuffer, type CodecImplementation, checkCap, guard, Output } from "./codec.js"
import { loadNative, loadOptional } from "./native.js"

const MAGIC = 0x184d2204
const SKIPPABLE_MASK = 0xfffffff0
const SKIPPABLE = 0x184d2a50
const BLOCK_MAX: ReadonlyArray<number> = [0, 0, 0, 0, 0x10000, 0x40000, 0x100000, 0x400000]

interface FrameInfo {
  /** Upper bound of the decompressed size of all frames. */
  readonly bound: number
}

const u32 = (data: Uint8Array, pos: number): number => {
  if (pos + 4 > data.length) fail("lz4 frame truncated", pos)
  return (data[pos]! | (data[pos + 1]! << 8) | (data[pos + 2]! << 16) | (data[pos + 3]! << 24)) >>> 0
}

interface FrameHeader {
  readonly blockChecksum: boolean
  readonly contentChecksum: boolean
  readonly blockMax: number
  readonly contentSize: number
  /** Position of the first block. */
  readonly pos: number
}

const frameHeader = (data: Uint8Array, pos: number): FrameHeader => {
  if (pos + 7 > data.length) fail("lz4 frame header truncated", pos)
  const flg = data[pos + 4]!
  const bd = data[pos + 5]!
  if ((flg & 0xc0) !== 0x40) fail(`unsupported lz4 frame version ${(flg >> 6) & 3}`, pos + 4)
  if ((flg & 0x01) !== 0) fail("lz4 frames with a dictionary id are not supported", pos + 4)
  const blockMax = BLOCK_MAX[(bd >> 4) & 7]!
  if (blockMax === 0) fail(`invalid lz4 block size id ${(bd >> 4) & 7}`, pos + 5)
  let p = pos + 6
  let contentSize = -1
  if ((flg & 0x08) !== 0) {
    const lo = u32(data, p)
    const hi = u32(data, p + 4)
    contentSize = hi * 0x100000000 + lo
    p += 8
  }
  p += 1 // header checksum (the batch CRC already covers these bytes)
  return {
    blockChecksum: (flg & 0x10) !== 0,
    contentChecksum: (flg & 0x04) !== 0,
    blockMax,
    contentSize,
    pos: p
  }
}

/** Walks every frame's block headers without decoding: validates the structure and bounds the output. */
const scan = (data: Uint8Array): FrameInfo => {
  let pos = 0
  let bound = 0
  if (data.length === 0) fail("empty lz4 input")
  while (pos < data.length) {
    const magic = u32(data, pos)
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE) {
      pos += 8 + u32(data, pos + 4)
      if (pos > data.length) fail("lz4 skippable frame truncated", pos)
      continue
    }
    if (magic !== MAGIC) fail(`bad lz4 frame magic 0x${magic.toString(16)}`, pos)
    const h = frameHeader(data, pos)
    pos = h.pos
    let frameBound = 0
    for (;;) {
      const word = u32(data, pos)
      pos += 4
      if (word === 0) break
      const size = word & 0x7fffffff
      if (size > h.blockMax) fail(`lz4 block of ${size} bytes exceeds the frame's ${h.blockMax}`, pos - 4)
      frameBound += (word & 0x80000000) !== 0 ? size : h.blockMax
      pos += size + (h.blockChecksum ? 4 : 0)
      if (pos > data.length) fail("lz4 block runs past the input", pos)
    }
    if (h.contentChecksum) pos += 4
    if (pos > data.length) fail("lz4 content checksum truncated", pos)
    bound += h.contentSize >= 0 ? Math.min(h.contentSize, frameBound) : frameBound
  }
  return { bound }
}

/** Decodes one LZ4 block `src[s..sEnd)` into `out`; matches may reach back to `floor` (the frame start). */
const decodeBlock = (src: Uint8Array, s: number, sEnd: number, out: Output, floor: number, blockMax: number): void => {
  const blockEnd = out.length + blockMax
  let d = out.length
  while (s < sEnd) {
    const token = src[s++]!
    let lit = token >>> 4
    if (lit === 15) {
      let b: number
      do {
        if (s >= sEnd) fail("lz4 literal length truncated")
        b = src[s++]!
        lit += b
      } while (b === 255)
    }
    if (s + lit > sEnd) fail("lz4 literals run past the block")
    if (d + lit > blockEnd) fail("lz4 block decodes past its maximum size")
    if (d + lit > out.buf.length) {
      out.length = d
      out.ensure(lit)
    }
    let dst = out.buf
    if (lit < 16) {
      for (let i = 0; i < lit; i++) dst[d + i] = src[s + i]!
    } else {
      dst.set(src.subarray(s, s + lit), d)
    }
    s += lit
    d += lit
    if (s === sEnd) break // the last sequence holds literals only
    if (s + 2 > sEnd) fail("lz4 match offset truncated")
    const offset = src[s]! | (src[s + 1]! << 8)
    s += 2
    if (offset === 0 || offset > d - floor) fail(`invalid lz4 match offset ${offset}`)
    let len = token & 15
    if (len === 15) {
      let b: number
      do {
        if (s >= sEnd) fail("lz4 match length truncated")
        b = src[s++]!
        len += b
      } while (b === 255)
    }
    len += 4
    if (d + len > blockEnd) fail("lz4 block decodes past its maximum size")
    if (d + len > dst.length) {
      out.length = d
      out.ensure(len)
      dst = out.buf
    }
    let from = d - offset
    if (offset >= len && len > 32) {
      dst.copyWithin(d, from, from + len)
      d += len
    } else {
      const end = d + len
      while (d < end) dst[d++] = dst[from++]!
    }
  }
  out.length = d
}

/** Bounds-checked pure-JS LZ4 frame decoder (block and content checksums are not verified). */
export const decodeFrames = (data: Uint8Array, maxBytes: number): Uint8Array => {
  const { bound } = scan(data)
  const out = new Output(Math.min(bound, Math.max(65536, data.length * 8)), maxBytes, "lz4")
  let pos = 0
  while (pos < data.length) {
    const magic = u32(data, pos)
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE) {
      pos += 8 + u32(data, pos + 4)
      continue
    }
    const h = frameHeader(data, pos)
    const floor = out.length
    pos = h.pos
    for (;;) {
      const word = u32(data, pos)
      pos += 4
      if (word === 0) break
      const size = word & 0x7fffffff
      if ((word & 0x80000000) !== 0) {
        out.append(data.subarray(pos, pos + size))
      } else {
        decodeBlock(data, pos, pos + size, out, floor, h.blockMax)
      }
      pos += size + (h.blockChecksum ? 4 : 0)
    }
    if (h.contentChecksum) pos += 4
    if (h.contentSize >= 0 && out.length - floor !== h.contentSize) {
      fail(`lz4 frame decoded to ${out.length - floor} bytes, declared ${h.contentSize}`)
    }
  }
  return out.finish()
}

interface Lz4Napi {
  readonly compressFrameSync: (data: Buffer) => Buffer
  readonly decompressFrameSync: (data: Buffer) => Buffer
}
interface Lz4Js {
  readonly compress: (data: Uint8Array) => Uint8Array
}

const nativeFrom = (mod: Lz4Napi | undefined): CodecImplementation | undefined =>
  mod === undefined || typeof mod.decompressFrameSync !== "function"
    ? undefined
    : {
        name: "lz4-napi",
        native: true,
        compress: (data) => guard("lz4", "compression", () => mod.compressFrameSync(asBuffer(data))),
        decompress: (data, maxBytes) =>
          guard("lz4", "decompression", () => {
            // Bound the output before handing the bytes to the addon, which allocates as it decodes.
            const { bound } = scan(data)
            if (bound > maxBytes) return decodeFrames(data, maxBytes)
            const out = mod.decompressFrameSync(asBuffer(data))
            checkCap("lz4", out.length, maxBytes)
            return out
          })
      }

const js = loadOptional<Lz4Js>("lz4js")

/** Pure-JS LZ4: `lz4js` compresses, the bounds-checked decoder here decompresses. */
export const fallback: CodecImplementation | undefined =
  js === undefined
    ? undefined
    : {
        name: "lz4js",
        native: false,
        compress: (data) => guard("lz4", "compression", () => js.compress(data)),
        decompress: (data, maxBytes) => guard("lz4", "decompression", () => decodeFrames(data, maxBytes))
      }

/** Native LZ4 frames, `undefined` when disabled or not loadable. */
export const native: CodecImplementation | undefined = nativeFrom(loadNative<Lz4Napi>("lz4-napi"))

/** Native LZ4 even when `EDDY_NO_NATIVE` is set (tests, benchmarks). */
export const nativeAvailable: CodecImplementation | undefined = native ?? nativeFrom(loadOptional<Lz4Napi>("lz4-napi"))
