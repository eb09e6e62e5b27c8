/**
 * A bounds-checked cursor over a `Uint8Array` for Kafka's primitive types.
 *
 * Every read checks the remaining length first and fails with a {@link ProtocolError}, so a lying
 * length field can neither read past the end nor make the reader allocate more than the input holds.
 */
import { fail } from "./ProtocolError.js"

// ignoreBOM: a leading U+FEFF is part of a Kafka string, not a marker to strip
const textDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/** Reads Kafka primitives from a byte array, advancing `offset`. */
export class Reader {
  readonly view: DataView
  offset: number
  readonly end: number

  constructor(
    readonly buf: Uint8Array,
    offset = 0,
    end = buf.length
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    this.offset = offset
    this.end = end
  }

  /** Bytes left before `end`. */
  get remaining(): number {
    return this.end - this.offset
  }

  /** Fails unless `n` more bytes are available. */
  need(n: number): void {
    if (n < 0 || this.offset + n > this.end) {
      fail(`need ${n} bytes at position ${this.offset}, have ${this.end - this.offset}`, this.offset)
    }
  }

  int8(): number {
    this.need(1)
    return this.view.getInt8(this.offset++)
  }

  uint8(): number {
    this.need(1)
    return this.buf[this.offset++]!
  }

  bool(): boolean {
    return this.int8() !== 0
  }

  int16(): number {
    this.need(2)
    const v = this.view.getInt16(this.offset)
    this.offset += 2
    return v
  }

  uint16(): number {
    this.need(2)
    const v = this.view.getUint16(this.offset)
    this.offset += 2
    return v
  }

  int32(): number {
    this.need(4)
    const v = this.view.getInt32(this.offset)
    this.offset += 4
    return v
  }

  uint32(): number {
    this.need(4)
    const v = this.view.getUint32(this.offset)
    this.offset += 4
    return v
  }

  int64(): bigint {
    this.need(8)
    const v = this.view.getBigInt64(this.offset)
    this.offset += 8
    return v
  }

  /** An int64 read as a JS number; fails if it is not a safe integer (offsets, timestamps on hot paths). */
  int64Number(): number {
    this.need(8)
    const hi = this.view.getInt32(this.offset)
    const lo = this.view.getUint32(this.offset + 4)
    if (hi > 0x1fffff || hi < -0x200000) fail(`int64 at ${this.offset} is not a safe integer`, this.offset)
    this.offset += 8
    return hi * 0x100000000 + lo
  }

  float64(): number {
    this.need(8)
    const v = this.view.getFloat64(this.offset)
    this.offset += 8
    return v
  }

  /** Unsigned LEB128 varint, at most 5 bytes (a uint32). */
  uvarint(): number {
    // one- and two-byte varints (record lengths, deltas, field lengths) without the general loop
    const o = this.offset
    if (o + 1 < this.end) {
      const b0 = this.buf[o]!
      if (b0 < 0x80) {
        this.offset = o + 1
        return b0
      }
      const b1 = this.buf[o + 1]!
      if (b1 < 0x80) {
        this.offset = o + 2
        return (b0 & 0x7f) | (b1 << 7)
      }
    }
    return this.uvarintLoop()
  }

