/**
 * Options of the joins (Kafka Streams' `StreamJoined`, `Joined`, `TableJoined`): names of the join's
 * processors, stores and repartition topics, serdes, and the stores of a stream-stream join. Plain data.
 */
import type { Duration } from "effect"
import type { WindowBytesStoreSupplier } from "../state/Stores.js"
import type { Serde } from "./Options.js"

/** A stream-stream join's options: base names, serdes, the two window stores, logging. */
export interface StreamJoined<K, V1, V2> {
  /** Base name of the join's processors (`<name>-this-join`, `<name>-other-join`, `<name>-merge`, ...). */
  readonly name?: string | undefined
  /** Base name of the stores: `<storeName>-this-join-store`, `<storeName>-other-join-store`, `<storeName>-outer-shared-join-store`. */
  readonly storeName?: string | undefined
  readonly keySerde?: Serde<K> | undefined
  /** This stream's value serde (its window store's). */
  readonly valueSerde?: Serde<V1> | undefined
  /** The other stream's value serde. */
  readonly otherValueSerde?: Serde<V2> | undefined
  /** Window store of this side's records (a `Stores` window supplier with `retainDuplicates`). */
  readonly thisStoreSupplier?: WindowBytesStoreSupplier | undefined
  /** Window store of the other side's records. */
  readonly otherStoreSupplier?: WindowBytesStoreSupplier | undefined
  /** Changelogs for the join's stores (default true). */
  readonly loggingEnabled?: boolean | undefined
  /** Extra configs of the stores' changelogs. */
  readonly logConfig?: Readonly<Record<string, string>> | undefined
}

/** Stream-stream join options with serdes. */
export const streamJoinedWith = <K, V1, V2>(
  keySerde: Serde<K>,
  valueSerde: Serde<V1>,
  otherValueSerde: Serde<V2>
): StreamJoined<K, V1, V2> => ({ keySerde, valueSerde, otherValueSerde })

/** A stream-table join's options: the processor's (and repartition topic's) name and serdes. */
export interface Joined<K, V, VT> {
  /** Names the join processor and, if the stream must be repartitioned, `<name>-repartition`. */
  readonly name?: string | undefined
  readonly keySerde?: Serde<K> | undefined
  /** The stream's value serde (for a repartition). */
  readonly valueSerde?: Serde<V> | undefined
  /** The table's value serde. */
  readonly otherValueSerde?: Serde<VT> | undefined
  /**
   * With a versioned table: how long stream records wait (in stream time, in the `<name>-Buffer` store)
   * before they are joined, so table updates arriving up to that late are seen (Kafka's KIP-923).
   */
  readonly gracePeriod?: Duration.DurationInput | undefined
}

/** Stream-table join options with serdes. */
export const joinedWith = <K, V, VT>(
  keySerde: Serde<K>,
  valueSerde: Serde<V>,
  otherValueSerde: Serde<VT>
): Joined<K, V, VT> => ({ keySerde, valueSerde, otherValueSerde })

/** A foreign-key table-table join's options: a base name for its processors, stores and internal topics. */
export interface TableJoined {
  readonly name?: string | undefined
}
