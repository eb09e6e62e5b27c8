/**
 * A plugin's configuration as one definition of its Kafka-named properties: each key has Kafka's config
 * type, default, importance, documentation and an effect/Schema decoding its string value. One definition
 * yields the typed config (`parse`), the `/connector-plugins/{plugin}/config` listing and the per-key
 * errors of `/connector-plugins/{plugin}/config/validate`.
 */
import { Effect, Either, ParseResult, Schema } from "effect"
import { ConnectError } from "./ConnectError.js"

/** Kafka's ConfigDef types. */
export type ConfigType = "STRING" | "INT" | "SHORT" | "LONG" | "DOUBLE" | "BOOLEAN" | "LIST" | "CLASS" | "PASSWORD"

/** Kafka's importance levels. */
export type Importance = "HIGH" | "MEDIUM" | "LOW"

/** One config key. */
export interface ConfigKey<A> {
  readonly type: ConfigType
  readonly documentation: string
  readonly importance: Importance
  /** The default as Kafka prints it (a string), or undefined when the key is required. */
  readonly defaultValue?: string | null
  /** Decodes the raw string value. */
  readonly schema: Schema.Schema<A, string>
  readonly group?: string
  readonly displayName?: string
  /** Allowed values (also shown as recommended values). */
  readonly validValues?: ReadonlyArray<string>
}

/** The JSON shape of a key in `/connector-plugins/{plugin}/config` (Kafka's ConfigKeyInfo). */
export interface ConfigKeyInfo {
  readonly name: string
  readonly type: ConfigType
  readonly required: boolean
  readonly default_value: string | null
  readonly importance: Importance
  readonly documentation: string
  readonly group: string | null
  readonly width: "NONE"
  readonly display_name: string
  readonly dependents: ReadonlyArray<string>
  readonly order: number
}

/** The JSON shape of one validated key (Kafka's ConfigValueInfo). */
export interface ConfigValueInfo {
  readonly name: string
  readonly value: string | null
  readonly recommended_values: ReadonlyArray<string>
  readonly errors: ReadonlyArray<string>
  readonly visible: boolean
}

type Options = {
  readonly documentation: string
  readonly importance?: Importance
  readonly group?: string
  readonly displayName?: string
}

const key = <A>(type: ConfigType, schema: Schema.Schema<A, string>, options: Options, dflt?: string | null) =>
  ({
    type,
    schema,
    documentation: options.documentation,
    importance: options.importance ?? "MEDIUM",
    ...(dflt !== undefined ? { defaultValue: dflt } : {}),
    ...(options.group !== undefined ? { group: options.group } : {}),
    ...(options.displayName !== undefined ? { displayName: options.displayName } : {})
  }) as ConfigKey<A>

