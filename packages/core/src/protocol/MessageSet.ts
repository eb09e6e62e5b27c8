/**
 * Legacy message sets (magic 0 and 1), spoken by old clients: Produce v0-2 and Fetch v0-3.
 *
 * Layout per message: `offset int64, size int32, crc uint32 (CRC-32 IEEE of magic..end), magic int8,
 * attributes int8, [timestamp int64, magic 1 only], key bytes, value bytes`. A compressed message
 * (attributes bits 0-2) wraps an inner message set in its value; with magic 1 the inner offsets are
 * relative and the wrapper carries the absolute offset of the last inner message. Produced message sets
 * are converted to RecordBatch v2 on append ({@link toRecordBatch}); Fetch v0-3 converts back
 * ({@link fromRecordBatches}).
 */
import { Codec, compress, DEFAULT_MAX_DECOMPRESSED_BYTES, decompress } from "./Compression.js"
import { crc32 } from "./internal/crc32.js"
import { decodeFrames as lz4DecodeFrames } from "./internal/lz4.js"
import { fail } from "./ProtocolError.js"
import * as RecordBatch from "./RecordBatch.js"

/** offset (8) + size (4) */
export const LOG_OVERHEAD = 12
/** crc, magic, attributes, key length, value length */
const MIN_MESSAGE_SIZE_V0 = 14
/** ... plus the timestamp */
const MIN_MESSAGE_SIZE_V1 = 22
const TIMESTAMP_TYPE_LOG_APPEND_TIME = 0x08

/** One legacy message, with its absolute offset (inner messages of compressed wrappers are flattened). */
export interface LegacyMessage {
  readonly offset: number
  readonly magic: 0 | 1
  /** The attributes of the message as written; for inner messages, the wrapper's compression is in `codec`. */
  readonly attributes: number
  /** Compression codec of the wrapper it came in, 0 when it was not compressed. */
  readonly codec: number
  /** -1 for magic 0; the wrapper's timestamp when the wrapper is LogAppendTime. */
  readonly timestamp: number
  readonly key: Uint8Array | null
  readonly value: Uint8Array | null
}

/** Options for {@link decode}. */
export interface DecodeOptions {
  /** Ignore a partial message at the end (a Fetch response cut at `max.bytes`) instead of failing. */
  readonly allowTruncatedTail?: boolean
  /** Cap on each decompressed wrapper (default 64 MiB). */
  readonly maxDecompressedBytes?: number
}

/** The magic byte of the batch or message at `pos` (byte 16 in both formats), failing when truncated. */
export const magicAt = (buf: Uint8Array, pos = 0): number => {
  if (pos + 17 > buf.length) fail(`batch at ${pos} too short to hold a magic byte`, pos)
  return (buf[pos + 16]! << 24) >> 24
}

/** True when the batch at `pos` is a legacy message set entry (magic 0 or 1), false for RecordBatch v2. */
export const isLegacy = (buf: Uint8Array, pos = 0): boolean => magicAt(buf, pos) < 2

const int64At = (view: DataView, pos: number): number => {
  const hi = view.getInt32(pos)
  if (hi > 0x1fffff || hi < -0x200000) fail(`int64 at ${pos} is not a safe integer`, pos)
  return hi * 0x100000000 + view.getUint32(pos + 4)
}

const bytesAt = (buf: Uint8Array, view: DataView, pos: number, end: number): [Uint8Array | null, number] => {
  if (pos + 4 > end) fail("message field length truncated", pos)
  const n = view.getInt32(pos)
  if (n === -1) return [null, pos + 4]
  if (n < 0 || pos + 4 + n > end) fail(`invalid message field length ${n}`, pos)
  return [buf.subarray(pos + 4, pos + 4 + n), pos + 4 + n]
}

const decompressLegacy = (codec: number, magic: number, data: Uint8Array, maxBytes: number): Uint8Array => {
  if (codec > Codec.lz4) fail(`compression codec ${codec} is not valid for magic ${magic}`)
  // Magic 0 LZ4 (Kafka < 0.10) computed the frame header checksum wrongly: decode without checking it.
  if (codec === Codec.lz4 && magic === 0) return lz4DecodeFrames(data, maxBytes)
  return decompress(codec, data, { maxBytes })
}

