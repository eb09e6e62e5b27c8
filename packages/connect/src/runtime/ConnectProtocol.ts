/**
 * Kafka Connect's group protocol (protocol type `connect`) in Kafka's byte layout: the member metadata a
 * worker sends in JoinGroup and the assignment the leader sends back in SyncGroup, for the incremental
 * cooperative protocols `compatible` (version 1) and `sessioned` (version 2, Kafka's default; the layout is
 * the same). Big-endian; strings are an int16 length and UTF-8; arrays an int32 count (-1: null).
 *
 * Metadata: version int16, url string, config offset int64, allocation nullable bytes (the worker's current
 * full assignment, itself an encoded assignment).
 * Assignment: version int16, error int16, leader string, leader url string, config offset int64,
 * assignment [connector string, tasks [int32]] (task -1 is the connector itself), revoked (same), delay int32.
 */

/** A task id. */
export interface TaskId {
  readonly connector: string
  readonly task: number
}

/** A set of connectors and tasks. */
export interface Load {
  readonly connectors: ReadonlyArray<string>
  readonly tasks: ReadonlyArray<TaskId>
}

/** What the leader sends a worker. */
export interface ConnectAssignment {
  readonly version: number
  /** 0 no error, 1 CONFIG_MISMATCH (the leader's config was behind a member's). */
  readonly error: number
  readonly leader: string
  readonly leaderUrl: string
  readonly configOffset: number
  /** Newly assigned (incremental). */
  readonly assigned: Load
  readonly revoked: Load
  /** ms until the leader reassigns the work of departed workers (0: none pending). */
  readonly delay: number
}

/** What a worker tells the group in JoinGroup. */
export interface WorkerMetadata {
  readonly version: number
  readonly url: string
  readonly configOffset: number
  /** The worker's current full assignment (null: none yet). */
  readonly allocation: ConnectAssignment | null
}

/** The protocol names and versions Eddy's workers offer, in preference order. */
export const protocols = [
  { name: "sessioned", version: 2 },
  { name: "compatible", version: 1 }
] as const

/** Assignment error: none. */
export const NO_ERROR = 0
/** Assignment error: the leader's config offset was behind a member's. */
export const CONFIG_MISMATCH = 1
/** The task id standing for the connector itself. */
export const CONNECTOR_TASK = -1

/** The empty load. */
export const emptyLoad: Load = { connectors: [], tasks: [] }

class Out {
  private parts: Array<Uint8Array> = []
  int16(n: number) {
    const b = new Uint8Array(2)
    new DataView(b.buffer).setInt16(0, n)
    this.parts.push(b)
  }
  int32(n: number) {
    const b = new Uint8Array(4)
    new DataView(b.buffer).setInt32(0, n)
    this.parts.push(b)
  }
  int64(n: number) {
    const b = new Uint8Array(8)
    new DataView(b.buffer).setBigInt64(0, BigInt(n))
    this.parts.push(b)
  }
  string(s: string) {
    const b = new TextEncoder().encode(s)
    this.int16(b.length)
    this.parts.push(b)
  }
  bytes(b: Uint8Array | null) {
    if (b === null) return this.int32(-1)
    this.int32(b.length)
    this.parts.push(b)
  }
  done(): Uint8Array {
    const size = this.parts.reduce((n, p) => n + p.length, 0)
    const out = new Uint8Array(size)
    let at = 0
    for (const p of this.parts) {
      out.set(p, at)
      at += p.length
    }
    return out
  }
}

/** The bytes do not hold a Connect protocol message. */
export class ConnectProtocolError extends Error {}

