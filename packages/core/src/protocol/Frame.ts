/**
 * Size-prefix framing of Kafka requests and responses: every frame is an int32 size followed by that many bytes.
 *
 * Sans-io: {@link FrameDecoder} takes socket chunks and returns complete frames; the encode helpers write a frame's
 * size, header and body into one buffer.
 */
import {
  type ApiKey,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type RequestTypes,
  type ResponseTypes
} from "./generated/ApiKey.js"
import {
  decodeResponseHeader,
  encodeRequestHeader,
  encodeResponseHeader,
  type RequestHeader,
  readRequestHeader,
  requestHeaderVersion,
  responseHeaderVersion
} from "./generated/Header.js"
import { fail } from "./ProtocolError.js"
import { Reader } from "./Reader.js"
import { Writer } from "./Writer.js"

/** Kafka's `socket.request.max.bytes` default: the largest frame accepted. */
export const DEFAULT_MAX_FRAME_SIZE = 104_857_600

/** The size field of a frame starting at `offset`, or undefined when fewer than 4 bytes are there. */
export const frameSize = (buf: Uint8Array, offset = 0): number | undefined =>
  buf.length - offset < 4
    ? undefined
    : (buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]! | 0

/** Limits a {@link FrameDecoder} enforces on each frame's size field. */
export interface FrameLimits {
  /** Largest accepted frame (default {@link DEFAULT_MAX_FRAME_SIZE}). */
  readonly maxFrameSize?: number
  /** Smallest accepted frame (default 0; a broker may pass the request header's minimum). */
  readonly minFrameSize?: number
}

/**
 * Reassembles frames from a stream of chunks. A size outside the limits fails with a ProtocolError before
 * anything is allocated for the frame; a frame inside a single chunk is returned as a view without copying.
 */
export class FrameDecoder {
  private readonly chunks: Array<Uint8Array> = []
  private head = 0
  private total = 0
  private expected = -1
  readonly maxFrameSize: number
  readonly minFrameSize: number

  constructor(limits: FrameLimits = {}) {
    this.maxFrameSize = limits.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE
    this.minFrameSize = limits.minFrameSize ?? 0
  }

  /** Bytes received but not yet returned in a frame (size fields included). */
  get buffered(): number {
    return this.total
  }

  /** Adds a chunk and returns the frames it completes (bodies without their size field), in order. */
  push(chunk: Uint8Array): Array<Uint8Array> {
    const { frames, error } = this.pushUntilError(chunk)
    if (error !== undefined) fail(error, 0)
    return frames
  }

  /**
   * Adds a chunk and returns the frames it completes up to the first size field outside the limits, with that
   * problem as `error` (nothing after it is decoded): a reader can still answer the frames before a bad one.
   */
  pushUntilError(chunk: Uint8Array): { readonly frames: Array<Uint8Array>; readonly error: string | undefined } {
    if (chunk.length > 0) {
      this.chunks.push(chunk)
      this.total += chunk.length
    }
    const frames: Array<Uint8Array> = []
    for (;;) {
      if (this.expected < 0) {
        if (this.total < 4) break
        const size = this.readSize()
        if (size < this.minFrameSize || size > this.maxFrameSize) {
          return { frames, error: `frame size ${size} is outside [${this.minFrameSize}, ${this.maxFrameSize}]` }
        }
        this.expected = size
      }
      if (this.total < this.expected) break
      frames.push(this.take(this.expected))
      this.expected = -1
    }
    return { frames, error: undefined }
  }

  private readSize(): number {
    const b = this.take(4)
    return (b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]! | 0
  }

  private take(n: number): Uint8Array {
    const first = this.chunks[0]
    if (n === 0) return new Uint8Array(0)
    if (first !== undefined && first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n)
      this.advance(n)
      return out
    }
    // every byte is written below: no zero-filling (a fetch response is often megabytes)
    const out = Buffer.allocUnsafe(n)
    let filled = 0
    while (filled < n) {
      const c = this.chunks[0]!
      const k = Math.min(c.length - this.head, n - filled)
      out.set(c.subarray(this.head, this.head + k), filled)
      filled += k
      this.advance(k)
    }
    return out
  }

  private advance(n: number): void {
    this.head += n
    this.total -= n
    const first = this.chunks[0]
    if (first !== undefined && this.head === first.length) {
      this.chunks.shift()
      this.head = 0
    }
  }
}

/** Bytes of the reusable buffer a {@link FrameReader} reads small frames and size fields into. */
export const FRAME_READER_SCRATCH = 64 * 1024

/**
 * Reassembles frames from reads into buffers it hands out (a socket's `onread` option): small frames and
 * size fields are read into one reusable scratch buffer and copied out, and once a frame's size is known the
 * rest of it is read straight into the frame's own buffer. A large response so lands in memory once, with no
 * chunk buffer per read and no copy. Same limits and errors as {@link FrameDecoder}.
 *
 * Protocol: call {@link buffer} for the memory of the next read, then {@link read} with the bytes it got.
 */
export class FrameReader {
  private readonly scratch: Uint8Array
  /** Bytes at the start of `scratch` kept from the last read (a partial size field or small frame). */
  private carry = 0
  /** The frame being filled by reads, and how much of it is there. */
  private frame: Uint8Array | undefined
  private filled = 0
  readonly maxFrameSize: number
  readonly minFrameSize: number

  constructor(limits: FrameLimits = {}, scratchSize = FRAME_READER_SCRATCH) {
    this.maxFrameSize = limits.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE
    this.minFrameSize = limits.minFrameSize ?? 0
    this.scratch = Buffer.allocUnsafe(Math.max(8, scratchSize))
  }

