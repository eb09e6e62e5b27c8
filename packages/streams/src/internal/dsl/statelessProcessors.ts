/**
 * The DSL's stateless KStream processors as suppliers: each receives a record and forwards zero or more
 * records (same timestamp and headers), synchronously, or after the Effect of an Effect-returning function.
 */
import { Effect } from "effect"
import { forEachStep } from "../../processor/internal/step.js"
import type { ProcessorSupplier, Step } from "../../processor/Processor.js"
import type { KeyValue } from "../../processor/Record.js"
import { withKeyValue } from "../../processor/Record.js"

// biome-ignore lint/suspicious/noExplicitAny: processors are untyped at runtime; the DSL types them
type Any = any

export const filter =
  (predicate: (key: Any, value: Any) => boolean, keep: boolean): ProcessorSupplier =>
  (ctx) => ({
    process: (r) => (predicate(r.key, r.value) === keep ? ctx.forward(r) : undefined)
  })

export const map =
  (mapper: (key: Any, value: Any) => KeyValue<Any, Any>): ProcessorSupplier =>
  (ctx) => ({
    process: (r) => {
      const kv = mapper(r.key, r.value)
      return ctx.forward(withKeyValue(r, kv.key, kv.value))
    }
  })

export const mapValues =
  (mapper: (value: Any, key: Any) => Any): ProcessorSupplier =>
  (ctx) => ({
    process: (r) => ctx.forward(withKeyValue(r, r.key, mapper(r.value, r.key)))
  })

export const selectKey =
  (mapper: (key: Any, value: Any) => Any): ProcessorSupplier =>
  (ctx) => ({
    process: (r) => ctx.forward(withKeyValue(r, mapper(r.key, r.value), r.value))
  })

export const flatMap =
  (mapper: (key: Any, value: Any) => Iterable<KeyValue<Any, Any>>): ProcessorSupplier =>
  (ctx) => ({
    process: (r) => forEachStep([...mapper(r.key, r.value)], (kv) => ctx.forward(withKeyValue(r, kv.key, kv.value)))
  })

export const flatMapValues =
  (mapper: (value: Any, key: Any) => Iterable<Any>): ProcessorSupplier =>
  (ctx) => ({
    process: (r) => forEachStep([...mapper(r.value, r.key)], (v) => ctx.forward(withKeyValue(r, r.key, v)))
  })

export const peek =
  (action: (key: Any, value: Any) => void): ProcessorSupplier =>
  (ctx) => ({
    process: (r) => {
      action(r.key, r.value)
      return ctx.forward(r)
    }
  })

export const foreach =
  (action: (key: Any, value: Any) => void): ProcessorSupplier =>
  () => ({
    process: (r) => {
      action(r.key, r.value)
      return undefined
    }
  })

/** Forwards every record as it is (merge, branch children, passthrough). */
export const passThrough: ProcessorSupplier = (ctx) => ({ process: (r) => ctx.forward(r) })

/** Sends each record to the child of the first matching predicate, else to `defaultChild` (if any). */
export const branch =
  (
    branches: ReadonlyArray<{ predicate: (key: Any, value: Any) => boolean; child: string }>,
    defaultChild: string | undefined
  ): ProcessorSupplier =>
  (ctx) => ({
    process: (r) => {
      for (const b of branches) if (b.predicate(r.key, r.value)) return ctx.forward(r, b.child)
      return defaultChild === undefined ? undefined : ctx.forward(r, defaultChild)
    }
  })

/** Drops records with a null key (before a repartition topic of a grouped stream). */
export const nullKeyFilter: ProcessorSupplier = (ctx) => ({
  process: (r) => (r.key === null || r.key === undefined ? undefined : ctx.forward(r))
})

// biome-ignore lint/suspicious/noExplicitAny: user effects carry their own types
type AnyEffect<A> = Effect.Effect<A, any, any>

const then =
  <A>(effect: AnyEffect<A>, next: (a: A) => Step) =>
  (): Step =>
    Effect.flatMap(effect, (a) => next(a) ?? Effect.void)

export const mapValuesEffect =
  (mapper: (value: Any, key: Any) => AnyEffect<Any>): ProcessorSupplier =>
  (ctx) => ({
    process: (r) => then(mapper(r.value, r.key), (v) => ctx.forward(withKeyValue(r, r.key, v)))()
  })

export const mapEffect =
  (mapper: (key: Any, value: Any) => AnyEffect<KeyValue<Any, Any>>): ProcessorSupplier =>
  (ctx) => ({
    process: (r) => then(mapper(r.key, r.value), (kv) => ctx.forward(withKeyValue(r, kv.key, kv.value)))()
  })

export const filterEffect =
  (predicate: (key: Any, value: Any) => AnyEffect<boolean>): ProcessorSupplier =>
  (ctx) => ({
    process: (r) => then(predicate(r.key, r.value), (keep) => (keep ? ctx.forward(r) : undefined))()
  })

export const flatMapValuesEffect =
  (mapper: (value: Any, key: Any) => AnyEffect<Iterable<Any>>): ProcessorSupplier =>
  (ctx) => ({
    process: (r) =>
      then(mapper(r.value, r.key), (vs) => forEachStep([...vs], (v) => ctx.forward(withKeyValue(r, r.key, v))))()
  })

export const peekEffect =
  (action: (key: Any, value: Any) => AnyEffect<unknown>): ProcessorSupplier =>
  (ctx) => ({
    process: (r) => then(action(r.key, r.value), () => ctx.forward(r))()
  })

export const foreachEffect =
  (action: (key: Any, value: Any) => AnyEffect<unknown>): ProcessorSupplier =>
  () => ({
    process: (r) => Effect.asVoid(action(r.key, r.value))
  })
