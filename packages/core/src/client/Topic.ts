/**
 * Typed topics: a topic name with a key and a value {@link Serde}. `Topic.make("orders", { key: Schema.String,
 * value: Order })` encodes values as JSON through their Schema (schemas whose encoded side is a string, like
 * `Schema.String`, are written as plain UTF-8). `Topic.raw` keeps bytes, `Topic.string` UTF-8 strings.
 */
import { ParseResult, Schema, SchemaAST } from "effect"
import type { RecordHeader } from "../protocol/RecordBatch.js"

/** Turns values into record bytes and back; `decode` throws on bytes it cannot read. */
export interface Serde<A> {
  readonly encode: (a: A) => Uint8Array | null
  readonly decode: (bytes: Uint8Array | null) => A
}

/** A topic with typed keys `K` and values `V`. */
export interface Topic<K, V> {
  readonly name: string
  readonly key: Serde<K>
  readonly value: Serde<V>
}

/** A record to produce. `headers` values may be strings (UTF-8) or bytes. */
export interface ProducerRecord<K, V> {
  readonly key?: K | null
  readonly value: V
  readonly headers?:
    | { readonly [key: string]: string | Uint8Array | null }
    | ReadonlyArray<{ readonly key: string; readonly value: string | Uint8Array | null }>
  /** Target partition; default: the partitioner's choice. */
  readonly partition?: number
  /** Create time in ms; default: now. */
  readonly timestamp?: number
}

/** A record read from a topic, decoded. */
export interface ConsumerRecord<K, V> {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly timestamp: number
  readonly key: K | null
  readonly value: V
  readonly headers: ReadonlyArray<RecordHeader>
}

/** A record that could not be encoded for `topic`. */
export class RecordEncodeError extends Schema.TaggedError<RecordEncodeError>()("RecordEncodeError", {
  topic: Schema.String,
  field: Schema.Literal("key", "value"),
  message: Schema.String
}) {}

/** A record that could not be decoded: where it is and which part failed. */
export class RecordDecodeError extends Schema.TaggedError<RecordDecodeError>()("RecordDecodeError", {
  topic: Schema.String,
  partition: Schema.Number,
  offset: Schema.Number,
  field: Schema.Literal("key", "value"),
  message: Schema.String
}) {}

const utf8 = new TextDecoder("utf-8", { fatal: true })
const toBytes = (s: string): Uint8Array => Buffer.from(s, "utf8")

/** Bytes as they are. */
export const bytes: Serde<Uint8Array | null> = { encode: (a) => a, decode: (b) => b }

/** UTF-8 strings (null stays null). */
export const string: Serde<string | null> = {
  encode: (a) => (a === null ? null : toBytes(a)),
  decode: (b) => (b === null ? null : utf8.decode(b))
}

const isStringEncoded = (ast: SchemaAST.AST): boolean => SchemaAST.isStringKeyword(SchemaAST.encodedAST(ast))

/**
 * A serde from a Schema: JSON of the encoded form, or UTF-8 text when the encoded form is a string.
 * Null bytes decode through the schema as `null` (so `Schema.NullOr(X)` reads tombstones).
 */
export const schema = <A, I>(s: Schema.Schema<A, I, never>): Serde<A> => {
  const encode = Schema.encodeSync(s)
  const decode = Schema.decodeUnknownSync(s)
  if (isStringEncoded(s.ast)) {
    return {
      encode: (a) => {
        const i = encode(a) as unknown
        return i === null ? null : toBytes(i as string)
      },
      decode: (b) => decode(b === null ? null : utf8.decode(b))
    }
  }
  return {
    encode: (a) => {
      const i = encode(a) as unknown
      return i === null ? null : toBytes(JSON.stringify(i))
    },
    decode: (b) => decode(b === null ? null : JSON.parse(utf8.decode(b)))
  }
}

/** A serde from a Schema, always JSON (also for string schemas). */
export const json = <A, I>(s: Schema.Schema<A, I, never>): Serde<A> => {
  const encode = Schema.encodeSync(s)
  const decode = Schema.decodeUnknownSync(s)
  return {
    encode: (a) => toBytes(JSON.stringify(encode(a))),
    decode: (b) => decode(b === null ? null : JSON.parse(utf8.decode(b)))
  }
}

const isSerde = (u: unknown): u is Serde<unknown> =>
  typeof u === "object" && u !== null && "encode" in u && "decode" in u && !Schema.isSchema(u)

const toSerde = <A>(s: SchemaOf<A> | Serde<A>): Serde<A> => (isSerde(s) ? (s as Serde<A>) : schema(s as SchemaOf<A>))

/** Any Schema whose type is `A` and needs no services (its encoded type is invariant, hence `any`). */
// biome-ignore lint/suspicious/noExplicitAny: a Schema's encoded type parameter is invariant
export type SchemaOf<A> = Schema.Schema<A, any, never>

/** A typed topic. Without `key`, keys are raw bytes. */
export const make = <V, K = Uint8Array | null>(
  name: string,
  options: {
    readonly key?: SchemaOf<K> | Serde<K>
    readonly value: SchemaOf<V> | Serde<V>
  }
): Topic<K, V> => ({
  name,
  key: options.key === undefined ? (bytes as unknown as Serde<K>) : toSerde(options.key),
  value: toSerde(options.value)
})

/** A topic of raw bytes keys and values. */
export const raw = (name: string): Topic<Uint8Array | null, Uint8Array | null> => ({ name, key: bytes, value: bytes })

/** A topic of UTF-8 string keys and values. */
export const stringTopic = (name: string): Topic<string | null, string | null> => ({ name, key: string, value: string })

/** Headers of a {@link ProducerRecord} as record headers. */
export const encodeHeaders = (headers: ProducerRecord<unknown, unknown>["headers"]): ReadonlyArray<RecordHeader> => {
  if (headers === undefined) return []
  const out: Array<RecordHeader> = []
  const conv = (v: string | Uint8Array | null) => (typeof v === "string" ? toBytes(v) : v)
  if (Array.isArray(headers)) {
    for (const h of headers as ReadonlyArray<{ key: string; value: string | Uint8Array | null }>) {
      out.push({ key: h.key, value: conv(h.value) })
    }
  } else {
    for (const [key, value] of Object.entries(headers))
      out.push({ key, value: conv(value as string | Uint8Array | null) })
  }
  return out
}

/** The message of a serde failure (a Schema ParseError is formatted). */
export const errorMessage = (e: unknown): string =>
  ParseResult.isParseError(e)
    ? ParseResult.TreeFormatter.formatErrorSync(e)
    : e instanceof Error
      ? e.message
      : String(e)