const decodeInto = (
  buf: Uint8Array,
  out: Array<LegacyMessage>,
  options: DecodeOptions,
  wrapper:
    | { readonly offset: number; readonly magic: number; readonly timestamp: number; readonly attributes: number }
    | undefined
): void => {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const first = out.length
  let pos = 0
  while (pos < buf.length) {
    if (pos + LOG_OVERHEAD > buf.length) {
      if (options.allowTruncatedTail === true && wrapper === undefined) return
      fail("message set entry truncated", pos)
    }
    const offset = int64At(view, pos)
    const size = view.getInt32(pos + 8)
    const end = pos + LOG_OVERHEAD + size
    if (size < MIN_MESSAGE_SIZE_V0) fail(`message size ${size} is too small`, pos + 8)
    if (end > buf.length) {
      if (options.allowTruncatedTail === true && wrapper === undefined) return
      fail(`message of ${size} bytes runs past the ${buf.length - pos - LOG_OVERHEAD} available`, pos)
    }
    const crc = view.getUint32(pos + 12)
    const magicByte = view.getInt8(pos + 16)
    if (magicByte !== 0 && magicByte !== 1) fail(`unsupported message magic ${magicByte}`, pos + 16)
    const magic = magicByte as 0 | 1
    if (magic === 1 && size < MIN_MESSAGE_SIZE_V1) fail(`message size ${size} is too small`, pos + 8)
    const computed = crc32(buf, pos + 16, end)
    if (computed !== crc) fail(`message CRC mismatch: stored ${crc}, computed ${computed}`, pos + 12)
    const attributes = view.getInt8(pos + 17)
    let p = pos + 18
    let timestamp = -1
    if (magic === 1) {
      timestamp = int64At(view, p)
      p += 8
    }
    const [key, afterKey] = bytesAt(buf, view, p, end)
    const [value, afterValue] = bytesAt(buf, view, afterKey, end)
    if (afterValue !== end) fail(`message size ${size} does not match its contents`, pos + 8)
    const codec = attributes & 0x07
    if (codec !== 0) {
      if (wrapper !== undefined) fail("nested compressed message", pos)
      if (value === null) fail("compressed message has a null value", pos)
      const inner = decompressLegacy(
        codec,
        magic,
        value!,
        options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES
      )
      decodeInto(inner, out, options, { offset, magic, timestamp, attributes })
    } else if (wrapper === undefined) {
      out.push({ offset, magic, attributes, codec: 0, timestamp, key, value })
    } else {
      if (magic !== wrapper.magic) fail(`inner message magic ${magic} differs from its wrapper's ${wrapper.magic}`, pos)
      const logAppendTime = (wrapper.attributes & TIMESTAMP_TYPE_LOG_APPEND_TIME) !== 0
      out.push({
        offset,
        magic,
        attributes,
        codec: wrapper.attributes & 0x07,
        timestamp: magic === 1 && logAppendTime ? wrapper.timestamp : timestamp,
        key,
        value
      })
    }
    pos = end
  }
  if (wrapper !== undefined && wrapper.magic === 1 && out.length > first) {
    // Inner offsets are relative; the wrapper holds the absolute offset of the last one.
    const lastRelative = out[out.length - 1]!.offset
    for (let i = first; i < out.length; i++) {
      const m = out[i]!
      out[i] = { ...m, offset: wrapper.offset - lastRelative + m.offset }
    }
  }
}

/** Decodes a legacy message set, checking every CRC and flattening compressed wrappers. */
export const decode = (buf: Uint8Array, options: DecodeOptions = {}): Array<LegacyMessage> => {
  const out: Array<LegacyMessage> = []
  decodeInto(buf, out, options, undefined)
  return out
}

/** Options for {@link toRecordBatch}. */
export interface ToRecordBatchOptions {
  /** Compression of the v2 batch; default the codec the producer used (of the first wrapper), else none. */
  readonly compression?: RecordBatch.Compression
  readonly maxDecompressedBytes?: number
}

/**
 * Converts a produced legacy message set into one RecordBatch v2 with offset deltas 0..n-1 (the broker
 * assigns offsets on append). Magic 0 messages get timestamp -1 (no timestamp), as Kafka does.
 * Fails with a ProtocolError when the message set is malformed or empty.
 */
export const toRecordBatch = (messageSet: Uint8Array, options: ToRecordBatchOptions = {}): Buffer => {
  const messages = decode(
    messageSet,
    options.maxDecompressedBytes === undefined ? {} : { maxDecompressedBytes: options.maxDecompressedBytes }
  )
  if (messages.length === 0) fail("empty message set")
  const compression = options.compression ?? (messages[0]!.codec as RecordBatch.Compression)
  const records = messages.map((m, i) => ({ key: m.key, value: m.value, timestamp: m.timestamp, offsetDelta: i }))
  return RecordBatch.encode(records, { compression })
}

/** A message to encode into a legacy message set. */
export interface LegacyMessageInput {
  readonly offset: number
  /** Ignored for magic 0; default now for magic 1. */
  readonly timestamp?: number
  readonly key?: Uint8Array | null
  readonly value: Uint8Array | null
}

/** Options for {@link encode}. */
export interface EncodeOptions {
  readonly magic: 0 | 1
  /** gzip, snappy or lz4 (zstd does not exist for legacy messages); default none. */
  readonly compression?: RecordBatch.Compression
  /** Magic 1: mark the wrapper LogAppendTime with this timestamp. */
  readonly logAppendTime?: number
}

