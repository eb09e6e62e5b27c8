/**
 * The join processors of the DSL, after Kafka Streams' semantics:
 *
 * - stream-stream: each side's records go into that side's window store (`windowed`); a record of one side
 *   joins every record of the other side's store within the join window; the output timestamp is the
 *   larger of the two. A left/outer side's record without a match waits in the shared outer store until its
 *   window closed (stream time > timestamp + after/before + grace) and is then emitted with a null partner
 *   (Kafka's fix for spurious left/outer results); a match arriving in time removes it from there.
 * - stream-table and stream-globalTable: only the stream side triggers; the table is looked up as of now
 *   (or, for a versioned table, as of the stream record's timestamp); the output keeps the stream record's
 *   timestamp.
 * - table-table: each side looks the other up on every change; new and old results are computed from the
 *   change's new and old values, so a deletion goes downstream only when a previous result existed.
 *
 * Invariants: a stream-stream join's two processors of one task share one time tracker (stream time =
 * the largest timestamp either side saw; `minTime` = a lower bound of the outer store's timestamps); the
 * outer store's keys sort by timestamp first, so its scan stops at the first window still open.
 */

import { Effect } from "effect"
import { forEachStep } from "../../processor/internal/step.js"
import type { ProcessorSupplier, Step } from "../../processor/Processor.js"
import type { Change, StreamRecord } from "../../processor/Record.js"
import type { JoinWindowStore } from "../store/JoinWindowStore.js"
import type { TimestampedStore } from "../store/TimestampedStore.js"
import type { ValueAndTimestamp } from "../store/ValueAndTimestamp.js"

// biome-ignore lint/suspicious/noExplicitAny: processors are untyped at runtime; the DSL types them
type Any = any

/** A joiner as the DSL takes it: left value, right value (either may be null in outer joins), key. */
export type Joiner = (left: Any, right: Any, key: Any) => Any

const isNull = (u: unknown): u is null | undefined => u === null || u === undefined

const forwardAll = (
  forward: (r: StreamRecord<unknown, unknown>) => Step,
  records: ReadonlyArray<StreamRecord<unknown, unknown>>
): Step => (records.length === 1 ? forward(records[0]!) : forEachStep(records, forward))

/** A stream-stream join side's input: keeps each record with a key and value in the side's window store. */
export const joinWindowed =
  (storeName: string): ProcessorSupplier =>
  (ctx) => {
    const store = ctx.getStateStore<JoinWindowStore<Any, Any>>(storeName)
    return {
      process: (r) => {
        const step = ctx.forward(r)
        if (!isNull(r.key) && !isNull(r.value)) store.put(r.key, r.value, r.timestamp)
        return step
      }
    }
  }

/** Stream time and the outer store's lowest timestamp, shared by the two sides of one join in one task. */
export interface TimeTracker {
  streamTime: number
  minTime: number
}

/** An outer-store key: the record's timestamp, its side and its key. */
export interface OuterKey {
  readonly timestamp: number
  readonly left: boolean
  readonly key: Any
}

/** An outer-store value: the side and the unmatched values of one key at one timestamp. */
export interface OuterValue {
  readonly left: boolean
  readonly values: ReadonlyArray<Any>
}

/** What one side of a stream-stream join needs. */
export interface StreamStreamJoinSide {
  readonly otherStore: string
  /** The shared outer store (left and outer joins), holding unmatched records until their window closes. */
  readonly outerStore: string | undefined
  readonly thisIsLeft: boolean
  /** Unmatched records of this side are emitted (this is a left join's left side, or an outer join). */
  readonly outer: boolean
  /** The window as seen from this side: how far back and ahead the other side's records are looked up. */
  readonly beforeMs: number
  readonly afterMs: number
  /** The window as the user declared it (left-side look-back is `after`, right-side `before`). */
  readonly windowBeforeMs: number
  readonly windowAfterMs: number
  readonly graceMs: number
  readonly joiner: Joiner
  /** The tracker of a task (both sides ask with their outer store, or their other store, as the key). */
  readonly tracker: (owner: object) => TimeTracker
}

