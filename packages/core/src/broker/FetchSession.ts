/**
 * Fetch sessions (KIP-227): the broker remembers the partitions a consumer fetches, so incremental
 * fetch requests list only what changed and responses leave out partitions with nothing new.
 *
 * The cache is a plain synchronous structure owned by the ReplicaManager; every method runs inside
 * one synchronous step of a Fetch handler, so no two fibers interleave inside it. It holds at most
 * `max.incremental.fetch.session.cache.slots` sessions and evicts the least recently used one.
 */

/** Kafka's `FetchMetadata.INITIAL_EPOCH`: asks for a new session. */
export const INITIAL_EPOCH = 0
/** Kafka's `FetchMetadata.FINAL_EPOCH`: a full fetch that closes (or uses no) session. */
export const FINAL_EPOCH = -1
/** Kafka's `max.incremental.fetch.session.cache.slots` default. */
export const DEFAULT_MAX_SLOTS = 1000

/** One partition of a session, with what the client last asked and what it was last told. */
export interface SessionPartition {
  readonly topic: string
  readonly topicId: Uint8Array
  readonly partition: number
  fetchOffset: number
  partitionMaxBytes: number
  currentLeaderEpoch: number
  /** Values in the last response that carried this partition (-1 before the first). */
  highWatermark: number
  lastStableOffset: number
  logStartOffset: number
}

/** A fetch session. */
export interface FetchSession {
  readonly id: number
  /** The epoch the next incremental request must carry. */
  epoch: number
  /** Partitions by {@link key}, in the order they were added. */
  readonly partitions: Map<string, SessionPartition>
}

/** The session key of a partition. */
export const key = (topic: string, partition: number): string => `${topic}:${partition}`

/** The epoch after `epoch` (wraps to 1, as Kafka's `nextEpoch`). */
export const nextEpoch = (epoch: number): number => (epoch >= 0x7fffffff ? 1 : epoch + 1)

/** The broker's fetch session cache. */
export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>()

  constructor(readonly maxSlots: number = DEFAULT_MAX_SLOTS) {}

  /** Sessions currently cached. */
  get size(): number {
    return this.sessions.size
  }

  /** Creates a session (epoch 1 next), evicting the least recently used one when full; undefined when the cache has no slots. */
  create(partitions: ReadonlyArray<SessionPartition>): FetchSession | undefined {
    if (this.maxSlots <= 0) return undefined
    if (this.sessions.size >= this.maxSlots) {
      const oldest = this.sessions.keys().next()
      if (!oldest.done) this.sessions.delete(oldest.value)
    }
    let id = 0
    while (id === 0 || this.sessions.has(id)) id = 1 + Math.floor(Math.random() * 0x7ffffffe)
    const session: FetchSession = { id, epoch: 1, partitions: new Map() }
    for (const p of partitions) session.partitions.set(key(p.topic, p.partition), p)
    this.sessions.set(id, session)
    return session
  }

  /** The session `id`, marked most recently used. */
  get(id: number): FetchSession | undefined {
    const s = this.sessions.get(id)
    if (s !== undefined) {
      this.sessions.delete(id)
      this.sessions.set(id, s)
    }
    return s
  }

  /** Forgets session `id`. */
  remove(id: number): void {
    this.sessions.delete(id)
  }

  /** Forgets every session's partitions of `topic` (the topic was deleted). */
  forgetTopic(topic: string): void {
    for (const s of this.sessions.values()) {
      for (const [k, p] of s.partitions) if (p.topic === topic) s.partitions.delete(k)
    }
  }
}
