/**
 * The DSL's table and aggregation processors: table sources, KTable filter/mapValues/toStream, stream
 * aggregations (aggregate/reduce/count) and grouped-table aggregations with adder and subtractor. Table
 * processors forward `Change` values; a materialized result goes through the store (and its record cache,
 * whose flush forwards) or, without a cache, is forwarded right after the write.
 *
 * Output timestamps follow Kafka Streams: a table update keeps the record's timestamp; an aggregate's is the
 * larger of the record's and the stored aggregate's.
 */

import { andThen } from "../../processor/internal/step.js"
import type { ProcessorContext, ProcessorSupplier, Step } from "../../processor/Processor.js"
import type { Change, StreamRecord } from "../../processor/Record.js"
import type { TimestampedStore } from "../store/TimestampedStore.js"

// biome-ignore lint/suspicious/noExplicitAny: processors are untyped at runtime; the DSL types them
type Any = any
type Store = TimestampedStore<Any, Any>

const change = (newValue: Any, oldValue: Any): Change<Any> => ({ newValue, oldValue })

/** The store of a processor, with its cache forwarding to the processor's children. */
export const openStore = (ctx: ProcessorContext, name: string, forward: boolean): Store => {
  const store = ctx.getStateStore<Store>(name)
  if (forward && store.caching) {
    store.setFlushListener((key, newValue, oldValue, timestamp) =>
      ctx.forward({ key, value: change(newValue, oldValue), timestamp, headers: [] })
    )
  }
  return store
}

/** Writes and forwards the change (a cached store forwards when it flushes instead). */
const putAndForward = (
  ctx: ProcessorContext,
  store: Store,
  r: StreamRecord<unknown, unknown>,
  key: Any,
  newValue: Any,
  oldValue: Any,
  timestamp: number
): Step => {
  const step = store.put(key, newValue, timestamp)
  if (store.caching) return step
  return andThen(step, () => ctx.forward({ key, value: change(newValue, oldValue), timestamp, headers: r.headers }))
}

/** A table source (and `toTable`, and a global table's loader): latest value per key, null deletes. */
export const tableSource =
  (storeName: string, forward = true): ProcessorSupplier =>
  (ctx) => {
    const store = openStore(ctx, storeName, forward)
    return {
      process: (r) => {
        if (r.key === null || r.key === undefined) return undefined
        const old = store.get(r.key)
        if (!forward) return store.put(r.key, r.value, r.timestamp)
        return putAndForward(ctx, store, r, r.key, r.value, old?.value ?? null, r.timestamp)
      }
    }
  }

const mapChange = (c: Change<Any>, f: (v: Any) => Any): Change<Any> =>
  change(c.newValue === null ? null : f(c.newValue), c.oldValue === null ? null : f(c.oldValue))

/**
 * Forwards a table change, through a store when the result is materialized. A delete of a row that is not
 * there is not forwarded (Kafka forwards it unless old values are sent downstream).
 */
export const emitChange = (
  ctx: ProcessorContext,
  store: Store | undefined,
  r: StreamRecord<Any, Any>,
  c: Change<Any>
) => {
  if (store !== undefined) {
    const old = store.get(r.key)?.value ?? null
    if (c.newValue === null && old === null) return undefined
    return putAndForward(ctx, store, r, r.key, c.newValue, old, r.timestamp)
  }
  if (c.newValue === null && c.oldValue === null) return undefined
  return ctx.forward({ ...r, value: c })
}

export const tableFilter =
  (predicate: (key: Any, value: Any) => boolean, keep: boolean, storeName: string | undefined): ProcessorSupplier =>
  (ctx) => {
    const store = storeName === undefined ? undefined : openStore(ctx, storeName, true)
    const pass = (key: Any, v: Any) => (v !== null && predicate(key, v) === keep ? v : null)
    return {
      process: (r) => {
        const c = r.value as Change<Any>
        return emitChange(ctx, store, r, change(pass(r.key, c.newValue), pass(r.key, c.oldValue)))
      }
    }
  }

