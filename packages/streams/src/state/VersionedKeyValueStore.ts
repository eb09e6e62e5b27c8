/**
 * Versioned key-value stores (Kafka Streams' `VersionedKeyValueStore`, KIP-889): every put of a key is a
 * version valid from its timestamp until the next version's, so a key can be read as of any time within
 * the history retention.
 *
 * Invariants every implementation keeps (checked by the versioned store conformance suite):
 * - The store observes stream time as the largest timestamp put so far (-1 before any).
 * - A put at `t` adds the version `[t, next version's timestamp)` (replacing one at exactly `t`); a null
 *   value is a tombstone version. It returns the version's `validTo`: `VALID_TO_UNDEFINED` when it is the
 *   latest, or `NOT_PUT` when `t` is older than stream time minus the history retention (then nothing
 *   changes).
 * - `get(key)` is the latest version unless it is a tombstone; `get(key, asOf)` the version valid at
 *   `asOf` (the one with the largest timestamp <= asOf) unless it is a tombstone, and nothing when `asOf`
 *   is older than stream time minus the history retention.
 * - Versions that stopped being valid before stream time minus the history retention are dropped; the
 *   latest version of a key is always kept.
 * - Everything is kept in one ordered byte store, one row per key (the key's versions, newest first:
 *   8-byte timestamp, a value flag, 4-byte length and value bytes), so the in-memory and the persistent
 *   stores behave the same. Every method is synchronous.
 */
import { readInt32, readInt64, writeInt32, writeInt64 } from "./internal/bytes.js"
import type { KeyValueBytesStore } from "./KeyValueStore.js"

/** A value and the time range it is valid for: `[timestamp, validTo)` (validTo undefined: still valid). */
export interface VersionedRecord<V> {
  readonly value: V
  readonly timestamp: number
  readonly validTo?: number | undefined
}

/** `put`'s answer when the version is older than the history retention and was not written. */
export const NOT_PUT = Number.MIN_SAFE_INTEGER

/** `put`'s answer when the version written is the latest (valid until a later one comes). */
export const VALID_TO_UNDEFINED = Number.MAX_SAFE_INTEGER

/** Read-only view of a versioned key-value store (what interactive queries use). */
export interface ReadOnlyVersionedKeyValueStore<K, V> {
  readonly name: string
  /** The latest version of `key`, unless deleted. */
  get(key: K): VersionedRecord<V> | undefined
  /** The version of `key` valid at `asOfTimestamp`, unless deleted then or older than the history retention. */
  get(key: K, asOfTimestamp: number): VersionedRecord<V> | undefined
}

/** A versioned key-value store. */
export interface VersionedKeyValueStore<K, V> {
  readonly name: string
  /** True when the store keeps its data on disk across restarts. */
  readonly persistent: boolean
  /** How far back (ms of stream time) reads as of a timestamp are answered. */
  readonly historyRetention: number
  /** Adds the version of `key` valid from `timestamp` (null: a tombstone); returns its validTo (see NOT_PUT). */
  put(key: K, value: V | null, timestamp: number): number
  /** The latest version of `key`, unless deleted. */
  get(key: K): VersionedRecord<V> | undefined
  /** The version of `key` valid at `asOfTimestamp`, unless deleted then or older than the history retention. */
  get(key: K, asOfTimestamp: number): VersionedRecord<V> | undefined
  /** Puts a tombstone at `timestamp` and returns the version that was valid at that time, if any. */
  delete(key: K, timestamp: number): VersionedRecord<V> | undefined
  /** Makes every write so far durable (persistent stores). */
  flush(): void
  /** Releases the store's resources. */
  close(): void
}

/** The byte-level versioned store the runtime wraps. */
export interface VersionedBytesStore extends VersionedKeyValueStore<Uint8Array, Uint8Array> {
  /** Stream time as this store observed it (-1 before any put). */
  readonly observedStreamTime: number
}

interface Version {
  readonly timestamp: number
  readonly value: Uint8Array | null
}

const encode = (versions: ReadonlyArray<Version>): Uint8Array => {
  let size = 0
  for (const v of versions) size += 13 + (v.value?.length ?? 0)
  const out = new Uint8Array(size)
  let at = 0
  for (const v of versions) {
    writeInt64(out, at, v.timestamp)
    out[at + 8] = v.value === null ? 0 : 1
    writeInt32(out, at + 9, v.value?.length ?? 0)
    if (v.value !== null) out.set(v.value, at + 13)
    at += 13 + (v.value?.length ?? 0)
  }
  return out
}

const decode = (bytes: Uint8Array | undefined): Array<Version> => {
  const out: Array<Version> = []
  if (bytes === undefined) return out
  for (let at = 0; at < bytes.length; ) {
    const n = readInt32(bytes, at + 9)
    out.push({ timestamp: readInt64(bytes, at), value: bytes[at + 8] === 0 ? null : bytes.slice(at + 13, at + 13 + n) })
    at += 13 + n
  }
  return out
}

/** A versioned store over an ordered byte store (in memory or persistent). */
export const make = (inner: KeyValueBytesStore, historyRetention: number): VersionedBytesStore => {
  let streamTime = -1
  const horizon = () => streamTime - historyRetention
  const record = (versions: ReadonlyArray<Version>, i: number): VersionedRecord<Uint8Array> | undefined => {
    const v = versions[i]
    if (v === undefined || v.value === null) return undefined
    return { value: v.value, timestamp: v.timestamp, validTo: i === 0 ? undefined : versions[i - 1]!.timestamp }
  }
  const at = (versions: ReadonlyArray<Version>, asOf: number) => versions.findIndex((v) => v.timestamp <= asOf)
  const get = (key: Uint8Array, asOf?: number): VersionedRecord<Uint8Array> | undefined => {
    const versions = decode(inner.get(key))
    if (asOf === undefined) return record(versions, 0)
    if (asOf < horizon()) return undefined
    return record(versions, at(versions, asOf))
  }
  const put = (key: Uint8Array, value: Uint8Array | null, timestamp: number): number => {
    if (timestamp > streamTime) streamTime = timestamp
    if (timestamp < horizon()) return NOT_PUT
    const versions = decode(inner.get(key)).filter((v) => v.timestamp !== timestamp)
    const i = versions.findIndex((v) => v.timestamp < timestamp)
    const position = i < 0 ? versions.length : i
    versions.splice(position, 0, { timestamp, value: value === null ? null : value.slice() })
    // keep the latest version and every version still valid at the horizon
    let keep = versions.length
    for (let j = 1; j < versions.length; j++) {
      if (versions[j - 1]!.timestamp <= horizon()) {
        keep = j
        break
      }
    }
    const kept = versions.slice(0, keep)
    const onlyTombstone = kept.length === 1 && kept[0]!.value === null && kept[0]!.timestamp < horizon()
    inner.put(key, onlyTombstone ? null : encode(kept))
    return position === 0 ? VALID_TO_UNDEFINED : versions[position - 1]!.timestamp
  }
  return {
    name: inner.name,
    get persistent() {
      return inner.persistent
    },
    historyRetention,
    get observedStreamTime() {
      return streamTime
    },
    put,
    get,
    delete: (key, timestamp) => {
      const before = get(key, timestamp)
      put(key, null, timestamp)
      return before
    },
    flush: () => inner.flush(),
    close: () => inner.close()
  }
}
