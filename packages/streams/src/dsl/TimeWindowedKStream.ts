/**
 * Windowed grouped streams (Kafka Streams' `TimeWindowedKStream` and `SessionWindowedKStream`): a grouped
 * stream cut into time, sliding or session windows, aggregated per key and window into a table keyed by
 * `Windowed<K>`. Every operation here is stateful (a window or session store with a `compact,delete`
 * changelog).
 */
import type { Position } from "../internal/dsl/graph.js"
import { type AggregationInput, addAggregation } from "../internal/dsl/windowed.js"
import {
  type Folding,
  type SessionMerger,
  sessionWindowAggregate,
  slidingWindowAggregate,
  timeWindowAggregate
} from "../internal/dsl/windowProcessors.js"
import type { ProcessorSupplier } from "../processor/Processor.js"
import * as Serdes from "../Serdes.js"
import type { KTable } from "./KTable.js"
import type { AnySerde, Materialized, Named } from "./Options.js"
import type { EmitStrategy, SessionWindows, SlidingWindows, TimeWindows, Windowed, WindowSpec } from "./Windows.js"

// biome-ignore lint/suspicious/noExplicitAny: the folding functions are untyped at runtime
type Any = any

/** The processor of a windowed aggregation for a window specification. */
export const windowProcessor =
  (windows: WindowSpec, folding: Folding, merger: SessionMerger | undefined) =>
  (name: string, storeName: string): ProcessorSupplier =>
    windows._tag === "TimeWindows"
      ? timeWindowAggregate(name, storeName, windows, folding)
      : windows._tag === "SlidingWindows"
        ? slidingWindowAggregate(name, storeName, windows, folding)
        : sessionWindowAggregate(name, storeName, windows, folding, merger!)

const aggregate = (
  position: Position,
  groupedName: string | undefined,
  windows: WindowSpec,
  emit: EmitStrategy | undefined,
  prefix: string,
  folding: Folding,
  merger: SessionMerger | undefined,
  materialized: Materialized<Any, Any> | undefined,
  named: Named | undefined,
  valueSerde: AnySerde | undefined
) => {
  const input: AggregationInput = { position, groupedName, processor: windowProcessor(windows, folding, merger) }
  return addAggregation([input], { prefix, windows, emit, materialized, named, valueSerde })
}

/** A grouped stream in time windows (tumbling, hopping) or sliding windows. */
export class TimeWindowedKStream<K, V, R = never> {
  /** @internal */
  constructor(
    private readonly position: Position,
    private readonly groupedName: string | undefined,
    private readonly windows: TimeWindows | SlidingWindows,
    private readonly emit: EmitStrategy | undefined = undefined
  ) {}

  /** When results go downstream: on every update (default) or once per window when it closes. */
  emitStrategy(strategy: EmitStrategy): TimeWindowedKStream<K, V, R> {
    return new TimeWindowedKStream(this.position, this.groupedName, this.windows, strategy)
  }

  /** Stateful: the number of records per key and window. */
  count(materialized?: Materialized<K, number>, named?: Named): KTable<Windowed<K>, number, R> {
    const folding: Folding = { initializer: () => 0, aggregator: (_k, _v, n: number) => n + 1 }
    return aggregate(
      this.position,
      this.groupedName,
      this.windows,
      this.emit,
      "KSTREAM-AGGREGATE-",
      folding,
      undefined,
      materialized,
      named,
      Serdes.long
    )
  }

  /** Stateful: combines the values of each key and window with `reducer`. */
  reduce(
    reducer: (aggregate: V, value: V) => V,
    materialized?: Materialized<K, V>,
    named?: Named
  ): KTable<Windowed<K>, V, R> {
    const folding: Folding = { initializer: undefined, aggregator: (_k, v, agg) => reducer(agg, v) }
    return aggregate(
      this.position,
      this.groupedName,
      this.windows,
      this.emit,
      "KSTREAM-REDUCE-",
      folding,
      undefined,
      materialized,
      named,
      this.position.valueSerde
    )
  }

  /** Stateful: folds the values of each key and window into an aggregate started by `initializer`. */
  aggregate<VA>(
    initializer: () => VA,
    aggregator: (key: K, value: V, aggregate: VA) => VA,
    materialized?: Materialized<K, VA>,
    named?: Named
  ): KTable<Windowed<K>, VA, R> {
    return aggregate(
      this.position,
      this.groupedName,
      this.windows,
      this.emit,
      "KSTREAM-AGGREGATE-",
      { initializer, aggregator },
      undefined,
      materialized,
      named,
      undefined
    )
  }
}

/** A grouped stream in session windows. */
export class SessionWindowedKStream<K, V, R = never> {
  /** @internal */
  constructor(
    private readonly position: Position,
    private readonly groupedName: string | undefined,
    private readonly windows: SessionWindows,
    private readonly emit: EmitStrategy | undefined = undefined
  ) {}

  /** When results go downstream: on every update (default) or once per session when it closes. */
  emitStrategy(strategy: EmitStrategy): SessionWindowedKStream<K, V, R> {
    return new SessionWindowedKStream(this.position, this.groupedName, this.windows, strategy)
  }

  /** Stateful: the number of records per key and session. */
  count(materialized?: Materialized<K, number>, named?: Named): KTable<Windowed<K>, number, R> {
    const folding: Folding = { initializer: () => 0, aggregator: (_k, _v, n: number) => n + 1 }
    return aggregate(
      this.position,
      this.groupedName,
      this.windows,
      this.emit,
      "KSTREAM-AGGREGATE-",
      folding,
      (_k, a: number, b: number) => a + b,
      materialized,
      named,
      Serdes.long
    )
  }

  /** Stateful: combines the values of each session with `reducer` (merged sessions too). */
  reduce(
    reducer: (aggregate: V, value: V) => V,
    materialized?: Materialized<K, V>,
    named?: Named
  ): KTable<Windowed<K>, V, R> {
    const folding: Folding = { initializer: undefined, aggregator: (_k, v, agg) => reducer(agg, v) }
    return aggregate(
      this.position,
      this.groupedName,
      this.windows,
      this.emit,
      "KSTREAM-REDUCE-",
      folding,
      (_k, a, b) => reducer(a, b),
      materialized,
      named,
      this.position.valueSerde
    )
  }

  /** Stateful: folds each session's values into an aggregate; `merger` combines two sessions that merge. */
  aggregate<VA>(
    initializer: () => VA,
    aggregator: (key: K, value: V, aggregate: VA) => VA,
    merger: (key: K, aggregate1: VA, aggregate2: VA) => VA,
    materialized?: Materialized<K, VA>,
    named?: Named
  ): KTable<Windowed<K>, VA, R> {
    return aggregate(
      this.position,
      this.groupedName,
      this.windows,
      this.emit,
      "KSTREAM-AGGREGATE-",
      { initializer, aggregator },
      merger,
      materialized,
      named,
      undefined
    )
  }
}
