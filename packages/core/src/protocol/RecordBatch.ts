/**
 * RecordBatch v2 (magic 2): the unit the broker stores and serves.
 *
 * The header-level API is used on the broker's hot path: parse the 61-byte header, check the CRC,
 * rewrite `baseOffset` and `partitionLeaderEpoch` in place; none of it decodes records. Below it:
 * record encode/decode (lazy or eager), full broker-side validation and control records.
 * Offsets, timestamps and producer ids are JS numbers: they must be safe integers, else the batch
 * is rejected with a {@link ProtocolError}.
 */

import { isUtf8 } from "node:buffer"
import {
  compress as compressBytes,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  decompress as decompressBytes
} from "./Compression.js"
import { crc32c } from "./Crc32c.js"
import { fail, isProtocolError } from "./ProtocolError.js"
import { Reader } from "./Reader.js"

/** Bytes before `batchLength` counts: baseOffset (8) + batchLength (4). */
export const LOG_OVERHEAD = 12
/** Size of the RecordBatch v2 header, up to and including the record count. */
export const HEADER_SIZE = 61
/** Position of fields inside a batch. */
export const Field = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordCount: 57,
  records: 61
} as const

/** Compression codec ids (attribute bits 0-2). */
export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const
/** A compression codec id. */
export type Compression = (typeof Compression)[keyof typeof Compression]

/** Attribute bits. */
export const Attributes = {
  compressionMask: 0x07,
  timestampTypeLogAppendTime: 0x08,
  transactional: 0x10,
  control: 0x20,
  hasDeleteHorizon: 0x40
} as const

/** The fields of a RecordBatch v2 header. */
export interface RecordBatchHeader {
  readonly baseOffset: number
  readonly batchLength: number
  readonly partitionLeaderEpoch: number
  readonly magic: number
  readonly crc: number
  readonly attributes: number
  readonly lastOffsetDelta: number
  readonly baseTimestamp: number
  readonly maxTimestamp: number
  readonly producerId: number
  readonly producerEpoch: number
  readonly baseSequence: number
  readonly recordCount: number
}

const readInt64Number = (view: DataView, pos: number): number => {
  const hi = view.getInt32(pos)
  const lo = view.getUint32(pos + 4)
  if (hi > 0x1fffff || hi < -0x200000) fail(`int64 at ${pos} is not a safe integer`, pos)
  return hi * 0x100000000 + lo
}

const writeInt64Number = (view: DataView, pos: number, v: number): void => {
  const hi = Math.floor(v / 0x100000000)
  view.setInt32(pos, hi)
  view.setUint32(pos + 4, v - hi * 0x100000000)
}

const viewOf = (buf: Uint8Array): DataView => new DataView(buf.buffer, buf.byteOffset, buf.byteLength)

/** Total size in bytes of the batch starting at `pos` (LOG_OVERHEAD + batchLength), read without checks. */
export const sizeAt = (buf: Uint8Array, pos = 0): number => LOG_OVERHEAD + viewOf(buf).getInt32(pos + Field.batchLength)

/**
 * Parses the header of the batch at `pos`. Fails if the header is truncated, the magic is not 2,
 * `batchLength` is impossible or runs past the buffer.
 */
export const readHeader = (buf: Uint8Array, pos = 0): RecordBatchHeader => {
  if (pos + HEADER_SIZE > buf.length) fail(`record batch header truncated: ${buf.length - pos} bytes`, pos)
  const view = viewOf(buf)
  const batchLength = view.getInt32(pos + Field.batchLength)
  const magic = view.getInt8(pos + Field.magic)
  if (magic !== 2) fail(`unsupported record batch magic ${magic}`, pos + Field.magic)
  if (batchLength < HEADER_SIZE - LOG_OVERHEAD) fail(`record batch length ${batchLength} is too small`, pos)
  if (pos + LOG_OVERHEAD + batchLength > buf.length) {
    fail(`record batch of ${LOG_OVERHEAD + batchLength} bytes runs past the ${buf.length - pos} available`, pos)
  }
  return {
    baseOffset: readInt64Number(view, pos + Field.baseOffset),
    batchLength,
    partitionLeaderEpoch: view.getInt32(pos + Field.partitionLeaderEpoch),
    magic,
    crc: view.getUint32(pos + Field.crc),
    attributes: view.getInt16(pos + Field.attributes),
    lastOffsetDelta: view.getInt32(pos + Field.lastOffsetDelta),
    baseTimestamp: readInt64Number(view, pos + Field.baseTimestamp),
    maxTimestamp: readInt64Number(view, pos + Field.maxTimestamp),
    producerId: readInt64Number(view, pos + Field.producerId),
    producerEpoch: view.getInt16(pos + Field.producerEpoch),
    baseSequence: view.getInt32(pos + Field.baseSequence),
    recordCount: view.getInt32(pos + Field.recordCount)
  }
}

