/**
 * Single message transforms and predicates: synchronous functions of a record, configured from their
 * `transforms.<alias>.*` / `predicates.<alias>.*` properties. A transform returns the new record or null to
 * drop it; a predicate decides whether a transform applies (`predicate=<alias>`, `negate`).
 */
import type { AnyRecord } from "../data/ConnectRecord.js"
import type { ConfigDef } from "./ConfigDef.js"
import type { Props } from "./Connector.js"

/** A configured transform. */
export type Transformation = <R extends AnyRecord>(record: R) => R | null

/** A configured predicate. */
export type Predicate = (record: AnyRecord) => boolean

/** A transform plugin (Kafka's class name, with `$Key`/`$Value` variants registered as separate plugins). */
export interface TransformationPlugin {
  readonly _tag: "transformation"
  readonly className: string
  readonly version: string
  readonly config: ConfigDef
  /** Builds the transform from its props; throws DataError/ConnectError on an invalid config. */
  readonly make: (props: Props) => Transformation
}

/** A predicate plugin. */
export interface PredicatePlugin {
  readonly _tag: "predicate"
  readonly className: string
  readonly version: string
  readonly config: ConfigDef
  readonly make: (props: Props) => Predicate
}
