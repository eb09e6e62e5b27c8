/**
 * Cogrouped streams (Kafka Streams' `CogroupedKStream`): several grouped streams, each with its own
 * aggregator, folded into one aggregate per key (optionally per window) in one store. Each input gets an
 * aggregate processor (`COGROUPKSTREAM-AGGREGATE-<n>`) on the shared store, and a merge processor
 * (`COGROUPKSTREAM-MERGE-<n>`) forwards their updates as one table. Stateful.
 */
import type { Position } from "../internal/dsl/graph.js"
import { streamAggregate } from "../internal/dsl/tableProcessors.js"
import { type AggregationInput, addAggregation } from "../internal/dsl/windowed.js"
import type { SessionMerger } from "../internal/dsl/windowProcessors.js"
import type { KTable } from "./KTable.js"
import type { Materialized, Named } from "./Options.js"
import { windowProcessor } from "./TimeWindowedKStream.js"
import type { EmitStrategy, SessionWindows, SlidingWindows, TimeWindows, Windowed, WindowSpec } from "./Windows.js"

// biome-ignore lint/suspicious/noExplicitAny: the aggregators are untyped at runtime
type Any = any

/** One grouped stream of a cogroup and its aggregator. */
export interface CogroupInput {
  readonly position: Position
  readonly groupedName: string | undefined
  readonly aggregator: (key: Any, value: Any, aggregate: Any) => Any
}

const AGGREGATE = "COGROUPKSTREAM-AGGREGATE-"
const MERGE = "COGROUPKSTREAM-MERGE-"

const build = (
  inputs: ReadonlyArray<CogroupInput>,
  initializer: () => Any,
  windows: WindowSpec | undefined,
  merger: SessionMerger | undefined,
  emit: EmitStrategy | undefined,
  materialized: Materialized<Any, Any> | undefined,
  named: Named | undefined
) =>
  addAggregation(
    inputs.map(
      (i): AggregationInput => ({
        position: i.position,
        groupedName: i.groupedName,
        processor:
          windows === undefined
            ? (_name, store) => streamAggregate(store, initializer, i.aggregator)
            : windowProcessor(windows, { initializer, aggregator: i.aggregator }, merger)
      })
    ),
    { prefix: AGGREGATE, mergePrefix: MERGE, windows, emit, materialized, named, valueSerde: undefined }
  )

/** Grouped streams to be aggregated together into values of type `VOut`. */
export class CogroupedKStream<K, VOut, R = never> {
  /** @internal */
  constructor(private readonly inputs: ReadonlyArray<CogroupInput>) {}

  /** Adds another grouped stream (same key type) with its aggregator. */
  cogroup<V>(
    grouped: { readonly cogroupInput: (aggregator: (key: K, value: V, aggregate: VOut) => VOut) => CogroupInput },
    aggregator: (key: K, value: V, aggregate: VOut) => VOut
  ): CogroupedKStream<K, VOut, R> {
    return new CogroupedKStream([...this.inputs, grouped.cogroupInput(aggregator)])
  }

  /** Stateful: one aggregate per key, started by `initializer` and folded by each input's aggregator. */
  aggregate(initializer: () => VOut, materialized?: Materialized<K, VOut>, named?: Named): KTable<K, VOut, R> {
    return build(this.inputs, initializer, undefined, undefined, undefined, materialized, named)
  }

  /** Cuts the cogroup into time, sliding or session windows. */
  windowedBy(windows: TimeWindows | SlidingWindows): TimeWindowedCogroupedKStream<K, VOut, R>
  windowedBy(windows: SessionWindows): SessionWindowedCogroupedKStream<K, VOut, R>
  windowedBy(
    windows: TimeWindows | SlidingWindows | SessionWindows
  ): TimeWindowedCogroupedKStream<K, VOut, R> | SessionWindowedCogroupedKStream<K, VOut, R> {
    return windows._tag === "SessionWindows"
      ? new SessionWindowedCogroupedKStream(this.inputs, windows)
      : new TimeWindowedCogroupedKStream(this.inputs, windows)
  }
}

/** A cogroup in time or sliding windows. */
export class TimeWindowedCogroupedKStream<K, VOut, R = never> {
  /** @internal */
  constructor(
    private readonly inputs: ReadonlyArray<CogroupInput>,
    private readonly windows: TimeWindows | SlidingWindows,
    private readonly emit: EmitStrategy | undefined = undefined
  ) {}

  /** When results go downstream: on every update (default) or once per window when it closes. */
  emitStrategy(strategy: EmitStrategy): TimeWindowedCogroupedKStream<K, VOut, R> {
    return new TimeWindowedCogroupedKStream(this.inputs, this.windows, strategy)
  }

  /** Stateful: one aggregate per key and window. */
  aggregate(
    initializer: () => VOut,
    materialized?: Materialized<K, VOut>,
    named?: Named
  ): KTable<Windowed<K>, VOut, R> {
    return build(this.inputs, initializer, this.windows, undefined, this.emit, materialized, named)
  }
}

/** A cogroup in session windows. */
export class SessionWindowedCogroupedKStream<K, VOut, R = never> {
  /** @internal */
  constructor(
    private readonly inputs: ReadonlyArray<CogroupInput>,
    private readonly windows: SessionWindows,
    private readonly emit: EmitStrategy | undefined = undefined
  ) {}

  /** When results go downstream: on every update (default) or once per session when it closes. */
  emitStrategy(strategy: EmitStrategy): SessionWindowedCogroupedKStream<K, VOut, R> {
    return new SessionWindowedCogroupedKStream(this.inputs, this.windows, strategy)
  }

  /** Stateful: one aggregate per key and session; `merger` combines sessions that merge. */
  aggregate(
    initializer: () => VOut,
    merger: (key: K, aggregate1: VOut, aggregate2: VOut) => VOut,
    materialized?: Materialized<K, VOut>,
    named?: Named
  ): KTable<Windowed<K>, VOut, R> {
    return build(this.inputs, initializer, this.windows, merger, this.emit, materialized, named)
  }
}