/** CRC-32C over the bytes the batch CRC covers (attributes to the end). */
export const computeCrc = (buf: Uint8Array, pos = 0, size = sizeAt(buf, pos)): number =>
  crc32c(buf, pos + Field.attributes, pos + size)

/** True when the stored CRC matches the batch bytes. */
export const isCrcValid = (buf: Uint8Array, pos = 0, size = sizeAt(buf, pos)): boolean =>
  viewOf(buf).getUint32(pos + Field.crc) === computeCrc(buf, pos, size)

/** Recomputes and stores the CRC (after changing a covered field, e.g. LogAppendTime). */
export const writeCrc = (buf: Uint8Array, pos = 0, size = sizeAt(buf, pos)): void =>
  viewOf(buf).setUint32(pos + Field.crc, computeCrc(buf, pos, size))

/** Rewrites `baseOffset` in place; the CRC does not cover it. */
export const setBaseOffset = (buf: Uint8Array, pos: number, baseOffset: number): void =>
  writeInt64Number(viewOf(buf), pos + Field.baseOffset, baseOffset)

/** Rewrites `partitionLeaderEpoch` in place; the CRC does not cover it. */
export const setPartitionLeaderEpoch = (buf: Uint8Array, pos: number, epoch: number): void =>
  viewOf(buf).setInt32(pos + Field.partitionLeaderEpoch, epoch)

/** Reads `baseOffset` of the batch at `pos`. */
export const baseOffsetAt = (buf: Uint8Array, pos = 0): number => readInt64Number(viewOf(buf), pos + Field.baseOffset)

/** Last offset of a batch: baseOffset + lastOffsetDelta. */
export const lastOffset = (h: RecordBatchHeader): number => h.baseOffset + h.lastOffsetDelta

/** Compression codec of a batch. */
export const compressionOf = (attributes: number): number => attributes & Attributes.compressionMask

/** True for a transactional batch. */
export const isTransactional = (attributes: number): boolean => (attributes & Attributes.transactional) !== 0

/** True for a control batch (transaction markers). */
export const isControl = (attributes: number): boolean => (attributes & Attributes.control) !== 0

/** Position and header of each batch in a buffer holding consecutive batches; fails on a torn tail. */
export const headers = (buf: Uint8Array): Array<{ readonly position: number; readonly header: RecordBatchHeader }> => {
  const out: Array<{ position: number; header: RecordBatchHeader }> = []
  let pos = 0
  while (pos < buf.length) {
    const header = readHeader(buf, pos)
    out.push({ position: pos, header })
    pos += LOG_OVERHEAD + header.batchLength
  }
  return out
}

// ---------------------------------------------------------------------------------------------------
// Records: encode, decode, validate, control records
// ---------------------------------------------------------------------------------------------------

/** A record header: a UTF-8 key and a nullable value. */
export interface RecordHeader {
  readonly key: string
  readonly value: Uint8Array | null
}

/** A decoded record with absolute offset and timestamp. */
export interface Record {
  /** baseOffset + offsetDelta */
  readonly offset: number
  /** baseTimestamp + timestampDelta; maxTimestamp when the batch is LogAppendTime */
  readonly timestamp: number
  readonly key: Uint8Array | null
  readonly value: Uint8Array | null
  readonly headers: ReadonlyArray<RecordHeader>
}

/** A record to encode. `timestamp` defaults to now, `offsetDelta` to its index. */
export interface RecordInput {
  readonly key?: Uint8Array | null
  readonly value: Uint8Array | null
  readonly headers?: ReadonlyArray<RecordHeader>
  readonly timestamp?: number
  readonly offsetDelta?: number
}

