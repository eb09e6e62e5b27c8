/**
 * The graph the DSL's joins add, with Kafka Streams' generated names: stream-stream joins (two windowed
 * inputs, two join processors and a merge; `KSTREAM-JOINTHIS-<n>-store`, `KSTREAM-JOINOTHER-<n>-store` or
 * their `OUTER` forms, and `KSTREAM-OUTERSHARED-<n>-store` for left and outer joins), stream-table and
 * stream-globalTable joins (one `KSTREAM-JOIN-`/`KSTREAM-LEFTJOIN-` processor reading the table's store),
 * and table-table joins (`KTABLE-JOINTHIS-`, `KTABLE-JOINOTHER-`, `KTABLE-MERGE-`). Every co-partitioned
 * join registers its inputs as a co-partition group.
 */

import { Duration } from "effect"
import type { Joined, StreamJoined } from "../../dsl/Joined.js"
import type { JoinWindows } from "../../dsl/JoinWindows.js"
import * as JW from "../../dsl/JoinWindows.js"
import type { AnySerde, Materialized, Named } from "../../dsl/Options.js"
import type { ProcessorSupplier } from "../../processor/Processor.js"
import { readInt32, readInt64, writeInt32, writeInt64 } from "../../state/internal/bytes.js"
import * as JoinWindowStore from "../store/JoinWindowStore.js"
import { addRepartition, addStore, type Position } from "./graph.js"
import type { InternalBuilder } from "./InternalBuilder.js"
import * as J from "./joinProcessors.js"
import * as P from "./statelessProcessors.js"
import { emitChange, openStore } from "./tableProcessors.js"

// biome-ignore lint/suspicious/noExplicitAny: the graph is untyped; the DSL types each operation
type Any = any

/** Which records without a partner a join emits. */
export type JoinKind = "inner" | "left" | "outer"

/** Kafka's extra retention of window changelogs (`windowstore.changelog.additional.retention.ms`). */
const CHANGELOG_ADDITIONAL_RETENTION_MS = 86_400_000

/** The position to join from: repartitioned first when a key-changing operation came before. */
const forJoin = (pos: Position, prefix: string, keySerde: AnySerde | undefined, valueSerde: AnySerde | undefined) => {
  if (!pos.repartitionRequired) return pos.node
  return addRepartition(pos, { prefix, userNamed: false, nullKeyFilter: true, keySerde, valueSerde })
}

/** Outer-store keys as bytes: 8-byte timestamp, a side byte (1 = left), the key (so keys sort by time). */
const outerKeySerde = (keySerde: AnySerde): AnySerde => ({
  encode: (k: J.OuterKey) => {
    const key = keySerde.encode(k.key) ?? new Uint8Array(0)
    const out = new Uint8Array(9 + key.length)
    writeInt64(out, 0, k.timestamp)
    out[8] = k.left ? 1 : 0
    out.set(key, 9)
    return out
  },
  decode: (b: Uint8Array | null): J.OuterKey => ({
    timestamp: readInt64(b!, 0),
    left: b![8] === 1,
    key: keySerde.decode(b!.subarray(9))
  })
})

/** Outer-store values as bytes: a side byte, then each value as a 4-byte length and its bytes. */
const outerValueSerde = (left: AnySerde, right: AnySerde): AnySerde => ({
  encode: (v: J.OuterValue) => {
    const serde = v.left ? left : right
    const parts = v.values.map((x) => serde.encode(x) ?? new Uint8Array(0))
    const out = new Uint8Array(1 + parts.reduce((n, p) => n + 4 + p.length, 0))
    out[0] = v.left ? 1 : 0
    let at = 1
    for (const p of parts) {
      writeInt32(out, at, p.length)
      out.set(p, at + 4)
      at += 4 + p.length
    }
    return out
  },
  decode: (b: Uint8Array | null): J.OuterValue => {
    const bytes = b!
    const isLeft = bytes[0] === 1
    const serde = isLeft ? left : right
    const values: Array<Any> = []
    for (let at = 1; at < bytes.length; ) {
      const n = readInt32(bytes, at)
      values.push(serde.decode(bytes.subarray(at + 4, at + 4 + n)))
      at += 4 + n
    }
    return { left: isLeft, values }
  }
})

