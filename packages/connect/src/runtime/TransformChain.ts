/**
 * A connector's transforms, configured as in Kafka: `transforms=a,b`, `transforms.a.type=<class>`,
 * `transforms.a.<option>=...`, optionally `transforms.a.predicate=p` and `transforms.a.negate=true` with
 * `predicates=p`, `predicates.p.type=<class>`. The chain applies them in order; a null drops the record.
 */
import { Effect } from "effect"
import { withPrefix } from "../converters/Converters.js"
import type { AnyRecord } from "../data/ConnectRecord.js"
import { ConnectError } from "../plugin/ConnectError.js"
import type { PluginsShape } from "../plugin/Plugins.js"
import type { Predicate, Transformation } from "../plugin/Transformation.js"

/** One configured transform. */
export interface Stage {
  readonly alias: string
  readonly className: string
  readonly apply: Transformation
}

const list = (v: string | undefined) =>
  (v ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")

const build = <A>(what: string, alias: string, make: () => A) =>
  Effect.try({
    try: make,
    catch: (e) =>
      new ConnectError({
        message: `Invalid ${what} '${alias}': ${e instanceof Error ? e.message : String(e)}`,
        cause: e
      })
  })

/** Builds the transform stages of a connector config. */
export const make = (props: Readonly<Record<string, string>>, plugins: PluginsShape) =>
  Effect.gen(function* () {
    const predicates = new Map<string, Predicate>()
    for (const alias of list(props.predicates)) {
      const type = props[`predicates.${alias}.type`]
      if (!type)
        return yield* new ConnectError({ message: `Missing required configuration "predicates.${alias}.type"` })
      const plugin = yield* Effect.mapError(plugins.predicate(type), (e) => new ConnectError({ message: e.message }))
      const options = withPrefix(props, `predicates.${alias}`)
      predicates.set(alias, yield* build("predicate", alias, () => plugin.make(options)))
    }
    const stages: Array<Stage> = []
    for (const alias of list(props.transforms)) {
      const type = props[`transforms.${alias}.type`]
      if (!type)
        return yield* new ConnectError({ message: `Missing required configuration "transforms.${alias}.type"` })
      const plugin = yield* Effect.mapError(
        plugins.transformation(type),
        (e) => new ConnectError({ message: e.message })
      )
      const options = withPrefix(props, `transforms.${alias}`)
      const transform = yield* build("transformation", alias, () => plugin.make(options))
      const predicateAlias = options.predicate?.trim()
      let apply = transform
      if (predicateAlias) {
        const predicate = predicates.get(predicateAlias)
        if (!predicate)
          return yield* new ConnectError({
            message: `Transformation '${alias}' refers to an undefined predicate '${predicateAlias}'`
          })
        const negate = options.negate?.trim().toLowerCase() === "true"
        apply = <R extends AnyRecord>(r: R) => (predicate(r) !== negate ? transform(r) : r)
      }
      stages.push({ alias, className: plugin.className, apply })
    }
    return stages
  })