/** Batch-level options for {@link encode}; every field has Kafka's "none" default. */
export interface EncodeOptions {
  /** Default 0. */
  readonly baseOffset?: number
  /** Default -1. */
  readonly partitionLeaderEpoch?: number
  /** Default `Compression.none`. */
  readonly compression?: Compression
  /** Sets the LogAppendTime bit; readers then see every record's timestamp as maxTimestamp. */
  readonly logAppendTime?: boolean
  /** Default -1. */
  readonly producerId?: number
  /** Default -1. */
  readonly producerEpoch?: number
  /** Default -1. */
  readonly baseSequence?: number
  readonly transactional?: boolean
  readonly control?: boolean
  /** Sets the delete-horizon bit and stores the horizon as baseTimestamp (compaction). */
  readonly deleteHorizonMs?: number
  /** Overrides the base timestamp (default: the first record's timestamp). */
  readonly baseTimestamp?: number
}

const EMPTY_HEADERS: ReadonlyArray<RecordHeader> = []
/** Smallest possible encoded record: length, attributes, timestampDelta, offsetDelta, key, value, header count. */
const MIN_RECORD_SIZE = 7
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

const uvarintSize = (v: number): number => (v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5)
const zigzag32 = (v: number): number => ((v << 1) ^ (v >> 31)) >>> 0
const varintSize = (v: number): number => uvarintSize(zigzag32(v))
const varlongSize = (v: number): number => {
  let u = v >= 0 ? v * 2 : -v * 2 - 1
  let n = 1
  while (u >= 0x80) {
    u = Math.floor(u / 128)
    n++
  }
  return n
}
const putUvarint = (buf: Buffer, pos: number, v: number): number => {
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80
    v >>>= 7
  }
  buf[pos++] = v
  return pos
}
const putVarlong = (buf: Buffer, pos: number, v: number): number => {
  let u = v >= 0 ? v * 2 : -v * 2 - 1
  while (u >= 0x80) {
    buf[pos++] = (u % 128) | 0x80
    u = Math.floor(u / 128)
  }
  buf[pos++] = u
  return pos
}
const putBytes = (buf: Buffer, pos: number, b: Uint8Array | null): number => {
  if (b === null) {
    buf[pos] = 1 // zigzag(-1)
    return pos + 1
  }
  pos = putUvarint(buf, pos, zigzag32(b.length))
  buf.set(b, pos)
  return pos + b.length
}
const bytesSize = (b: Uint8Array | null): number => (b === null ? 1 : varintSize(b.length) + b.length)

const recordBodySize = (r: RecordInput, timestampDelta: number, offsetDelta: number): number => {
  let size = 1 + varlongSize(timestampDelta) + varintSize(offsetDelta) + bytesSize(r.key ?? null) + bytesSize(r.value)
  const headers = r.headers ?? EMPTY_HEADERS
  size += varintSize(headers.length)
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!
    const keyLength = Buffer.byteLength(h.key, "utf8")
    size += varintSize(keyLength) + keyLength + bytesSize(h.value)
  }
  return size
}

const writeHeaderFields = (
  out: Buffer,
  o: EncodeOptions,
  attributes: number,
  lastOffsetDelta: number,
  baseTimestamp: number,
  maxTimestamp: number,
  count: number
): void => {
  const view = viewOf(out)
  writeInt64Number(view, Field.baseOffset, o.baseOffset ?? 0)
  view.setInt32(Field.batchLength, out.length - LOG_OVERHEAD)
  view.setInt32(Field.partitionLeaderEpoch, o.partitionLeaderEpoch ?? -1)
  view.setInt8(Field.magic, 2)
  view.setInt16(Field.attributes, attributes)
  view.setInt32(Field.lastOffsetDelta, lastOffsetDelta)
  writeInt64Number(view, Field.baseTimestamp, baseTimestamp)
  writeInt64Number(view, Field.maxTimestamp, maxTimestamp)
  writeInt64Number(view, Field.producerId, o.producerId ?? -1)
  view.setInt16(Field.producerEpoch, o.producerEpoch ?? -1)
  view.setInt32(Field.baseSequence, o.baseSequence ?? -1)
  view.setInt32(Field.recordCount, count)
}

/**
 * Encodes records into one RecordBatch v2 (CRC included). Sizes are computed first and the batch is written
 * into one exact-size buffer (compressed batches compress the records section as one blob).
 */
