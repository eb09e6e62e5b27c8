/**
 * Opens the persistent byte-level store of a supplier: on lmdb when the native module loads, else the
 * in-memory store (with one warning per process), whose `persistent` is then false so the runtime restores
 * it from its changelog instead of trusting a checkpoint.
 */
import * as InMemoryKeyValueStore from "../InMemoryKeyValueStore.js"
import type { KeyValueBytesStore } from "../KeyValueStore.js"
import * as PersistentKeyValueStore from "../PersistentKeyValueStore.js"
import { ProcessorStateError } from "../StoreError.js"
import * as Lmdb from "./lmdb.js"

/** Opens `<stateDir>/<name>` with the lmdb module `load()` gives, or an in-memory store when it fails. */
export const openPersistent = (
  name: string,
  stateDir: string | undefined,
  load: typeof Lmdb.load = Lmdb.load
): KeyValueBytesStore => {
  if (stateDir === undefined) {
    throw new ProcessorStateError({ store: name, message: `Persistent store ${name} needs a state directory` })
  }
  const loaded = load()
  if (loaded._tag === "Failed") {
    Lmdb.warnFallback(loaded.reason)
    return InMemoryKeyValueStore.make(name)
  }
  return PersistentKeyValueStore.open(loaded.lmdb, name, stateDir)
}
