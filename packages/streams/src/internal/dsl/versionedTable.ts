/**
 * The source of a versioned table (Kafka Streams' KTable over a versioned store, KIP-914): every record is
 * a version of its key, but only a version that becomes the latest one changes the table and goes
 * downstream; an out-of-order record (older than the key's latest version) only fills in history, which
 * stream-table joins read as of their records' timestamps.
 */
import type { ProcessorSupplier } from "../../processor/Processor.js"
import type { Change } from "../../processor/Record.js"
import { VALID_TO_UNDEFINED } from "../../state/VersionedKeyValueStore.js"
import type { VersionedStore } from "../store/VersionedStore.js"

// biome-ignore lint/suspicious/noExplicitAny: processors are untyped at runtime; the DSL types them
type Any = any

/** A versioned table source: writes each version, forwards only changes of the latest one. */
export const versionedTableSource =
  (storeName: string): ProcessorSupplier =>
  (ctx) => {
    const store = ctx.getStateStore<VersionedStore<Any, Any>>(storeName)
    return {
      process: (r) => {
        if (r.key === null || r.key === undefined) return undefined
        const old = store.get(r.key)
        if (store.putVersion(r.key, r.value, r.timestamp) !== VALID_TO_UNDEFINED) return undefined
        if (r.value === null && old === undefined) return undefined
        return ctx.forward({ ...r, value: { newValue: r.value, oldValue: old?.value ?? null } satisfies Change<Any> })
      }
    }
  }