export const encode = (records: ReadonlyArray<RecordInput>, options: EncodeOptions = {}): Buffer => {
  const n = records.length
  const now = Date.now()
  let maxTimestamp = -1
  let lastOffsetDelta = -1
  const first = records[0]
  let baseTimestamp =
    options.deleteHorizonMs ?? options.baseTimestamp ?? (first === undefined ? -1 : (first.timestamp ?? now))
  if (n === 0 && options.deleteHorizonMs === undefined) baseTimestamp = options.baseTimestamp ?? -1
  const bodySizes = new Array<number>(n)
  let recordsSize = 0
  for (let i = 0; i < n; i++) {
    const r = records[i]!
    const ts = r.timestamp ?? now
    const offsetDelta = r.offsetDelta ?? i
    if (ts > maxTimestamp) maxTimestamp = ts
    if (offsetDelta > lastOffsetDelta) lastOffsetDelta = offsetDelta
    const body = recordBodySize(r, ts - baseTimestamp, offsetDelta)
    bodySizes[i] = body
    recordsSize += uvarintSize(zigzag32(body)) + body
  }
  const codec = options.compression ?? Compression.none
  let attributes = codec
  if (options.logAppendTime === true) attributes |= Attributes.timestampTypeLogAppendTime
  if (options.transactional === true) attributes |= Attributes.transactional
  if (options.control === true) attributes |= Attributes.control
  if (options.deleteHorizonMs !== undefined) attributes |= Attributes.hasDeleteHorizon

  const uncompressed = codec === Compression.none
  const out = Buffer.allocUnsafe(uncompressed ? HEADER_SIZE + recordsSize : recordsSize)
  let pos = uncompressed ? HEADER_SIZE : 0
  for (let i = 0; i < n; i++) {
    const r = records[i]!
    pos = putUvarint(out, pos, zigzag32(bodySizes[i]!))
    out[pos++] = 0 // record attributes
    pos = putVarlong(out, pos, (r.timestamp ?? now) - baseTimestamp)
    pos = putUvarint(out, pos, zigzag32(r.offsetDelta ?? i))
    pos = putBytes(out, pos, r.key ?? null)
    pos = putBytes(out, pos, r.value)
    const headers = r.headers ?? EMPTY_HEADERS
    pos = putUvarint(out, pos, zigzag32(headers.length))
    for (let j = 0; j < headers.length; j++) {
      const h = headers[j]!
      const keyLength = Buffer.byteLength(h.key, "utf8")
      pos = putUvarint(out, pos, zigzag32(keyLength))
      pos += out.write(h.key, pos, keyLength, "utf8")
      pos = putBytes(out, pos, h.value)
    }
  }
  let batch = out
  if (!uncompressed) {
    const compressed = compressBytes(codec, out)
    batch = Buffer.allocUnsafe(HEADER_SIZE + compressed.length)
    batch.set(compressed, HEADER_SIZE)
  }
  writeHeaderFields(batch, options, attributes, lastOffsetDelta, baseTimestamp, maxTimestamp, n)
  writeCrc(batch, 0, batch.length)
  return batch
}

/** The records section of the batch at `pos`, decompressed when the batch is compressed. */
const recordsSection = (
  buf: Uint8Array,
  pos: number,
  header: RecordBatchHeader,
  maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES
): Uint8Array => {
  const section = buf.subarray(pos + HEADER_SIZE, pos + LOG_OVERHEAD + header.batchLength)
  const codec = compressionOf(header.attributes)
  return codec === Compression.none ? section : decompressBytes(codec, section, { maxBytes })
}

const readUtf8 = (r: Reader, n: number): string => {
  const bytes = r.raw(n)
  try {
    return utf8Decoder.decode(bytes)
  } catch {
    return fail("invalid UTF-8 in record header key", r.offset - n)
  }
}

const readNullableBytes = (r: Reader): Uint8Array | null => {
  const n = r.varint()
  if (n < 0) return n === -1 ? null : fail(`invalid record field length ${n}`, r.offset)
  return r.raw(n)
}