/** One side of a stream-stream join. */
export const streamStreamJoin =
  (side: StreamStreamJoinSide): ProcessorSupplier =>
  (ctx) => {
    const other = ctx.getStateStore<JoinWindowStore<Any, Any>>(side.otherStore)
    const outerStore =
      side.outerStore === undefined
        ? undefined
        : ctx.getStateStore<TimestampedStore<OuterKey, OuterValue>>(side.outerStore)
    const time = side.tracker(outerStore ?? other)
    const join = (thisValue: Any, otherValue: Any, key: Any) =>
      side.thisIsLeft ? side.joiner(thisValue, otherValue, key) : side.joiner(otherValue, thisValue, key)

    /** Emits (and removes) the outer store's records whose windows closed. */
    const emitNonJoined = (out: Array<StreamRecord<unknown, unknown>>, r: StreamRecord<unknown, unknown>) => {
      if (outerStore === undefined || time.minTime + side.afterMs + side.graceMs >= time.streamTime) return
      time.minTime = Number.MAX_SAFE_INTEGER
      let leftOpen = false
      let rightOpen = false
      const emitted: Array<OuterKey> = []
      for (const { key: k, value } of outerStore.all()) {
        time.minTime = k.timestamp
        if (leftOpen && rightOpen) break
        const lookBack = k.left ? side.windowAfterMs : side.windowBeforeMs
        if (time.minTime + lookBack + side.graceMs >= time.streamTime) {
          if (k.left) leftOpen = true
          else rightOpen = true
          continue
        }
        for (const v of value.value.values) {
          const joined = k.left ? side.joiner(v, null, k.key) : side.joiner(null, v, k.key)
          out.push({ key: k.key, value: joined, timestamp: k.timestamp, headers: r.headers })
        }
        emitted.push(k)
      }
      for (const k of emitted) outerStore.put(k, null, k.timestamp)
    }

    // after a restart (the outer store restored from its changelog) the lowest held timestamp is unknown
    let minTimeKnown = outerStore === undefined
    return {
      process: (r) => {
        if (!minTimeKnown) {
          minTimeKnown = true
          for (const { key } of outerStore!.all()) {
            if (key.timestamp < time.minTime) time.minTime = key.timestamp
            break
          }
        }
        const ts = r.timestamp
        if (ts > time.streamTime) time.streamTime = ts
        if (side.outer && isNull(r.key) && !isNull(r.value))
          return ctx.forward({ ...r, value: join(r.value, null, r.key) })
        if (isNull(r.key) || isNull(r.value)) return undefined
        const out: Array<StreamRecord<unknown, unknown>> = []
        if (ts === time.streamTime) emitNonJoined(out, r)
        const to = Math.max(0, ts + side.afterMs)
        let matched = false
        for (const o of other.fetch(r.key, Math.max(0, ts - side.beforeMs), to)) {
          matched = true
          if (outerStore !== undefined) {
            const otherKey: OuterKey = { timestamp: o.key, left: !side.thisIsLeft, key: r.key }
            if (outerStore.get(otherKey) !== undefined) outerStore.put(otherKey, null, o.key)
          }
          out.push({ ...r, value: join(r.value, o.value, r.key), timestamp: Math.max(ts, o.key) })
        }
        if (!matched && side.outer) {
          if (outerStore === undefined || to < time.streamTime) out.push({ ...r, value: join(r.value, null, r.key) })
          else {
            if (ts < time.minTime) time.minTime = ts
            const k: OuterKey = { timestamp: ts, left: side.thisIsLeft, key: r.key }
            const held = outerStore.get(k)?.value.values ?? []
            outerStore.put(k, { left: side.thisIsLeft, values: [...held, r.value] }, ts)
          }
        }
        return out.length === 0 ? undefined : forwardAll((x) => ctx.forward(x), out)
      }
    }
  }

/** A table row: as of the record's timestamp in a versioned table, else the latest. */
const asOf = (store: Any, key: Any, timestamp: number): ValueAndTimestamp<Any> | undefined =>
  typeof store.getAsOf === "function" ? store.getAsOf(key, timestamp) : store.get(key)

/** A stream-table join: the stream side looks the table up; the table side only updates the table. */
export const streamTableJoin =
  (
    tableStore: string,
    leftJoin: boolean,
    joiner: Joiner,
    lookup: (store: Any, key: Any, timestamp: number) => ValueAndTimestamp<Any> | undefined = asOf,
    /** The joiner returns an Effect (the `...Effect` operators): forward its result once it completes. */
    effectful = false
  ): ProcessorSupplier =>
  (ctx) => {
    const store = ctx.getStateStore<Any>(tableStore)
    return {
      process: (r) => {
        if (isNull(r.value)) return undefined
        if (isNull(r.key)) return leftJoin ? ctx.forward({ ...r, value: joiner(r.value, null, r.key) }) : undefined
        const found = lookup(store, r.key, r.timestamp)
        if (found === undefined && !leftJoin) return undefined
        const joined = joiner(r.value, found?.value ?? null, r.key)
        if (!effectful) return ctx.forward({ ...r, value: joined })
        return Effect.flatMap(joined as Effect.Effect<Any>, (value) => ctx.forward({ ...r, value }) ?? Effect.void)
      }
    }
  }

/** Stream records waiting for the grace period of a versioned stream-table join, in timestamp order. */
export interface GraceBuffer {
  readonly store: string
  readonly graceMs: number
}

/**
 * A stream-table join against a versioned table with a grace period: a record waits in the buffer until
 * stream time reaches its timestamp + grace (one already that old joins at once), then joins the table as
 * of its own timestamp; buffered records go out in timestamp order.
 */