/** Adds a stream-stream join of `left` and `right` within `windows`; returns the merged output's node. */
export const streamStreamJoin = (
  left: Position,
  right: Position,
  joiner: J.Joiner,
  windows: JoinWindows,
  streamJoined: StreamJoined<Any, Any, Any>,
  kind: JoinKind
): Position => {
  const b = left.builder
  const leftOuter = kind !== "inner"
  const rightOuter = kind === "outer"
  const keySerde = streamJoined.keySerde ?? left.keySerde ?? right.keySerde
  const thisValueSerde = streamJoined.valueSerde ?? left.valueSerde
  const otherValueSerde = streamJoined.otherValueSerde ?? right.valueSerde
  const name = streamJoined.name
  const thisNode = forJoin(left, name === undefined ? left.node : `${name}-left`, keySerde, thisValueSerde)
  const otherNode = forJoin(right, name === undefined ? right.node : `${name}-right`, keySerde, otherValueSerde)
  const thisWindowed = name === undefined ? b.newName("KSTREAM-WINDOWED-") : `${name}-this-windowed`
  const otherWindowed = name === undefined ? b.newName("KSTREAM-WINDOWED-") : `${name}-other-windowed`
  const thisGenerated = b.newName(rightOuter ? "KSTREAM-OUTERTHIS-" : "KSTREAM-JOINTHIS-")
  const otherGenerated = b.newName(leftOuter ? "KSTREAM-OUTEROTHER-" : "KSTREAM-JOINOTHER-")
  const thisJoin = name === undefined ? thisGenerated : `${name}-this-join`
  const otherJoin = name === undefined ? otherGenerated : `${name}-other-join`
  const merge = name === undefined ? b.newName("KSTREAM-MERGE-") : `${name}-merge`

  const base = streamJoined.storeName
  const thisStore =
    streamJoined.thisStoreSupplier?.name ?? (base === undefined ? `${thisGenerated}-store` : `${base}-this-join-store`)
  const otherStore =
    streamJoined.otherStoreSupplier?.name ??
    (base === undefined ? `${otherGenerated}-store` : `${base}-other-join-store`)
  const outerStore = !leftOuter
    ? undefined
    : base === undefined
      ? `${thisGenerated.replace(/^KSTREAM-(JOINTHIS|OUTERTHIS)-/, "KSTREAM-OUTERSHARED-")}-store`
      : `${base}-outer-shared-join-store`

  const retentionMs = JW.retention(windows)
  const logConfig = {
    "cleanup.policy": "compact,delete",
    "retention.ms": String(retentionMs + CHANGELOG_ADDITIONAL_RETENTION_MS),
    ...streamJoined.logConfig
  }
  const windowStore = (
    store: string,
    valueSerde: AnySerde | undefined,
    supplier: typeof streamJoined.thisStoreSupplier
  ) =>
    b.addStore({
      name: store,
      keySerde,
      valueSerde,
      loggingEnabled: streamJoined.loggingEnabled ?? true,
      cachingEnabled: false,
      logConfig,
      supplier: undefined,
      storeType: undefined,
      global: false,
      usedBy: `stream-stream join ${thisJoin}`,
      open: JoinWindowStore.opener({
        retentionMs: supplier?.retentionPeriod ?? retentionMs,
        windowSizeMs: supplier?.windowSize ?? JW.size(windows),
        supplier,
        storeType: undefined
      })
    })
  windowStore(thisStore, thisValueSerde, streamJoined.thisStoreSupplier)
  windowStore(otherStore, otherValueSerde, streamJoined.otherStoreSupplier)
  if (outerStore !== undefined) {
    const k = keySerde ?? b.config["default.key.serde"]
    const l = thisValueSerde ?? b.config["default.value.serde"]
    const r = otherValueSerde ?? b.config["default.value.serde"]
    b.addStore({
      name: outerStore,
      keySerde: k === undefined ? undefined : outerKeySerde(k),
      valueSerde: l === undefined || r === undefined ? undefined : outerValueSerde(l, r),
      loggingEnabled: streamJoined.loggingEnabled ?? true,
      cachingEnabled: false,
      logConfig: streamJoined.logConfig ?? {},
      supplier: undefined,
      storeType: undefined,
      global: false,
      usedBy: `stream-stream join ${thisJoin}`
    })
  }

  const trackers = new WeakMap<object, J.TimeTracker>()
  const tracker = (owner: object) => {
    let t = trackers.get(owner)
    if (t === undefined) {
      t = { streamTime: -1, minTime: Number.MAX_SAFE_INTEGER }
      trackers.set(owner, t)
    }
    return t
  }
  const side = (thisIsLeft: boolean, outer: boolean, other: string): ProcessorSupplier =>
    J.streamStreamJoin({
      otherStore: other,
      outerStore,
      thisIsLeft,
      outer,
      beforeMs: thisIsLeft ? windows.beforeMs : windows.afterMs,
      afterMs: thisIsLeft ? windows.afterMs : windows.beforeMs,
      windowBeforeMs: windows.beforeMs,
      windowAfterMs: windows.afterMs,
      graceMs: windows.graceMs,
      joiner,
      tracker
    })
  const shared = outerStore === undefined ? [] : [outerStore]
  b.addProcessor(thisWindowed, J.joinWindowed(thisStore), [thisNode], [thisStore])
  b.addProcessor(otherWindowed, J.joinWindowed(otherStore), [otherNode], [otherStore])
  b.addProcessor(thisJoin, side(true, leftOuter, otherStore), [thisWindowed], [otherStore, ...shared])
  b.addProcessor(otherJoin, side(false, rightOuter, thisStore), [otherWindowed], [thisStore, ...shared])
  b.addProcessor(merge, P.passThrough, [thisJoin, otherJoin])
  b.addCopartitionGroup([thisNode, otherNode])
  return { builder: b, node: merge, keySerde, valueSerde: undefined, repartitionRequired: false }
}