/** Reads one record at the reader's position; `r.end` bounds it. */
const readRecord = (r: Reader, baseOffset: number, baseTimestamp: number, logAppendTime: number): Record => {
  const length = r.varint()
  if (length < 0 || length > r.remaining) fail(`invalid record length ${length}`, r.offset)
  const end = r.offset + length
  r.offset++ // attributes (unused)
  if (r.offset > end) fail("record truncated", r.offset)
  const timestampDelta = r.varlongNumber()
  const offsetDelta = r.varint()
  const key = readNullableBytes(r)
  const value = readNullableBytes(r)
  const headerCount = r.varint()
  if (headerCount < 0 || headerCount * 2 > end - r.offset) fail(`invalid header count ${headerCount}`, r.offset)
  let headers: Array<RecordHeader> | ReadonlyArray<RecordHeader> = EMPTY_HEADERS
  if (headerCount > 0) {
    const hs = new Array<RecordHeader>(headerCount)
    for (let i = 0; i < headerCount; i++) {
      const keyLength = r.varint()
      if (keyLength < 0) fail(`invalid header key length ${keyLength}`, r.offset)
      const hk = readUtf8(r, keyLength)
      hs[i] = { key: hk, value: readNullableBytes(r) }
    }
    headers = hs
  }
  if (r.offset !== end) fail(`record length ${length} does not match its contents`, r.offset)
  return {
    offset: baseOffset + offsetDelta,
    timestamp: logAppendTime >= 0 ? logAppendTime : baseTimestamp + timestampDelta,
    key,
    value,
    headers
  }
}

const readRecords = (section: Uint8Array, header: RecordBatchHeader, out: Array<Record>): void => {
  const count = header.recordCount
  if (count < 0 || count * MIN_RECORD_SIZE > section.length) {
    fail(`record count ${count} does not fit in ${section.length} bytes`)
  }
  const r = new Reader(section)
  const logAppendTime = (header.attributes & Attributes.timestampTypeLogAppendTime) !== 0 ? header.maxTimestamp : -1
  for (let i = 0; i < count; i++) out.push(readRecord(r, header.baseOffset, header.baseTimestamp, logAppendTime))
  if (r.remaining !== 0) fail(`${r.remaining} bytes left after ${count} records`, r.offset)
}

/**
 * Decodes the batch at `pos` with all its records (decompressing if needed). Does not check the CRC:
 * use {@link validate} or {@link isCrcValid} for that. Uncompressed keys and values are views into `buf`.
 */
export const decode = (
  buf: Uint8Array,
  pos = 0
): { readonly header: RecordBatchHeader; readonly records: Array<Record> } => {
  const header = readHeader(buf, pos)
  const records: Array<Record> = []
  readRecords(recordsSection(buf, pos, header), header, records)
  return { header, records }
}

