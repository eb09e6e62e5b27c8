/**
 * Turns a Processor-API supplier (user code: `init`/`process`/`close`, `forward` returning nothing) into the
 * runtime's processor contract (`process` returning the children's work as a `Step`).
 *
 * Invariants: the records one processor instance forwards reach its children in order; when a child
 * returns an Effect, the forwards after it wait for it (they are chained, not dropped); everything a
 * `process` call or a punctuation forwarded, and its own Effect, is in the Step it returns; a call that
 * throws leaves nothing chained behind.
 */
import { Duration, Effect } from "effect"
import type { StoreApi } from "../../internal/store/typedStores.js"
import { facade } from "../../internal/store/typedStores.js"
import type * as Api from "../api/Processor.js"
import type { ProcessorContext, ProcessorSupplier, Step } from "../Processor.js"
import type { StreamRecord } from "../Record.js"

/** Which typed interface a store offers (undefined: a DSL store, read as a timestamped store). */
export type StoreApiOf = (name: string) => StoreApi | undefined

/** The interval of a schedule in milliseconds (at least 1). */
export const intervalMillis = (interval: Duration.DurationInput): number => {
  const ms = Duration.toMillis(Duration.decode(interval))
  if (!Number.isFinite(ms) || ms < 1) throw new Error(`A punctuation interval must be at least 1 ms (got ${ms})`)
  return Math.floor(ms)
}

/** The runtime supplier of a Processor-API (or fixed-key) supplier. */
export const adapt =
  (
    supplier: Api.ProcessorSupplier<unknown, unknown> | Api.FixedKeyProcessorSupplier<unknown, unknown>,
    storeApiOf: StoreApiOf
  ): ProcessorSupplier =>
  (ctx: ProcessorContext) => {
    let pending: Step
    // the timestamp plain key-value stores stamp writes with: the record's, or the punctuation's
    let timestamp = -1
    let initializing = false
    const chain = (work: () => Step) => {
      pending = pending === undefined ? work() : Effect.flatMap(pending, () => work() ?? Effect.void)
    }
    const take = (): Step => {
      const p = pending
      pending = undefined
      return p
    }
    /** Runs user code; its result and everything it forwarded become one Step. */
    const run = (f: () => Api.ProcessResult): Step => {
      let result: Api.ProcessResult
      try {
        result = f()
      } catch (e) {
        pending = undefined
        throw e
      }
      const before = take()
      if (!Effect.isEffect(result)) return before
      const after = Effect.flatMap(result, () => take() ?? Effect.void)
      return before === undefined ? after : Effect.flatMap(before, () => after)
    }
    const stores = new Map<string, unknown>()
    const context: Api.ProcessorContext = {
      taskId: ctx.taskId,
      applicationId: ctx.applicationId,
      forward: (record, childName) => {
        if (initializing) throw new Error("A processor cannot forward in init (forward from process or a punctuator)")
        chain(() => ctx.forward(record, childName))
      },
      getStateStore: <S>(name: string): S => {
        const known = stores.get(name)
        if (known !== undefined) return known as S
        const store = facade(
          storeApiOf(name) ?? "timestampedKeyValue",
          ctx.getStateStore(name),
          () => timestamp,
          (step) => {
            if (step !== undefined) chain(() => step)
          }
        )
        stores.set(name, store)
        return store as S
      },
      schedule: (interval, type, punctuator) =>
        ctx.schedule(intervalMillis(interval), type, (ts) => {
          timestamp = ts
          return run(() => punctuator(ts))
        }),
      commit: () => ctx.commit(),
      recordMetadata: () => ctx.recordMetadata(),
      currentStreamTimeMs: () => ctx.currentStreamTimeMs(),
      currentSystemTimeMs: () => ctx.currentSystemTimeMs()
    }
    const made = (supplier as Api.ProcessorSupplier<unknown, unknown>)()
    const processor: Api.Processor<unknown, unknown> =
      typeof made === "function" ? { process: (record) => made(record, context) } : made
    initializing = true
    try {
      processor.init?.(context)
    } finally {
      initializing = false
    }
    return {
      process: (record: StreamRecord<unknown, unknown>) => {
        timestamp = record.timestamp
        return run(() => processor.process(record))
      },
      close: () => processor.close?.()
    }
  }