/** Adds a stream-table join (the table must be materialized); returns the join's node. */
export const streamTableJoin = (
  stream: Position,
  table: { readonly position: Position; readonly queryableStoreName: string | undefined },
  joiner: J.Joiner,
  joined: Joined<Any, Any, Any>,
  leftJoin: boolean,
  effectful = false
): Position => {
  const b = stream.builder
  const keySerde = joined.keySerde ?? stream.keySerde ?? table.position.keySerde
  const valueSerde = joined.valueSerde ?? stream.valueSerde
  const from = forJoin(stream, joined.name ?? stream.node, keySerde, valueSerde)
  const name = joined.name ?? b.newName(leftJoin ? "KSTREAM-LEFTJOIN-" : "KSTREAM-JOIN-")
  const store = table.queryableStoreName
  if (store === undefined) {
    b.fail(`${name}: the table of a stream-table join must be materialized (give its operation a Materialized)`)
  }
  const graceMs = joined.gracePeriod === undefined ? 0 : Duration.toMillis(Duration.decode(joined.gracePeriod))
  if (graceMs > 0 && store !== undefined) {
    // Kafka's KIP-923: only a versioned table can be joined as of a buffered record's time
    if (!b.hasCustomStore(store) || effectful) {
      b.fail(`${name}: a grace period needs a versioned table (and a plain joiner)`)
    }
    const buffer = `${name}-Buffer`
    const k = keySerde ?? b.config["default.key.serde"]
    const v = valueSerde ?? b.config["default.value.serde"]
    b.addStore({
      name: buffer,
      keySerde: k === undefined ? undefined : outerKeySerde(k),
      valueSerde: v === undefined ? undefined : outerValueSerde(v, v),
      loggingEnabled: true,
      cachingEnabled: false,
      logConfig: {},
      supplier: undefined,
      storeType: undefined,
      global: false,
      usedBy: `stream-table join ${name}`
    })
    b.addProcessor(
      name,
      J.bufferedStreamTableJoin(store, leftJoin, joiner, { store: buffer, graceMs }),
      [from],
      [store, buffer]
    )
  } else {
    b.addProcessor(
      name,
      J.streamTableJoin(store ?? "", leftJoin, joiner, undefined, effectful),
      [from],
      store === undefined ? [] : [store]
    )
  }
  b.addCopartitionGroup([from, table.position.node])
  return { builder: b, node: name, keySerde, valueSerde: undefined, repartitionRequired: false }
}