/** The records of the batch at `pos`, decoded lazily: decompression happens on the first iteration. */
export const records = (buf: Uint8Array, pos = 0): Iterable<Record> => {
  const header = readHeader(buf, pos)
  let section: Uint8Array | undefined
  return {
    *[Symbol.iterator]() {
      section ??= recordsSection(buf, pos, header)
      const count = header.recordCount
      if (count < 0 || count * MIN_RECORD_SIZE > section.length) {
        fail(`record count ${count} does not fit in ${section.length} bytes`)
      }
      const r = new Reader(section)
      const lat = (header.attributes & Attributes.timestampTypeLogAppendTime) !== 0 ? header.maxTimestamp : -1
      for (let i = 0; i < count; i++) yield readRecord(r, header.baseOffset, header.baseTimestamp, lat)
      if (r.remaining !== 0) fail(`${r.remaining} bytes left after ${count} records`, r.offset)
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Validation walk: checks every record's structure without decoding it (no allocation per record)
// ---------------------------------------------------------------------------------------------------

/** What {@link walkRecords} found; one reused object (the walk is synchronous and not reentrant). */
const walked = { nullKey: false, minTimestamp: 0, maxTimestamp: 0 }
/** Position after the last {@link varintSlow} / {@link varlongSlow} read. */
const slow = { at: 0 }

/** Zigzag varint (int32, at most 5 bytes) at `p`, not reading at or past `end`; sets `slow.at`. */
const varintSlow = (s: Uint8Array, p: number, end: number): number => {
  let u = 0
  let mul = 1
  for (let i = 0; i < 5; i++) {
    if (p >= end) return fail("varint runs past the record", p)
    const b = s[p++]!
    u += (b & 0x7f) * mul
    if (b < 0x80) {
      if (u > 0xffffffff) fail("varint overflows 32 bits", p)
      slow.at = p
      return u % 2 === 0 ? u / 2 : -(u + 1) / 2
    }
    mul *= 128
  }
  return fail("varint longer than 5 bytes", p)
}

/** Zigzag varlong at `p` as a safe integer (as `Reader.varlongNumber`), not reading past `end`; sets `slow.at`. */
const varlongSlow = (s: Uint8Array, p: number, end: number): number => {
  // low 28 bits and high bits kept apart so no intermediate loses precision
  let lo = 0
  let hi = 0
  for (let i = 0; i < 8; i++) {
    if (p >= end) return fail("varlong runs past the record", p)
    const b = s[p++]!
    if (i < 4) lo |= (b & 0x7f) << (7 * i)
    else hi += (b & 0x7f) * 2 ** (7 * (i - 4))
    if (b < 0x80) {
      const half = hi * 2 ** 27 + (lo >>> 1)
      if (half > Number.MAX_SAFE_INTEGER || ((lo & 1) === 1 && half >= Number.MAX_SAFE_INTEGER)) break
      slow.at = p
      return (lo & 1) === 1 ? -half - 1 : half
    }
  }
  return fail("varlong is not a safe integer", p)
}

/** True when `s[from, to)` is valid UTF-8 (ASCII checked in place, anything else by Node). */
const isUtf8Range = (s: Uint8Array, from: number, to: number): boolean => {
  for (let i = from; i < to; i++) if (s[i]! >= 0x80) return isUtf8(s.subarray(from, to))
  return true
}

/**
 * Walks `count` records of an uncompressed records section, checking lengths, offset deltas 0..n-1,
 * header keys (UTF-8) and that the records fill the section exactly; fills {@link walked}. Throws a
 * ProtocolError on the first problem. Varints of one byte (the usual case) are read inline.
 */
const walkRecords = (s: Uint8Array, count: number, baseTimestamp: number): void => {
  const sectionEnd = s.length
  let p = 0
  let nullKey = false
  let minTimestamp = Number.POSITIVE_INFINITY
  let maxTimestamp = Number.NEGATIVE_INFINITY
  for (let i = 0; i < count; i++) {
    // length
    if (p >= sectionEnd) fail("record truncated", p)
    let b = s[p]!
    let length: number
    if (b < 0x80) {
      length = (b >>> 1) ^ -(b & 1)
      p++
    } else {
      length = varintSlow(s, p, sectionEnd)
      p = slow.at
    }
    if (length < 1 || length > sectionEnd - p) fail(`invalid record length ${length}`, p)
    const end = p + length
    p++ // attributes (unused)
    // timestampDelta
    if (p >= end) fail("record truncated", p)
    b = s[p]!
    let timestampDelta: number
    if (b < 0x80) {
      timestampDelta = (b >>> 1) ^ -(b & 1)
      p++
    } else {
      timestampDelta = varlongSlow(s, p, end)
      p = slow.at
    }
    // offsetDelta
    if (p >= end) fail("record truncated", p)
    b = s[p]!
    let offsetDelta: number
    if (b < 0x80) {
      offsetDelta = (b >>> 1) ^ -(b & 1)
      p++
    } else {
      offsetDelta = varintSlow(s, p, end)
      p = slow.at
    }
    if (offsetDelta !== i) fail(`record ${i} has offset delta ${offsetDelta}`, p)
    // key, value, headers
    for (let field = 0; field < 2; field++) {
      if (p >= end) fail("record truncated", p)
      b = s[p]!
      let n: number
      if (b < 0x80) {
        n = (b >>> 1) ^ -(b & 1)
        p++
      } else {
        n = varintSlow(s, p, end)
        p = slow.at
      }
      if (n < 0) {
        if (n !== -1) fail(`invalid record field length ${n}`, p)
        if (field === 0) nullKey = true
      } else if (n > end - p) fail(`record field of ${n} bytes runs past the record`, p)
      else p += n
    }
    const headerCount = varintSlow(s, p, end)
    p = slow.at
    if (headerCount < 0 || headerCount * 2 > end - p) fail(`invalid header count ${headerCount}`, p)
    for (let h = 0; h < headerCount; h++) {
      const keyLength = varintSlow(s, p, end)
      p = slow.at
      if (keyLength < 0 || keyLength > end - p) fail(`invalid header key length ${keyLength}`, p)
      if (!isUtf8Range(s, p, p + keyLength)) fail("invalid UTF-8 in record header key", p)
      p += keyLength
      const valueLength = varintSlow(s, p, end)
      p = slow.at
      if (valueLength < -1 || valueLength > end - p) fail(`invalid header value length ${valueLength}`, p)
      if (valueLength > 0) p += valueLength
    }
    if (p !== end) fail(`record length ${length} does not match its contents`, p)
    const timestamp = baseTimestamp + timestampDelta
    if (timestamp < minTimestamp) minTimestamp = timestamp
    if (timestamp > maxTimestamp) maxTimestamp = timestamp
  }
  if (p !== sectionEnd) fail(`${sectionEnd - p} bytes left after ${count} records`, p)
  walked.nullKey = nullKey
  walked.minTimestamp = minTimestamp
  walked.maxTimestamp = maxTimestamp
}

/** Kafka error names {@link validate} can report, with their error codes. */
export const ValidationErrorCode = {
  CORRUPT_MESSAGE: 2,
  INVALID_RECORD: 87,
  UNSUPPORTED_COMPRESSION_TYPE: 76
} as const

/** A batch the broker must reject: the Kafka error name and code, and why. */
export interface ValidationError {
  readonly _tag: "ValidationError"
  readonly error: keyof typeof ValidationErrorCode
  readonly errorCode: (typeof ValidationErrorCode)[keyof typeof ValidationErrorCode]
  readonly message: string
}

/** A batch that passed {@link validate}, with what the broker's remaining checks need. */
export interface ValidBatch {
  readonly _tag: "ValidBatch"
  readonly header: RecordBatchHeader
  /** Total bytes of the batch (LOG_OVERHEAD + batchLength). */
  readonly size: number
  /** True when some record has a null key (rejected on compacted topics). */
  readonly hasNullKey: boolean
  /** Smallest and largest record timestamps as written (CreateTime), for timestamp bounds checks. */
  readonly minTimestamp: number
  readonly maxTimestamp: number
  /** The uncompressed records section (a view into the input when the batch is not compressed). */
  readonly section: Uint8Array
}

/** Result of {@link validate}. */
export type ValidationResult = ValidBatch | ValidationError

/** Options for {@link validate}. */
export interface ValidateOptions {
  /** Cap on the decompressed records section (default 64 MiB). */
  readonly maxDecompressedBytes?: number
}

const invalid = (error: keyof typeof ValidationErrorCode, message: string): ValidationError => ({
  _tag: "ValidationError",
  error,
  errorCode: ValidationErrorCode[error],
  message
})

/** True for a {@link ValidationError}. */
export const isValidationError = (r: ValidationResult): r is ValidationError => r._tag === "ValidationError"

/**
 * Full broker-side validation of the batch at `pos`: header and `batchLength` against the bytes, magic,
 * CRC (CORRUPT_MESSAGE), codec (UNSUPPORTED_COMPRESSION_TYPE), record count vs `lastOffsetDelta`, every
 * record's structure and offset deltas 0..n-1 in order (INVALID_RECORD). Records are walked, not decoded
 * (nothing is allocated per record); a compressed batch is decompressed once. Never throws for bad input.
 */
export const validate = (buf: Uint8Array, pos = 0, options: ValidateOptions = {}): ValidationResult => {
  let header: RecordBatchHeader
  try {
    header = readHeader(buf, pos)
  } catch (e) {
    if (isProtocolError(e)) return invalid("CORRUPT_MESSAGE", e.message)
    throw e
  }
  const size = LOG_OVERHEAD + header.batchLength
  const crc = computeCrc(buf, pos, size)
  if (crc !== header.crc) {
    return invalid("CORRUPT_MESSAGE", `CRC mismatch: stored ${header.crc >>> 0}, computed ${crc}`)
  }
  const codec = compressionOf(header.attributes)
  if (codec > Compression.zstd) return invalid("UNSUPPORTED_COMPRESSION_TYPE", `unknown compression codec ${codec}`)
  const count = header.recordCount
  if (count < 0 || header.lastOffsetDelta + 1 !== count) {
    return invalid(
      "INVALID_RECORD",
      `record count ${count} inconsistent with lastOffsetDelta ${header.lastOffsetDelta}`
    )
  }
  let section: Uint8Array
  try {
    section = recordsSection(buf, pos, header, options.maxDecompressedBytes)
  } catch (e) {
    if (isProtocolError(e)) return invalid("CORRUPT_MESSAGE", e.message)
    throw e
  }
  if (count * MIN_RECORD_SIZE > section.length) {
    return invalid("INVALID_RECORD", `record count ${count} does not fit in ${section.length} bytes`)
  }
  try {
    walkRecords(section, count, header.baseTimestamp)
  } catch (e) {
    if (isProtocolError(e)) return invalid("INVALID_RECORD", e.message)
    throw e
  }
  return {
    _tag: "ValidBatch",
    header,
    size,
    hasNullKey: walked.nullKey,
    minTimestamp: count === 0 ? -1 : walked.minTimestamp,
    maxTimestamp: count === 0 ? -1 : walked.maxTimestamp,
    section
  }
}

/** Options for {@link recompress}. */
export interface RecompressOptions {
  /** The codec's level (gzip, zstd; see `Compression.compress`), else the codec's default. */
  readonly level?: number
  /** Stored as the batch's `maxTimestamp` (else the header's is kept). */
  readonly maxTimestamp?: number
}

/**
 * A copy of the batch at `pos` with its records section stored with `codec` (`none`: uncompressed), as the
 * broker stores a batch when a topic's `compression.type` names a codec. Every header field is kept (offset,
 * leader epoch, producer id, epoch and sequence, transactional and control flags, timestamps, record count);
 * the codec bits, `batchLength` and the CRC are rewritten. `section` is the batch's uncompressed records
 * section ({@link ValidBatch.section}): records are encoded the same whatever the codec, so none is decoded.
 */
export const recompress = (
  buf: Uint8Array,
  pos: number,
  section: Uint8Array,
  codec: Compression,
  options: RecompressOptions = {}
): Buffer => {
  const body =
    codec === Compression.none
      ? section
      : compressBytes(codec, section, options.level === undefined ? undefined : { level: options.level })
  const out = Buffer.allocUnsafe(HEADER_SIZE + body.length)
  out.set(buf.subarray(pos, pos + HEADER_SIZE), 0)
  out.set(body, HEADER_SIZE)
  const view = viewOf(out)
  view.setInt32(Field.batchLength, out.length - LOG_OVERHEAD)
  view.setInt16(Field.attributes, (view.getInt16(Field.attributes) & ~Attributes.compressionMask) | codec)
  if (options.maxTimestamp !== undefined) writeInt64Number(view, Field.maxTimestamp, options.maxTimestamp)
  writeCrc(out, 0, out.length)
  return out
}

/** Control record types (the int16 in a control record's key). */
export const ControlType = { ABORT: 0, COMMIT: 1, LEADER_CHANGE: 2 } as const

/** Encodes a control batch holding one transaction marker (ABORT or COMMIT). */
export const encodeControlBatch = (o: {
  readonly type: "ABORT" | "COMMIT"
  readonly producerId: number
  readonly producerEpoch: number
  readonly coordinatorEpoch: number
  readonly timestamp: number
  readonly baseOffset?: number
  readonly partitionLeaderEpoch?: number
}): Buffer => {
  const key = Buffer.allocUnsafe(4)
  key.writeInt16BE(0, 0)
  key.writeInt16BE(ControlType[o.type], 2)
  const value = Buffer.allocUnsafe(6)
  value.writeInt16BE(0, 0)
  value.writeInt32BE(o.coordinatorEpoch, 2)
  return encode([{ key, value, timestamp: o.timestamp }], {
    baseOffset: o.baseOffset ?? 0,
    partitionLeaderEpoch: o.partitionLeaderEpoch ?? -1,
    producerId: o.producerId,
    producerEpoch: o.producerEpoch,
    transactional: true,
    control: true
  })
}

/**
 * Decodes a control record: `type` from its key (0 ABORT, 1 COMMIT, ...) and, for ABORT/COMMIT, the
 * coordinator epoch from its value (-1 for other types). Fails with a ProtocolError when malformed.
 */
export const decodeControlRecord = (r: Record): { type: number; coordinatorEpoch: number } => {
  const key = r.key
  if (key === null || key.length < 4) return fail("control record key must hold int16 version, int16 type")
  const kv = viewOf(key)
  const version = kv.getInt16(0)
  if (version < 0) fail(`invalid control record version ${version}`)
  const type = kv.getInt16(2)
  if (type !== ControlType.ABORT && type !== ControlType.COMMIT) return { type, coordinatorEpoch: -1 }
  const value = r.value
  if (value === null || value.length < 6) {
    return fail("transaction marker value must hold int16 version, int32 coordinatorEpoch")
  }
  const vv = viewOf(value)
  if (vv.getInt16(0) < 0) fail(`invalid transaction marker version ${vv.getInt16(0)}`)
  return { type, coordinatorEpoch: vv.getInt32(2) }
}
