/**
 * A growable byte buffer for writing Kafka's primitive types.
 */

/** Byte length of a string's UTF-8 encoding. */
export const utf8Length = (s: string): number => Buffer.byteLength(s, "utf8")

/** Bytes an unsigned varint takes. */
export const uvarintSize = (v: number): number =>
  v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5

/** Bytes a zigzag varint takes. */
export const varintSize = (v: number): number => uvarintSize(((v << 1) ^ (v >> 31)) >>> 0)

/** Arrays at least this long are kept by reference by a {@link Writer.byReference} writer. */
export const REFERENCE_MIN = 16 * 1024

/** Writes Kafka primitives into a growing buffer; `finish()` returns the written bytes. */
export class Writer {
  buf: Buffer
  offset = 0
  /** Arrays kept by reference (see {@link byReference}): the buffer offset each goes at, in order. */
  private refs: Array<{ readonly at: number; readonly bytes: Uint8Array }> | undefined
  /** Bytes kept by reference so far. */
  private refBytes = 0

  constructor(initialCapacity = 256) {
    this.buf = Buffer.allocUnsafe(initialCapacity)
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const needed = this.offset + n
    if (needed <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < needed) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.offset)
    this.buf = next
  }

  /** The bytes written so far (a view, not a copy). */
  finish(): Buffer {
    if (this.refBytes > 0) return Buffer.concat(this.finishParts(0))
    return this.buf.subarray(0, this.offset)
  }

  int8(v: number): this {
    this.ensure(1)
    this.buf.writeInt8(v, this.offset++)
    return this
  }

  uint8(v: number): this {
    this.ensure(1)
    this.buf[this.offset++] = v
    return this
  }

  bool(v: boolean): this {
    return this.uint8(v ? 1 : 0)
  }

  int16(v: number): this {
    this.ensure(2)
    this.offset = this.buf.writeInt16BE(v, this.offset)
    return this
  }

  uint16(v: number): this {
    this.ensure(2)
    this.offset = this.buf.writeUInt16BE(v, this.offset)
    return this
  }

  int32(v: number): this {
    this.ensure(4)
    this.offset = this.buf.writeInt32BE(v, this.offset)
    return this
  }

  uint32(v: number): this {
    this.ensure(4)
    this.offset = this.buf.writeUInt32BE(v, this.offset)
    return this
  }

  int64(v: bigint): this {
    this.ensure(8)
    this.offset = this.buf.writeBigInt64BE(v, this.offset)
    return this
  }

  /** An int64 from a safe-integer JS number. */
  int64Number(v: number): this {
    this.ensure(8)
    const hi = Math.floor(v / 0x100000000)
    this.buf.writeInt32BE(hi, this.offset)
    this.buf.writeUInt32BE(v - hi * 0x100000000, this.offset + 4)
    this.offset += 8
    return this
  }

  float64(v: number): this {
    this.ensure(8)
    this.offset = this.buf.writeDoubleBE(v, this.offset)
    return this
  }

  uvarint(v: number): this {
    this.ensure(5)
    while (v >= 0x80) {
      this.buf[this.offset++] = (v & 0x7f) | 0x80
      v = Math.floor(v / 128)
    }
    this.buf[this.offset++] = v
    return this
  }

  varint(v: number): this {
    return this.uvarint(((v << 1) ^ (v >> 31)) >>> 0)
  }

  varlong(v: bigint): this {
    let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n))
    this.ensure(10)
    while (u >= 0x80n) {
      this.buf[this.offset++] = Number(u & 0x7fn) | 0x80
      u >>= 7n
    }
    this.buf[this.offset++] = Number(u)
    return this
  }

  /** Zigzag varlong from a safe-integer JS number (faster than {@link varlong}). */
  varlongNumber(v: number): this {
    // zigzag u = 2 * half + sign may exceed 2^53, so the first 7 bits are taken from half directly
    const sign = v < 0 ? 1 : 0
    const half = v < 0 ? -v - 1 : v
    let rest = Math.floor(half / 64)
    const first = (half % 64) * 2 + sign
    this.ensure(10)
    if (rest === 0) {
      this.buf[this.offset++] = first
      return this
    }
    this.buf[this.offset++] = first | 0x80
    while (rest >= 0x80) {
      this.buf[this.offset++] = (rest % 128) | 0x80
      rest = Math.floor(rest / 128)
    }
    this.buf[this.offset++] = rest
    return this
  }

  /**
   * From now on `raw` keeps arrays of at least {@link REFERENCE_MIN} bytes by reference instead of copying
   * them (a Fetch response's records: no copy of megabytes before the socket copies them again); read the
   * result with {@link finishParts}. Only for messages whose large byte fields are not inside a size-prefixed
   * region that is measured from `offset` (a tagged field): their sizes would miss the referenced bytes.
   */
  byReference(): this {
    this.refs = []
    return this
  }

  /** Bytes written so far, copied and referenced. */
  get length(): number {
    return this.offset + this.refBytes
  }

  /** The bytes written from buffer offset `from` on, as parts to write in order (copied runs and referenced arrays). */
  finishParts(from = 0): Array<Uint8Array> {
    const parts: Array<Uint8Array> = []
    let p = from
    for (const r of this.refs ?? []) {
      if (r.at < from) continue
      if (r.at > p) parts.push(this.buf.subarray(p, r.at))
      parts.push(r.bytes)
      p = r.at
    }
    if (this.offset > p) parts.push(this.buf.subarray(p, this.offset))
    return parts
  }

  raw(bytes: Uint8Array): this {
    if (this.refs !== undefined && bytes.length >= REFERENCE_MIN) {
      this.refs.push({ at: this.offset, bytes })
      this.refBytes += bytes.length
      return this
    }
    this.ensure(bytes.length)
    this.buf.set(bytes, this.offset)
    this.offset += bytes.length
    return this
  }

  uuid(bytes: Uint8Array): this {
    if (bytes.length !== 16) throw new RangeError(`uuid must be 16 bytes, got ${bytes.length}`)
    return this.raw(bytes)
  }

  private utf8(s: string, len: number): void {
    this.ensure(len)
    this.offset += this.buf.write(s, this.offset, len, "utf8")
  }

  nullableString(s: string | null): this {
    if (s === null) return this.int16(-1)
    const len = utf8Length(s)
    if (len > 0x7fff) throw new RangeError(`string of ${len} bytes is too long for an int16 length`)
    this.int16(len)
    this.utf8(s, len)
    return this
  }

  string(s: string): this {
    return this.nullableString(s)
  }

  compactNullableString(s: string | null): this {
    if (s === null) return this.uvarint(0)
    const len = utf8Length(s)
    this.uvarint(len + 1)
    this.utf8(s, len)
    return this
  }

  compactString(s: string): this {
    return this.compactNullableString(s)
  }

  nullableBytes(b: Uint8Array | null): this {
    if (b === null) return this.int32(-1)
    return this.int32(b.length).raw(b)
  }

  bytes(b: Uint8Array): this {
    return this.nullableBytes(b)
  }

  compactNullableBytes(b: Uint8Array | null): this {
    if (b === null) return this.uvarint(0)
    return this.uvarint(b.length + 1).raw(b)
  }

  compactBytes(b: Uint8Array): this {
    return this.compactNullableBytes(b)
  }

  /** int32 array length, -1 for null. */
  arrayLength(n: number): this {
    return this.int32(n)
  }

  /** uvarint(length + 1) array length, 0 for null (pass -1). */
  compactArrayLength(n: number): this {
    return this.uvarint(n + 1)
  }
}