/** Adds a stream-globalTable join (no co-partitioning, no repartition); returns the join's node. */
export const streamGlobalTableJoin = (
  stream: Position,
  globalStore: string,
  keyMapper: (key: Any, value: Any) => Any,
  joiner: J.Joiner,
  named: Named | undefined,
  leftJoin: boolean
): Position => {
  const b = stream.builder
  const name = named?.name ?? b.newName(leftJoin ? "KSTREAM-LEFTJOIN-" : "KSTREAM-JOIN-")
  b.addProcessor(name, J.streamGlobalTableJoin(globalStore, keyMapper, leftJoin, joiner), [stream.node])
  return { ...stream, node: name, valueSerde: undefined }
}

/** The merge of a table-table join: forwards both sides' results, through the result's store if materialized. */
const tableJoinMerge =
  (storeName: string | undefined): ProcessorSupplier =>
  (ctx) => {
    const store = storeName === undefined ? undefined : openStore(ctx, storeName, true)
    return { process: (r) => emitChange(ctx, store, r, r.value as Any) }
  }

/** Adds a table-table join (both tables must be materialized); returns the merge's node and result store. */
export const tableTableJoin = (
  left: { readonly position: Position; readonly queryableStoreName: string | undefined },
  right: { readonly position: Position; readonly queryableStoreName: string | undefined },
  joiner: J.Joiner,
  kind: JoinKind,
  named: Named | undefined,
  materialized: Materialized<Any, Any> | undefined
): { readonly position: Position; readonly storeName: string | undefined } => {
  const b: InternalBuilder = left.position.builder
  const storeName = materialized === undefined ? undefined : (materialized.storeName ?? b.newStoreName("KTABLE-MERGE-"))
  const merge = named?.name ?? b.newName("KTABLE-MERGE-")
  const thisName = named?.name === undefined ? b.newName("KTABLE-JOINTHIS-") : `${named.name}-join-this`
  const otherName = named?.name === undefined ? b.newName("KTABLE-JOINOTHER-") : `${named.name}-join-other`
  const leftStore = left.queryableStoreName
  const rightStore = right.queryableStoreName
  if (leftStore === undefined || rightStore === undefined) {
    b.fail(`${merge}: both tables of a table-table join must be materialized (give their operations a Materialized)`)
  }
  const thisMode: J.TableJoinMode = kind
  const otherMode: J.TableJoinMode = kind === "left" ? "right" : kind
  b.addProcessor(
    thisName,
    J.tableTableJoin(rightStore ?? "", thisMode, true, joiner),
    [left.position.node],
    rightStore === undefined ? [] : [rightStore]
  )
  b.addProcessor(
    otherName,
    J.tableTableJoin(leftStore ?? "", otherMode, false, joiner),
    [right.position.node],
    leftStore === undefined ? [] : [leftStore]
  )
  const keySerde = materialized?.keySerde ?? left.position.keySerde ?? right.position.keySerde
  if (storeName !== undefined) addStore(b, storeName, materialized, keySerde, undefined, `table-table join ${merge}`)
  b.addProcessor(merge, tableJoinMerge(storeName), [thisName, otherName], storeName === undefined ? [] : [storeName])
  b.addCopartitionGroup([left.position.node, right.position.node])
  return {
    position: { builder: b, node: merge, keySerde, valueSerde: materialized?.valueSerde, repartitionRequired: false },
    storeName
  }
}