const messageSize = (magic: number, key: Uint8Array | null, value: Uint8Array | null): number =>
  (magic === 1 ? MIN_MESSAGE_SIZE_V1 : MIN_MESSAGE_SIZE_V0) + (key?.length ?? 0) + (value?.length ?? 0)

const writeMessage = (
  out: Buffer,
  pos: number,
  offset: number,
  magic: number,
  attributes: number,
  timestamp: number,
  key: Uint8Array | null,
  value: Uint8Array | null
): number => {
  const size = messageSize(magic, key, value)
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength)
  const hi = Math.floor(offset / 0x100000000)
  view.setInt32(pos, hi)
  view.setUint32(pos + 4, offset - hi * 0x100000000)
  view.setInt32(pos + 8, size)
  view.setInt8(pos + 16, magic)
  view.setInt8(pos + 17, attributes)
  let p = pos + 18
  if (magic === 1) {
    const th = Math.floor(timestamp / 0x100000000)
    view.setInt32(p, th)
    view.setUint32(p + 4, timestamp - th * 0x100000000)
    p += 8
  }
  for (const b of [key, value]) {
    if (b === null) {
      view.setInt32(p, -1)
      p += 4
    } else {
      view.setInt32(p, b.length)
      out.set(b, p + 4)
      p += 4 + b.length
    }
  }
  view.setUint32(pos + 12, crc32(out, pos + 16, p))
  return p
}

const encodeFlat = (
  messages: ReadonlyArray<LegacyMessageInput>,
  magic: 0 | 1,
  now: number,
  offsetOf: (m: LegacyMessageInput, i: number) => number,
  attributes: number
): Buffer => {
  let size = 0
  for (const m of messages) size += LOG_OVERHEAD + messageSize(magic, m.key ?? null, m.value)
  const out = Buffer.allocUnsafe(size)
  let pos = 0
  messages.forEach((m, i) => {
    pos = writeMessage(out, pos, offsetOf(m, i), magic, attributes, m.timestamp ?? now, m.key ?? null, m.value)
  })
  return out
}

/**
 * Encodes a legacy message set for old consumers (Fetch v0-3). With compression, all messages go into
 * one wrapper message (magic 1: relative inner offsets, the wrapper holding the last absolute offset).
 */
export const encode = (messages: ReadonlyArray<LegacyMessageInput>, options: EncodeOptions): Buffer => {
  const { magic } = options
  const now = Date.now()
  const codec = options.compression ?? 0
  const tsType = magic === 1 && options.logAppendTime !== undefined ? TIMESTAMP_TYPE_LOG_APPEND_TIME : 0
  if (codec === 0) {
    const stamped = tsType === 0 ? messages : messages.map((m) => ({ ...m, timestamp: options.logAppendTime ?? now }))
    return encodeFlat(stamped, magic, now, (m) => m.offset, tsType)
  }
  if (codec > Codec.lz4) fail(`compression codec ${codec} is not valid for magic ${magic}`)
  if (messages.length === 0) return Buffer.alloc(0)
  const inner = encodeFlat(messages, magic, now, magic === 1 ? (_, i) => i : (m) => m.offset, 0)
  const last = messages[messages.length - 1]!
  let maxTimestamp = -1
  for (const m of messages) maxTimestamp = Math.max(maxTimestamp, m.timestamp ?? now)
  const value = compress(codec, inner)
  const out = Buffer.allocUnsafe(LOG_OVERHEAD + messageSize(magic, null, value))
  writeMessage(out, 0, last.offset, magic, codec | tsType, options.logAppendTime ?? maxTimestamp, null, value)
  return out
}

/**
 * Converts consecutive RecordBatch v2 batches into a legacy message set for Fetch v0-3, skipping control
 * batches. Headers are dropped (legacy messages have none). Keeps each batch's codec unless it is zstd.
 */
export const fromRecordBatches = (buf: Uint8Array, magic: 0 | 1): Buffer => {
  const parts: Array<Buffer> = []
  for (const { position, header } of RecordBatch.headers(buf)) {
    if (RecordBatch.isControl(header.attributes)) continue
    const { records } = RecordBatch.decode(buf, position)
    const codec = RecordBatch.compressionOf(header.attributes)
    const logAppendTime = (header.attributes & RecordBatch.Attributes.timestampTypeLogAppendTime) !== 0
    parts.push(
      encode(
        records.map((r) => ({ offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value })),
        {
          magic,
          compression: (codec === Codec.zstd ? 0 : codec) as RecordBatch.Compression,
          ...(logAppendTime && magic === 1 ? { logAppendTime: header.maxTimestamp } : {})
        }
      )
    )
  }
  return Buffer.concat(parts)
}
