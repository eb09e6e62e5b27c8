/**
 * The value serde of a grouped table's repartition topic: each record carries one side of a `Change` (the
 * old value to subtract, or the new value to add), a leading byte saying which.
 */
import type { Serde } from "../../dsl/Options.js"
import type { Change } from "../../processor/Record.js"

const NEW = 1
const OLD = 2

/** A serde of one-sided changes over the value serde. */
export const changeSerde = <V>(valueSerde: Serde<V>): Serde<Change<V>> => ({
  encode: (change) => {
    const isNew = change.newValue !== null
    const v = valueSerde.encode((isNew ? change.newValue : change.oldValue) as V) ?? new Uint8Array(0)
    const out = new Uint8Array(1 + v.length)
    out[0] = isNew ? NEW : OLD
    out.set(v, 1)
    return out
  },
  decode: (bytes) => {
    if (bytes === null || bytes.length === 0) throw new Error("change serde: empty value")
    const v = valueSerde.decode(bytes.subarray(1))
    return bytes[0] === NEW ? { newValue: v, oldValue: null } : { newValue: null, oldValue: v }
  }
})