export const bufferedStreamTableJoin =
  (tableStore: string, leftJoin: boolean, joiner: Joiner, buffer: GraceBuffer): ProcessorSupplier =>
  (ctx) => {
    const table = ctx.getStateStore<Any>(tableStore)
    const held = ctx.getStateStore<TimestampedStore<OuterKey, OuterValue>>(buffer.store)
    let streamTime = -1
    const join = (key: Any, value: Any, timestamp: number, r: StreamRecord<unknown, unknown>) => {
      const found = asOf(table, key, timestamp)
      if (found === undefined && !leftJoin) return undefined
      return { ...r, key, value: joiner(value, found?.value ?? null, key), timestamp } as StreamRecord<unknown, unknown>
    }
    return {
      process: (r) => {
        if (isNull(r.value)) return undefined
        if (isNull(r.key)) return leftJoin ? ctx.forward({ ...r, value: joiner(r.value, null, r.key) }) : undefined
        if (r.timestamp > streamTime) streamTime = r.timestamp
        const deadline = streamTime - buffer.graceMs
        const out: Array<StreamRecord<unknown, unknown>> = []
        if (r.timestamp <= deadline) {
          const now = join(r.key, r.value, r.timestamp, r)
          if (now !== undefined) out.push(now)
        } else {
          const k: OuterKey = { timestamp: r.timestamp, left: true, key: r.key }
          const waiting = held.get(k)?.value.values ?? []
          held.put(k, { left: true, values: [...waiting, r.value] }, r.timestamp)
        }
        const due: Array<OuterKey> = []
        for (const { key: k, value } of held.all()) {
          if (k.timestamp > deadline) break
          for (const v of value.value.values) {
            const joined = join(k.key, v, k.timestamp, r)
            if (joined !== undefined) out.push(joined)
          }
          due.push(k)
        }
        for (const k of due) held.put(k, null, k.timestamp)
        return out.length === 0 ? undefined : forwardAll((x) => ctx.forward(x), out)
      }
    }
  }

/** A stream-globalTable join: the stream record's key and value map to the table's key. */
export const streamGlobalTableJoin =
  (
    globalStore: string,
    keyMapper: (key: Any, value: Any) => Any,
    leftJoin: boolean,
    joiner: Joiner
  ): ProcessorSupplier =>
  (ctx) => {
    // the global task may be made after this one: the store is looked up on the first record
    let store: TimestampedStore<Any, Any> | undefined
    return {
      process: (r) => {
        if (isNull(r.value)) return undefined
        store ??= ctx.getStateStore<TimestampedStore<Any, Any>>(globalStore)
        const tableKey = keyMapper(r.key, r.value)
        const found = isNull(tableKey) ? undefined : store.get(tableKey)
        if (found === undefined && !leftJoin) return undefined
        return ctx.forward({ ...r, value: joiner(r.value, found?.value ?? null, r.key) })
      }
    }
  }

/** How one side of a table-table join computes results: inner, left (left side), right (a left join's right side), outer. */
export type TableJoinMode = "inner" | "left" | "right" | "outer"

/** One side of a table-table join: on a change of this side, joins its new and old values with the other side's row. */
export const tableTableJoin =
  (otherStore: string, mode: TableJoinMode, thisIsLeft: boolean, joiner: Joiner): ProcessorSupplier =>
  (ctx) => {
    const other = ctx.getStateStore<TimestampedStore<Any, Any>>(otherStore)
    const join = (thisValue: Any, otherValue: Any, key: Any) =>
      thisIsLeft ? joiner(thisValue, otherValue, key) : joiner(otherValue, thisValue, key)
    const result = (value: Any, otherRow: ValueAndTimestamp<Any> | undefined, key: Any): Any => {
      switch (mode) {
        case "inner":
          return value === null || otherRow === undefined ? null : join(value, otherRow.value, key)
        case "left":
          return value === null ? null : join(value, otherRow?.value ?? null, key)
        case "right":
          return otherRow === undefined ? null : join(value, otherRow.value, key)
        case "outer":
          return value === null && otherRow === undefined ? null : join(value, otherRow?.value ?? null, key)
      }
    }
    return {
      process: (r) => {
        if (isNull(r.key)) return undefined
        const c = r.value as Change<Any>
        const otherRow = other.get(r.key)
        const newValue = result(c.newValue ?? null, otherRow, r.key)
        const oldValue = result(c.oldValue ?? null, otherRow, r.key)
        if (newValue === null && oldValue === null) return undefined
        const timestamp = otherRow === undefined ? r.timestamp : Math.max(r.timestamp, otherRow.timestamp)
        return ctx.forward({ ...r, value: { newValue, oldValue } satisfies Change<Any>, timestamp })
      }
    }
  }
