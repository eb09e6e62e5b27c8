/**
 * RecordBatch v2 (magic 2): the unit the broker stores and serves.
 *
 * This module is the header-level API used on the broker's hot path: parse the 61-byte header,
 * check the CRC, rewrite `baseOffset` and `partitionLeaderEpoch` in place. None of it decodes records.
 * Offsets, timestamps and producer ids are JS numbers: they must be safe integers, else the batch
 * is rejected with a {@link ProtocolError}.
 */
import { crc32c } from "./Crc32c.js"
import { fail } from "./ProtocolError.js"

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
