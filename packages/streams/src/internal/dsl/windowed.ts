/**
 * Adds an aggregation of one or more grouped streams to the builder's graph, windowed or not: the
 * repartition topics the inputs need, one store, one aggregate processor per input (a cogroup adds a merge
 * processor after them), and for `EmitStrategy.onWindowClose` a final-results buffer. Names follow Kafka:
 * the store is allocated first, then the processors, then the merge.
 *
 * Windowed stores are validated here: retention at least window size + grace (2 x time difference + grace
 * for sliding windows, gap + grace for sessions); their changelogs are `compact,delete` with the store's
 * retention plus `windowstore.changelog.additional.retention.ms` (one day).
 */
import { Duration } from "effect"
import type { AnySerde, Materialized, Named } from "../../dsl/Options.js"
import * as WindowedSerdes from "../../dsl/WindowedSerdes.js"
import type { EmitStrategy, WindowSpec } from "../../dsl/Windows.js"
import { DEFAULT_RETENTION_MS } from "../../dsl/Windows.js"
import type { ProcessorSupplier } from "../../processor/Processor.js"
import type { WindowedStoreOptions } from "../../topology/Topology.js"
import { constructors } from "./constructors.js"
import type { Position, WindowClosing } from "./graph.js"
import { addRepartition } from "./graph.js"
import { addSuppress } from "./suppress.js"

/** Kafka's `windowstore.changelog.additional.retention.ms` default. */
export const WINDOW_CHANGELOG_ADDITIONAL_RETENTION_MS = 86_400_000

/** One input of an aggregation: a grouped stream and how its processor folds values in. */
export interface AggregationInput {
  readonly position: Position
  readonly groupedName: string | undefined
  readonly processor: (name: string, storeName: string) => ProcessorSupplier
}

/** What an aggregation needs besides its inputs. */
export interface AggregationSpec {
  readonly prefix: string
  /** Set for a cogroup: the merge processor's prefix (`COGROUPKSTREAM-MERGE-`). */
  readonly mergePrefix?: string | undefined
  readonly windows: WindowSpec | undefined
  readonly emit: EmitStrategy | undefined
  readonly materialized: Materialized<unknown, unknown> | undefined
  readonly named: Named | undefined
  readonly valueSerde: AnySerde | undefined
}

const required = (w: WindowSpec): number =>
  w._tag === "TimeWindows"
    ? w.sizeMs + w.graceMs
    : w._tag === "SlidingWindows"
      ? 2 * w.timeDifferenceMs + w.graceMs
      : w.inactivityGapMs + w.graceMs

const describeWindows = (w: WindowSpec): string =>
  w._tag === "TimeWindows"
    ? `window size ${w.sizeMs} ms + grace ${w.graceMs} ms`
    : w._tag === "SlidingWindows"
      ? `2 x time difference ${w.timeDifferenceMs} ms + grace ${w.graceMs} ms`
      : `inactivity gap ${w.inactivityGapMs} ms + grace ${w.graceMs} ms`

const storeOptions = (w: WindowSpec, retentionMs: number): WindowedStoreOptions =>
  w._tag === "TimeWindows"
    ? { kind: "window", retentionMs, windowSizeMs: w.sizeMs, cacheable: true }
    : w._tag === "SlidingWindows"
      ? // stored by end, and right windows end up to d + 1 after the stream time the store observes
        { kind: "window", retentionMs: retentionMs + w.timeDifferenceMs + 1, windowSizeMs: w.timeDifferenceMs }
      : { kind: "session", retentionMs, windowSizeMs: 0 }

const closing = (w: WindowSpec): WindowClosing => ({ endInclusive: w._tag !== "TimeWindows", graceMs: w.graceMs })

const windowedKeySerde = (w: WindowSpec, keySerde: AnySerde | undefined): AnySerde | undefined =>
  keySerde === undefined
    ? undefined
    : w._tag === "TimeWindows"
      ? WindowedSerdes.timeWindowed(keySerde, w.sizeMs)
      : w._tag === "SlidingWindows"
        ? WindowedSerdes.timeWindowed(keySerde, w.timeDifferenceMs)
        : WindowedSerdes.sessionWindowed(keySerde)