  /** Where the next read goes: the rest of the frame being filled, else the free part of the scratch buffer. */
  buffer(): Uint8Array {
    return this.frame !== undefined ? this.frame.subarray(this.filled) : this.scratch.subarray(this.carry)
  }

  /** Takes `n` bytes read into the last {@link buffer}; returns the frames completed (bodies), in order. */
  read(n: number): Array<Uint8Array> {
    const frames: Array<Uint8Array> = []
    const frame = this.frame
    if (frame !== undefined) {
      this.filled += n
      if (this.filled === frame.length) {
        this.frame = undefined
        frames.push(frame)
      }
      return frames
    }
    const s = this.scratch
    const end = this.carry + n
    let pos = 0
    while (end - pos >= 4) {
      const size = (s[pos]! << 24) | (s[pos + 1]! << 16) | (s[pos + 2]! << 8) | s[pos + 3]! | 0
      if (size < this.minFrameSize || size > this.maxFrameSize) {
        fail(`frame size ${size} is outside [${this.minFrameSize}, ${this.maxFrameSize}]`, 0)
      }
      const have = end - pos - 4
      // the scratch buffer is reused: every frame leaves it as a copy
      const out = Buffer.allocUnsafe(size)
      if (have >= size) {
        out.set(s.subarray(pos + 4, pos + 4 + size))
        frames.push(out)
        pos += 4 + size
        continue
      }
      // a frame larger than what is here: the next reads fill its own buffer
      out.set(s.subarray(pos + 4, end))
      this.frame = out
      this.filled = have
      this.carry = 0
      return frames
    }
    // fewer than 4 bytes left: keep them at the start for the next read
    this.carry = end - pos
    if (this.carry > 0 && pos > 0) s.copyWithin(0, pos, end)
    return frames
  }
}

/** Writes a frame into `w`: reserves the size field, runs `body`, then fills the size in. Returns where it starts. */
const writeFrame = (body: (w: Writer) => void, w: Writer): number => {
  const start = w.offset
  const before = w.length
  w.int32(0)
  body(w)
  w.buf.writeInt32BE(w.length - before - 4, start)
  return start
}

/** Writes a frame: reserves the size field, runs `body`, then fills the size in. Returns the frame's bytes. */
export const encodeFrame = (body: (w: Writer) => void, w: Writer = new Writer()): Buffer => {
  const start = writeFrame(body, w)
  return w.buf.subarray(start, w.offset)
}

/** A framed request: size, header (in the version the api key and version require) and body. */
export const encodeRequestFrame = <K extends ApiKey>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  clientId: string | null,
  body: RequestTypes[K],
  w?: Writer
): Buffer =>
  encodeFrame((w) => {
    const header: RequestHeader = { requestApiKey: apiKey, requestApiVersion: apiVersion, correlationId, clientId }
    encodeRequestHeader(w, header, requestHeaderVersion(apiKey, apiVersion))
    encodeRequest(apiKey, apiVersion, w, body)
  }, w)

/** Writes a response's header (v0 for ApiVersions, else per flexibility) and body. */
const responseBody =
  <K extends ApiKey>(apiKey: K, apiVersion: number, correlationId: number, body: ResponseTypes[K]) =>
  (w: Writer): void => {
    encodeResponseHeader(w, { correlationId }, responseHeaderVersion(apiKey, apiVersion))
    encodeResponse(apiKey, apiVersion, w, body)
  }

/** A framed response: size, header (v0 for ApiVersions, else per flexibility) and body. */
export const encodeResponseFrame = <K extends ApiKey>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  body: ResponseTypes[K],
  w?: Writer
): Buffer => encodeFrame(responseBody(apiKey, apiVersion, correlationId, body), w)

/**
 * {@link encodeResponseFrame} with byte fields of at least `REFERENCE_MIN` bytes kept by reference: the
 * frame as parts to write in order. For responses whose large byte fields are outside tagged fields
 * (Fetch: records), so a broker hands the log's read buffers to the socket without copying them.
 */
export const encodeResponseFrameParts = <K extends ApiKey>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  body: ResponseTypes[K]
): Array<Uint8Array> => {
  const w = new Writer(1024).byReference()
  return w.finishParts(writeFrame(responseBody(apiKey, apiVersion, correlationId, body), w))
}

/**
 * Reads the header of a request frame (without its size field); the returned reader is positioned at the body,
 * which the caller decodes with `decodeRequest(header.requestApiKey, header.requestApiVersion, reader)` once it
 * has checked the api key and version.
 */
export const decodeRequestFrame = (frame: Uint8Array): { readonly header: RequestHeader; readonly body: Reader } => {
  const r = new Reader(frame)
  const header = readRequestHeader(r)
  return { header, body: r }
}

/** Decodes a response frame (without its size field) of a request sent with `apiKey` and `apiVersion`. */
export const decodeResponseFrame = <K extends ApiKey>(
  apiKey: K,
  apiVersion: number,
  frame: Uint8Array
): { readonly correlationId: number; readonly body: ResponseTypes[K] } => {
  const r = new Reader(frame)
  const { correlationId } = decodeResponseHeader(r, responseHeaderVersion(apiKey, apiVersion))
  const body = decodeResponse(apiKey, apiVersion, r)
  if (r.remaining !== 0) fail(`${r.remaining} bytes left after the response body`, r.offset)
  return { correlationId, body }
}