  private uvarintLoop(): number {
    let result = 0
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.uint8()
      result += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) fail("unsigned varint overflows 32 bits", this.offset)
        return result
      }
    }
    return fail("unsigned varint longer than 5 bytes", this.offset)
  }

  /** Zigzag-encoded signed varint (int32). */
  varint(): number {
    const u = this.uvarint()
    return (u >>> 1) ^ -(u & 1)
  }

  /** Zigzag-encoded signed varlong (int64), at most 10 bytes. */
  varlong(): bigint {
    let result = 0n
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.uint8()
      result |= BigInt(b & 0x7f) << shift
      if ((b & 0x80) === 0) {
        const v = (result >> 1n) ^ -(result & 1n)
        if (v < INT64_MIN || v > INT64_MAX) fail("varlong overflows 64 bits", this.offset)
        return v
      }
    }
    return fail("varlong longer than 10 bytes", this.offset)
  }

  /** Zigzag varlong as a JS number; fails if it is not a safe integer. Faster than {@link varlong}. */
  varlongNumber(): number {
    const o = this.offset
    if (o < this.end && this.buf[o]! < 0x80) {
      const b = this.buf[o]!
      this.offset = o + 1
      return (b >>> 1) ^ -(b & 1)
    }
    // low 28 bits and high bits kept apart so no intermediate loses precision
    let lo = 0
    let hi = 0
    for (let i = 0; i < 8; i++) {
      const b = this.uint8()
      if (i < 4) lo |= (b & 0x7f) << (7 * i)
      else hi += (b & 0x7f) * 2 ** (7 * (i - 4))
      if ((b & 0x80) === 0) {
        const half = hi * 2 ** 27 + (lo >>> 1)
        if (half > Number.MAX_SAFE_INTEGER || ((lo & 1) === 1 && half >= Number.MAX_SAFE_INTEGER)) break
        return (lo & 1) === 1 ? -half - 1 : half
      }
    }
    return fail("varlong is not a safe integer", this.offset)
  }

  uuid(): Uint8Array {
    return this.raw(16)
  }

  /** `n` raw bytes, as a view over the input (no copy). */
  raw(n: number): Uint8Array {
    this.need(n)
    const v = this.buf.subarray(this.offset, this.offset + n)
    this.offset += n
    return v
  }

  private utf8(n: number): string {
    const bytes = this.raw(n)
    try {
      return textDecoder.decode(bytes)
    } catch {
      return fail("invalid UTF-8 in string", this.offset - n)
    }
  }

  /** int16-length string; -1 means null. */
  nullableString(): string | null {
    const n = this.int16()
    if (n < 0) {
      if (n !== -1) fail(`invalid string length ${n}`, this.offset - 2)
      return null
    }
    return this.utf8(n)
  }

  string(): string {
    const s = this.nullableString()
    return s === null ? fail("non-nullable string is null", this.offset) : s
  }

  /** uvarint(length + 1) string; 0 means null. */
  compactNullableString(): string | null {
    const n = this.uvarint()
    return n === 0 ? null : this.utf8(n - 1)
  }

  compactString(): string {
    const s = this.compactNullableString()
    return s === null ? fail("non-nullable compact string is null", this.offset) : s
  }

  /** int32-length bytes; -1 means null. Returns a view over the input. */
  nullableBytes(): Uint8Array | null {
    const n = this.int32()
    if (n < 0) {
      if (n !== -1) fail(`invalid bytes length ${n}`, this.offset - 4)
      return null
    }
    return this.raw(n)
  }

  bytes(): Uint8Array {
    const b = this.nullableBytes()
    return b === null ? fail("non-nullable bytes are null", this.offset) : b
  }

  compactNullableBytes(): Uint8Array | null {
    const n = this.uvarint()
    return n === 0 ? null : this.raw(n - 1)
  }

  compactBytes(): Uint8Array {
    const b = this.compactNullableBytes()
    return b === null ? fail("non-nullable compact bytes are null", this.offset) : b
  }

  /**
   * int32 array length; -1 means null. `minElementSize` bounds the count by the bytes remaining so a
   * lying length cannot drive a huge allocation or a long loop.
   */
  arrayLength(minElementSize = 1): number {
    const n = this.int32()
    if (n < -1) fail(`invalid array length ${n}`, this.offset - 4)
    if (n > 0) this.checkCount(n, minElementSize)
    return n
  }

  /** uvarint(length + 1) array length; returns -1 for null. */
  compactArrayLength(minElementSize = 1): number {
    const n = this.uvarint() - 1
    if (n > 0) this.checkCount(n, minElementSize)
    return n
  }

  private checkCount(n: number, minElementSize: number): void {
    if (n * Math.max(minElementSize, 0) > this.remaining || (minElementSize === 0 && n > this.remaining + 1_000_000)) {
      fail(`array length ${n} exceeds the ${this.remaining} bytes left`, this.offset)
    }
  }

  /** Skips `n` bytes. */
  skip(n: number): void {
    this.need(n)
    this.offset += n
  }
}
