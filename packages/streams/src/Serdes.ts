/**
 * Serdes the DSL needs besides `@eddy/core`'s `Topic` serdes: Kafka's 8-byte big-endian `Long` (what `count`
 * stores and emits), 4-byte `Integer`, `Double`, and the re-exported string/bytes/schema serdes.
 */
import * as Topic from "@eddy/core/client/Topic"
import { readInt64, writeInt64 } from "./state/internal/bytes.js"

type Serde<A> = Topic.Serde<A>

/** Kafka's `Serdes.Long()`: 8 bytes, big-endian, two's complement (numbers must be safe integers). */
export const long: Serde<number> = {
  encode: (n) => {
    const out = new Uint8Array(8)
    writeInt64(out, 0, n)
    return out
  },
  decode: (b) => {
    if (b === null || b.length !== 8) throw new Error(`Long serde: expected 8 bytes, got ${b?.length ?? "null"}`)
    return readInt64(b, 0)
  }
}

/** Kafka's `Serdes.Integer()`: 4 bytes, big-endian. */
export const integer: Serde<number> = {
  encode: (n) => {
    const out = new Uint8Array(4)
    new DataView(out.buffer).setInt32(0, n)
    return out
  },
  decode: (b) => {
    if (b === null || b.length !== 4) throw new Error(`Integer serde: expected 4 bytes, got ${b?.length ?? "null"}`)
    return new DataView(b.buffer, b.byteOffset, 4).getInt32(0)
  }
}

/** Kafka's `Serdes.Double()`: 8 bytes, IEEE 754 big-endian. */
export const double: Serde<number> = {
  encode: (n) => {
    const out = new Uint8Array(8)
    new DataView(out.buffer).setFloat64(0, n)
    return out
  },
  decode: (b) => {
    if (b === null || b.length !== 8) throw new Error(`Double serde: expected 8 bytes, got ${b?.length ?? "null"}`)
    return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0)
  }
}

/** UTF-8 strings. */
export const string = Topic.string as Serde<string>

/** Bytes as they are. */
export const bytes = Topic.bytes as Serde<Uint8Array>

/** A serde from an effect/Schema (JSON, or UTF-8 for string schemas). */
export const schema = Topic.schema

/** A serde from an effect/Schema, always JSON. */
export const json = Topic.json
