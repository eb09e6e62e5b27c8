/**
 * Constructors of the DSL classes, registered by their modules when they load, so that KStream, KTable and
 * the grouped classes can make each other without a runtime import cycle (they import each other's types).
 */
import type { KGroupedStream } from "../../dsl/KGroupedStream.js"
import type { KGroupedTable } from "../../dsl/KGroupedTable.js"
import type { KStream } from "../../dsl/KStream.js"
import type { KTable } from "../../dsl/KTable.js"
import type { Position } from "./graph.js"

// biome-ignore lint/suspicious/noExplicitAny: constructors are typed at their call sites
type Any = any

/** Filled in by each DSL module at load time (StreamsBuilder loads them all). */
export const constructors = {
  kstream: undefined as unknown as (position: Position) => KStream<Any, Any, Any>,
  ktable: undefined as unknown as (position: Position, storeName: string | undefined) => KTable<Any, Any, Any>,
  kgroupedStream: undefined as unknown as (
    position: Position,
    groupedName: string | undefined
  ) => KGroupedStream<Any, Any, Any>,
  kgroupedTable: undefined as unknown as (
    position: Position,
    groupedName: string | undefined
  ) => KGroupedTable<Any, Any, Any>
}