const Trimmed = Schema.transform(Schema.String, Schema.String, { decode: (s) => s.trim(), encode: (s) => s })
const IntFromString = Schema.compose(Trimmed, Schema.NumberFromString).pipe(Schema.int())
const BooleanFromString = Schema.transformOrFail(Schema.String, Schema.Boolean, {
  decode: (s, _, ast) => {
    const v = s.trim().toLowerCase()
    return v === "true" || v === "false"
      ? ParseResult.succeed(v === "true")
      : ParseResult.fail(new ParseResult.Type(ast, s, "Expected value to be either true or false"))
  },
  encode: (b) => ParseResult.succeed(String(b))
})
const ListFromString = Schema.transform(Schema.String, Schema.Array(Schema.String), {
  decode: (s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter((x) => x !== ""),
  encode: (xs) => xs.join(",")
})

/** A string key (required unless a default is given; `null` default makes it optional). */
export const string = (options: Options & { readonly default?: string | null }) =>
  key<string>("STRING", Schema.String, options, options.default)

/** A string key restricted to some values (case-insensitive, decoded to the listed spelling). */
export const oneOf = <const V extends string>(
  values: ReadonlyArray<V>,
  options: Options & { readonly default?: V }
) => {
  const schema = Schema.transformOrFail(Schema.String, Schema.String, {
    decode: (s, _, ast) => {
      const match = values.find((v) => v.toLowerCase() === s.trim().toLowerCase())
      return match
        ? ParseResult.succeed(match)
        : ParseResult.fail(new ParseResult.Type(ast, s, `String must be one of: ${values.join(", ")}`))
    },
    encode: ParseResult.succeed
  }) as unknown as Schema.Schema<V, string>
  return { ...key<V>("STRING", schema, options, options.default), validValues: values } as ConfigKey<V>
}

/** An int key (a `null` default makes it optional). */
export const int = (options: Options & { readonly default?: number | null; readonly min?: number }) => {
  const schema =
    options.min === undefined ? IntFromString : IntFromString.pipe(Schema.greaterThanOrEqualTo(options.min))
  const dflt = options.default
  return key<number>("INT", schema, options, dflt === undefined || dflt === null ? dflt : String(dflt))
}

/** A long key (a JS number; values beyond 2^53 lose precision). */
export const long = (options: Options & { readonly default?: number | null; readonly min?: number }) => ({
  ...int(options),
  type: "LONG" as const
})

/** A double key. */
export const double = (options: Options & { readonly default?: number }) =>
  key<number>(
    "DOUBLE",
    Schema.compose(Trimmed, Schema.NumberFromString),
    options,
    options.default === undefined ? undefined : String(options.default)
  )

/** A boolean key. */
export const boolean = (options: Options & { readonly default?: boolean }) =>
  key<boolean>(
    "BOOLEAN",
    BooleanFromString,
    options,
    options.default === undefined ? undefined : String(options.default)
  )

/** A comma-separated list key. */
export const list = (options: Options & { readonly default?: string }) =>
  key<ReadonlyArray<string>>("LIST", ListFromString, options, options.default)

/** A class-name key (a plugin alias, Kafka class name or module path). */
export const className = (options: Options & { readonly default?: string | null }) =>
  key<string>("CLASS", Trimmed, options, options.default)

/** A password key (hidden in listings). */
export const password = (options: Options & { readonly default?: string | null }) =>
  key<string>("PASSWORD", Schema.String, options, options.default)

// biome-ignore lint/suspicious/noExplicitAny: keys of any value type
type Keys = Readonly<Record<string, ConfigKey<any>>>

/** The typed config of a definition: required and defaulted keys present, optional ones maybe null. */
export type TypeOf<K extends Keys> = { readonly [P in keyof K]: K[P] extends ConfigKey<infer A> ? A : never }

/** A definition of a plugin's config. */
export interface ConfigDef<K extends Keys = Keys> {
  readonly keys: K
  /** The keys as `/connector-plugins/{plugin}/config` lists them, in definition order. */
  readonly info: ReadonlyArray<ConfigKeyInfo>
  /** Decodes raw properties into the typed config, or fails with every key's errors. */
  readonly parse: (props: Readonly<Record<string, string>>) => Either.Either<TypeOf<K>, ReadonlyArray<ConfigValueInfo>>
  /** Every key's validation result. */
  readonly validate: (props: Readonly<Record<string, string>>) => ReadonlyArray<ConfigValueInfo>
}

const formatError = (name: string, raw: string, error: ParseResult.ParseError) =>
  `Invalid value ${raw} for configuration ${name}: ${ParseResult.TreeFormatter.formatErrorSync(error).split("\n").at(-1)?.replace(/^└─ /, "").trim()}`

/** Builds a definition from its keys. */
export const make = <K extends Keys>(keys: K): ConfigDef<K> => {
  const entries = Object.entries(keys)
  const info = entries.map(
    ([name, k], order): ConfigKeyInfo => ({
      name,
      type: k.type,
      required: k.defaultValue === undefined,
      default_value:
        k.defaultValue === undefined || k.defaultValue === null
          ? null
          : k.type === "PASSWORD"
            ? "[hidden]"
            : k.defaultValue,
      importance: k.importance,
      documentation: k.documentation,
      group: k.group ?? null,
      width: "NONE",
      display_name: k.displayName ?? name,
      dependents: [],
      order: k.group === undefined ? -1 : order + 1
    })
  )
  const validateOne = (name: string, k: ConfigKey<unknown>, props: Readonly<Record<string, string>>) => {
    const raw = props[name]
    const errors: Array<string> = []
    let value: unknown = null
    if (raw === undefined) {
      if (k.defaultValue === undefined)
        errors.push(`Missing required configuration "${name}" which has no default value.`)
      else if (k.defaultValue !== null) value = Schema.decodeEither(k.schema)(k.defaultValue).pipe(Either.getOrNull)
    } else {
      const decoded = Schema.decodeEither(k.schema)(raw)
      if (Either.isLeft(decoded)) errors.push(formatError(name, raw, decoded.left))
      else value = decoded.right
    }
    const result: ConfigValueInfo = {
      name,
      value: raw === undefined ? (k.defaultValue ?? null) : k.type === "PASSWORD" ? "[hidden]" : raw,
      recommended_values: k.validValues ?? [],
      errors,
      visible: true
    }
    return { result, value }
  }
  const validate = (props: Readonly<Record<string, string>>) => entries.map(([n, k]) => validateOne(n, k, props).result)
  const parse = (props: Readonly<Record<string, string>>) => {
    const out: Record<string, unknown> = {}
    const results: Array<ConfigValueInfo> = []
    let failed = false
    for (const [name, k] of entries) {
      const { result, value } = validateOne(name, k, props)
      results.push(result)
      out[name] = value
      if (result.errors.length > 0) failed = true
    }
    return failed ? Either.left(results) : Either.right(out as TypeOf<K>)
  }
  return { keys, info, parse, validate }
}

/** Merges two definitions (the second's keys win). */
export const merge = <A extends Keys, B extends Keys>(a: ConfigDef<A>, b: ConfigDef<B>): ConfigDef<A & B> =>
  make({ ...a.keys, ...b.keys } as A & B)

/** The first error of each failing key, as one message. */
export const errorMessage = (results: ReadonlyArray<ConfigValueInfo>): string =>
  results.flatMap((r) => r.errors).join("; ")

/** Parses a connector's or task's properties, failing with a `ConnectError` that names every invalid key. */
export const parseProps = <K extends Keys>(
  def: ConfigDef<K>,
  props: Readonly<Record<string, string>>
): Effect.Effect<TypeOf<K>, ConnectError> =>
  Effect.mapError(def.parse(props), (results) => new ConnectError({ message: errorMessage(results) }))