/** Adds the aggregation and returns its table (keyed by `Windowed<K>` when windowed). */
export const addAggregation = (inputs: ReadonlyArray<AggregationInput>, spec: AggregationSpec) => {
  const first = inputs[0]!.position
  const b = first.builder
  const m = spec.materialized
  const storeName = m?.storeName ?? b.newStoreName(spec.prefix)
  const keySerde = m?.keySerde ?? first.keySerde
  const valueSerde = m?.valueSerde ?? spec.valueSerde
  let logConfig = m?.logConfig ?? {}
  let windowed: WindowedStoreOptions | undefined
  if (spec.windows !== undefined) {
    const need = required(spec.windows)
    const retentionMs =
      m?.retention === undefined
        ? Math.max(DEFAULT_RETENTION_MS, need)
        : Duration.toMillis(Duration.decode(m.retention))
    if (retentionMs < need)
      b.fail(
        `The retention period of the window store ${storeName} must be no smaller than its ${describeWindows(spec.windows)} (got ${retentionMs} ms)`
      )
    windowed = storeOptions(spec.windows, retentionMs)
    logConfig = {
      "cleanup.policy": "compact,delete",
      "retention.ms": String(retentionMs + WINDOW_CHANGELOG_ADDITIONAL_RETENTION_MS),
      ...logConfig
    }
  }
  const usedBy = `aggregation of ${inputs.length > 1 ? "a cogroup" : "a grouped stream"}`
  const supplier = m?.storeSupplier
  const versioned = typeof supplier === "object" && "versioned" in supplier
  if (versioned) b.fail(`The store ${storeName} of an ${usedBy} cannot be a versioned key-value store`)
  b.addStore({
    name: storeName,
    keySerde,
    valueSerde,
    loggingEnabled: m?.loggingEnabled ?? true,
    cachingEnabled: m?.cachingEnabled ?? true,
    logConfig,
    supplier: versioned ? undefined : supplier,
    storeType: m?.storeType,
    global: false,
    windowed,
    usedBy
  })
  const names: Array<string> = []
  inputs.forEach((input, i) => {
    const name =
      spec.mergePrefix === undefined
        ? (spec.named?.name ?? b.newName(spec.prefix))
        : spec.named?.name === undefined
          ? b.newName(spec.prefix)
          : `${spec.named.name}-cogroup-agg-${i}`
    let parent = input.position.node
    if (input.position.repartitionRequired) {
      parent = addRepartition(input.position, {
        prefix: input.groupedName ?? (inputs.length > 1 ? `${storeName}-${i}` : storeName),
        userNamed: input.groupedName !== undefined,
        nullKeyFilter: true,
        keySerde: input.position.keySerde,
        valueSerde: input.position.valueSerde
      })
    }
    b.addProcessor(name, input.processor(name, storeName), [parent], [storeName])
    names.push(name)
  })
  let node = names[0]!
  if (spec.mergePrefix !== undefined) {
    node = spec.named?.name === undefined ? b.newName(spec.mergePrefix) : `${spec.named.name}-cogroup-merge`
    b.addProcessor(node, passThrough, names)
  }
  const position: Position = {
    builder: b,
    node,
    keySerde: spec.windows === undefined ? keySerde : windowedKeySerde(spec.windows, keySerde),
    valueSerde,
    repartitionRequired: false,
    windowed: spec.windows === undefined ? undefined : closing(spec.windows)
  }
  if (spec.emit?._tag === "OnWindowClose") {
    const suppressed = addSuppress(position, { _tag: "UntilWindowCloses", name: undefined, buffer: undefined })
    return constructors.ktable(suppressed, undefined)
  }
  return constructors.ktable(position, storeName)
}

const passThrough: ProcessorSupplier = (ctx) => ({ process: (r) => ctx.forward(r) })