class In {
  private at = 0
  private readonly view: DataView
  constructor(private readonly b: Uint8Array) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  }
  private need(n: number) {
    if (this.at + n > this.b.length) throw new ConnectProtocolError("Connect protocol message too short")
  }
  get remaining() {
    return this.b.length - this.at
  }
  int16() {
    this.need(2)
    const v = this.view.getInt16(this.at)
    this.at += 2
    return v
  }
  int32() {
    this.need(4)
    const v = this.view.getInt32(this.at)
    this.at += 4
    return v
  }
  int64() {
    this.need(8)
    const v = Number(this.view.getBigInt64(this.at))
    this.at += 8
    return v
  }
  string() {
    const n = this.int16()
    if (n < 0) throw new ConnectProtocolError("null string in a Connect protocol message")
    this.need(n)
    const s = new TextDecoder().decode(this.b.subarray(this.at, this.at + n))
    this.at += n
    return s
  }
  bytes(): Uint8Array | null {
    const n = this.int32()
    if (n < 0) return null
    this.need(n)
    const s = this.b.subarray(this.at, this.at + n)
    this.at += n
    return s
  }
}

const writeLoad = (out: Out, load: Load) => {
  const byConnector = new Map<string, Array<number>>()
  for (const c of load.connectors) byConnector.set(c, [CONNECTOR_TASK])
  for (const t of load.tasks) byConnector.set(t.connector, [...(byConnector.get(t.connector) ?? []), t.task])
  out.int32(byConnector.size)
  for (const [connector, tasks] of byConnector) {
    out.string(connector)
    out.int32(tasks.length)
    for (const t of tasks) out.int32(t)
  }
}

const readLoad = (input: In): Load => {
  const n = input.int32()
  if (n < 0) return emptyLoad
  const connectors: Array<string> = []
  const tasks: Array<TaskId> = []
  for (let i = 0; i < n; i++) {
    const connector = input.string()
    const count = input.int32()
    for (let j = 0; j < count; j++) {
      const task = input.int32()
      if (task === CONNECTOR_TASK) connectors.push(connector)
      else tasks.push({ connector, task })
    }
  }
  return { connectors, tasks }
}

/** Encodes an assignment. */
export const encodeAssignment = (a: ConnectAssignment): Uint8Array => {
  const out = new Out()
  out.int16(a.version)
  out.int16(a.error)
  out.string(a.leader)
  out.string(a.leaderUrl)
  out.int64(a.configOffset)
  writeLoad(out, a.assigned)
  writeLoad(out, a.revoked)
  out.int32(a.delay)
  return out.done()
}

/** Decodes an assignment (throws ConnectProtocolError). */
export const decodeAssignment = (bytes: Uint8Array): ConnectAssignment => {
  const input = new In(bytes)
  const version = input.int16()
  if (version < 1) throw new ConnectProtocolError(`unsupported Connect protocol version ${version}`)
  const error = input.int16()
  const leader = input.string()
  const leaderUrl = input.string()
  const configOffset = input.int64()
  const assigned = input.remaining > 0 ? readLoad(input) : emptyLoad
  const revoked = input.remaining > 0 ? readLoad(input) : emptyLoad
  const delay = input.remaining >= 4 ? input.int32() : 0
  return { version, error, leader, leaderUrl, configOffset, assigned, revoked, delay }
}

/** Encodes a worker's metadata. */
export const encodeMetadata = (m: WorkerMetadata): Uint8Array => {
  const out = new Out()
  out.int16(m.version)
  out.string(m.url)
  out.int64(m.configOffset)
  out.bytes(m.allocation === null ? null : encodeAssignment(m.allocation))
  return out.done()
}

/** Decodes a worker's metadata (throws ConnectProtocolError). */
export const decodeMetadata = (bytes: Uint8Array): WorkerMetadata => {
  const input = new In(bytes)
  const version = input.int16()
  if (version < 0) throw new ConnectProtocolError(`unsupported Connect protocol version ${version}`)
  const url = input.string()
  const configOffset = input.int64()
  const allocation = version >= 1 && input.remaining >= 4 ? input.bytes() : null
  return { version, url, configOffset, allocation: allocation === null ? null : decodeAssignment(allocation) }
}
