/**
 * Kafka's predicates: TopicNameMatches (`pattern`, the whole topic name), HasHeaderKey (`name`) and
 * RecordIsTombstone (a null value). A transform applies them with `predicate=<alias>` and `negate`.
 */
import { DataError } from "../data/Struct.js"
import * as ConfigDef from "../plugin/ConfigDef.js"
import type { Predicate, PredicatePlugin } from "../plugin/Transformation.js"
import { required } from "./Operating.js"

const PACKAGE = "org.apache.kafka.connect.transforms.predicates"

const predicate = (
  simpleName: string,
  config: ConfigDef.ConfigDef,
  make: PredicatePlugin["make"]
): PredicatePlugin => ({
  _tag: "predicate",
  className: `${PACKAGE}.${simpleName}`,
  version: "0.1.0",
  config,
  make
})

/** Every predicate. */
export const plugins: ReadonlyArray<PredicatePlugin> = [
  predicate(
    "TopicNameMatches",
    ConfigDef.make({
      pattern: ConfigDef.string({
        documentation: "A Java regular expression for matching against the name of a record's topic."
      })
    }),
    (props): Predicate => {
      let regex: RegExp
      try {
        regex = new RegExp(`^(?:${required(props, "pattern")})$`)
      } catch (e) {
        throw new DataError({ message: `Invalid regex: ${String(e)}` })
      }
      return (r) => regex.test(r.topic)
    }
  ),
  predicate(
    "HasHeaderKey",
    ConfigDef.make({ name: ConfigDef.string({ documentation: "The header name." }) }),
    (props): Predicate => {
      const name = required(props, "name")
      return (r) => r.headers.some((h) => h.key === name)
    }
  ),
  predicate("RecordIsTombstone", ConfigDef.make({}), (): Predicate => (r) => r.value === null)
]
