/**
 * Chooses and opens the byte-level store of a state store, as Kafka Streams does: the `Materialized` store
 * supplier if one was given, else the `Materialized` store type, else `default.dsl.store`. A persistent
 * store opens in `<task directory>/<store>`; without a task directory (the test driver, global stores) every
 * store is in memory.
 */
import type { DslStoreType } from "../../dsl/Options.js"
import * as InMemoryKeyValueStore from "../../state/InMemoryKeyValueStore.js"
import type { KeyValueBytesStore } from "../../state/KeyValueStore.js"
import * as Stores from "../../state/Stores.js"
import type { StoreSpec } from "../../topology/Topology.js"

/** Opens the byte store of `spec` for a task whose state directory is `taskDir` (undefined: memory only). */
export const openByteStore = (
  spec: StoreSpec,
  taskDir: string | undefined,
  defaultType: DslStoreType
): KeyValueBytesStore => {
  const supplier = spec.supplier
  if (typeof supplier === "function") return supplier(spec.name)
  if (supplier !== undefined) {
    return supplier.persistent && taskDir === undefined ? InMemoryKeyValueStore.make(spec.name) : supplier.get(taskDir)
  }
  const type = spec.storeType ?? defaultType
  return type === "rocksDB" && taskDir !== undefined
    ? Stores.persistentKeyValueStore(spec.name).get(taskDir)
    : InMemoryKeyValueStore.make(spec.name)
}