export const tableMapValues =
  (mapper: (value: Any, key: Any) => Any, storeName: string | undefined): ProcessorSupplier =>
  (ctx) => {
    const store = storeName === undefined ? undefined : openStore(ctx, storeName, true)
    return {
      process: (r) =>
        emitChange(
          ctx,
          store,
          r,
          mapChange(r.value as Change<Any>, (v) => mapper(v, r.key))
        )
    }
  }

/** A table's changes as a stream of new values (null for deletes). */
export const tableToStream =
  (mapper: ((key: Any, value: Any) => Any) | undefined): ProcessorSupplier =>
  (ctx) => ({
    process: (r) => {
      const v = (r.value as Change<Any>).newValue
      return ctx.forward({ ...r, key: mapper === undefined ? r.key : mapper(r.key, v), value: v })
    }
  })

/** `KTable.groupBy`: re-keys each change; the old value goes (to be subtracted) before the new one. */
export const tableSelect =
  (selector: (key: Any, value: Any) => { readonly key: Any; readonly value: Any }): ProcessorSupplier =>
  (ctx) => ({
    process: (r) => {
      const c = r.value as Change<Any>
      const sendNew = (): Step => {
        if (c.newValue === null) return undefined
        const kv = selector(r.key, c.newValue)
        return ctx.forward({ ...r, key: kv.key, value: change(kv.value, null) })
      }
      if (c.oldValue === null) return sendNew()
      const old = selector(r.key, c.oldValue)
      return andThen(ctx.forward({ ...r, key: old.key, value: change(null, old.value) }), sendNew)
    }
  })

/** A grouped stream's aggregation: records with a null key or value are skipped. */
export const streamAggregate =
  (storeName: string, initializer: () => Any, aggregator: (key: Any, value: Any, agg: Any) => Any): ProcessorSupplier =>
  (ctx) => {
    const store = openStore(ctx, storeName, true)
    return {
      process: (r) => {
        if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return undefined
        const old = store.get(r.key)
        const next = aggregator(r.key, r.value, old === undefined ? initializer() : old.value)
        const ts = old === undefined ? r.timestamp : Math.max(old.timestamp, r.timestamp)
        return putAndForward(ctx, store, r, r.key, next, old?.value ?? null, ts)
      }
    }
  }

/** A grouped stream's reduce: the first value of a key is its aggregate. */
export const streamReduce =
  (storeName: string, reducer: (agg: Any, value: Any) => Any): ProcessorSupplier =>
  (ctx) => {
    const store = openStore(ctx, storeName, true)
    return {
      process: (r) => {
        if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return undefined
        const old = store.get(r.key)
        const next = old === undefined ? r.value : reducer(old.value, r.value)
        const ts = old === undefined ? r.timestamp : Math.max(old.timestamp, r.timestamp)
        return putAndForward(ctx, store, r, r.key, next, old?.value ?? null, ts)
      }
    }
  }

/**
 * A grouped table's aggregation: an old value is subtracted from its group, a new value added; `initializer`
 * starts a group (for reduce, undefined: the first value is the aggregate).
 */
export const tableAggregate =
  (
    storeName: string,
    initializer: (() => Any) | undefined,
    adder: (key: Any, value: Any, agg: Any) => Any,
    subtractor: (key: Any, value: Any, agg: Any) => Any
  ): ProcessorSupplier =>
  (ctx) => {
    const store = openStore(ctx, storeName, true)
    return {
      process: (r) => {
        if (r.key === null || r.key === undefined) return undefined
        const c = r.value as Change<Any>
        const old = store.get(r.key)
        let agg: Any = old?.value ?? null
        let ts = r.timestamp
        if (c.oldValue !== null && agg !== null) {
          agg = subtractor(r.key, c.oldValue, agg)
          ts = Math.max(ts, old!.timestamp)
        }
        if (c.newValue !== null) {
          if (agg === null) agg = initializer === undefined ? c.newValue : adder(r.key, c.newValue, initializer())
          else {
            agg = adder(r.key, c.newValue, agg)
            if (old !== undefined) ts = Math.max(ts, old.timestamp)
          }
        }
        return putAndForward(ctx, store, r, r.key, agg, old?.value ?? null, ts)
      }
    }
  }
