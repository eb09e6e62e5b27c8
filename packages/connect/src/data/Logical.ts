/**
 * Connect's logical types: Decimal (bytes holding a two's-complement unscaled integer, `scale`
 * parameter), Date (int32 days since the epoch), Time (int32 milliseconds since midnight) and Timestamp
 * (int64 milliseconds since the epoch). Values of Date, Time and Timestamp are JS `Date`s; Decimal values are
 * `BigDecimal`s.
 */
import * as CS from "./ConnectSchema.js"

/** Schema name of the Decimal logical type. */
export const DECIMAL_NAME = "org.apache.kafka.connect.data.Decimal"
/** Schema name of the Date logical type. */
export const DATE_NAME = "org.apache.kafka.connect.data.Date"
/** Schema name of the Time logical type. */
export const TIME_NAME = "org.apache.kafka.connect.data.Time"
/** Schema name of the Timestamp logical type. */
export const TIMESTAMP_NAME = "org.apache.kafka.connect.data.Timestamp"
/** The Decimal schema parameter holding the scale. */
export const SCALE_FIELD = "scale"

const MS_PER_DAY = 86_400_000

/** An exact decimal number: `unscaled * 10^-scale`. */
export class BigDecimal {
  constructor(
    readonly unscaled: bigint,
    readonly scale: number
  ) {}

  /** Parses a plain or exponent decimal string ("12.30", "-1e3"). */
  static parse(text: string): BigDecimal {
    const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim())
    if (!match || (match[2] === "" && (match[3] ?? "") === "")) throw new RangeError(`not a decimal: ${text}`)
    const frac = match[3] ?? ""
    const exp = match[4] ? Number(match[4]) : 0
    const digits = BigInt(`${match[2] || "0"}${frac}`)
    return new BigDecimal(match[1] === "-" ? -digits : digits, frac.length - exp)
  }

  /** The number rescaled to `scale` (exact when growing the scale, truncating otherwise). */
  withScale(scale: number): BigDecimal {
    if (scale === this.scale) return this
    if (scale > this.scale) return new BigDecimal(this.unscaled * 10n ** BigInt(scale - this.scale), scale)
    return new BigDecimal(this.unscaled / 10n ** BigInt(this.scale - scale), scale)
  }

  /** The plain decimal text without an exponent (Java's `BigDecimal.toPlainString`). */
  toPlainString(): string {
    const negative = this.unscaled < 0n
    const digits = (negative ? -this.unscaled : this.unscaled).toString()
    let text: string
    if (this.scale <= 0) text = digits + "0".repeat(-this.scale)
    else {
      const padded = digits.padStart(this.scale + 1, "0")
      text = `${padded.slice(0, padded.length - this.scale)}.${padded.slice(padded.length - this.scale)}`
    }
    return negative ? `-${text}` : text
  }

  /** Java's `BigDecimal.toString`: plain unless the exponent is small or the scale negative. */
  toString(): string {
    const digits = (this.unscaled < 0n ? -this.unscaled : this.unscaled).toString()
    const adjusted = -this.scale + (digits.length - 1)
    if (this.scale >= 0 && adjusted >= -6) return this.toPlainString()
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    return `${this.unscaled < 0n ? "-" : ""}${mantissa}E${adjusted >= 0 ? "+" : ""}${adjusted}`
  }

  /** The nearest JS number. */
  toNumber(): number {
    return Number(this.toString())
  }
}

/** A Decimal schema with the given scale. */
export const decimal = (scale: number, options: CS.SchemaOptions = {}): CS.ConnectSchema =>
  CS.bytes({
    ...options,
    name: DECIMAL_NAME,
    version: 1,
    parameters: { ...options.parameters, [SCALE_FIELD]: String(scale) }
  })

/** A Date schema. */
export const date = (options: CS.SchemaOptions = {}) => CS.int32({ ...options, name: DATE_NAME, version: 1 })
/** A Time schema. */
export const time = (options: CS.SchemaOptions = {}) => CS.int32({ ...options, name: TIME_NAME, version: 1 })
/** A Timestamp schema. */
export const timestamp = (options: CS.SchemaOptions = {}) => CS.int64({ ...options, name: TIMESTAMP_NAME, version: 1 })

/** The scale of a Decimal schema. */
export const scaleOf = (schema: CS.ConnectSchema): number => {
  const scale = Number(schema.parameters?.[SCALE_FIELD])
  if (!Number.isInteger(scale)) throw new RangeError(`Decimal schema without a valid scale parameter`)
  return scale
}

/** Two's-complement big-endian bytes of a bigint, shortest form (Java's `BigInteger.toByteArray`). */
export const bigintToBytes = (value: bigint): Uint8Array => {
  const out: Array<number> = []
  let v = value
  for (;;) {
    const byte = Number(v & 0xffn)
    out.push(byte)
    v >>= 8n
    if ((v === 0n && (byte & 0x80) === 0) || (v === -1n && (byte & 0x80) !== 0)) break
  }
  return Uint8Array.from(out.reverse())
}

/** The bigint held in two's-complement big-endian bytes. */
export const bytesToBigint = (bytes: Uint8Array): bigint => {
  if (bytes.length === 0) return 0n
  let v = 0n
  for (const b of bytes) v = (v << 8n) | BigInt(b)
  return bytes[0]! & 0x80 ? v - (1n << BigInt(bytes.length * 8)) : v
}

/** Encodes a decimal for a Decimal schema (its unscaled value at the schema's scale). */
export const decimalToBytes = (schema: CS.ConnectSchema, value: BigDecimal): Uint8Array => {
  const scale = scaleOf(schema)
  if (value.scale !== scale) throw new RangeError(`BigDecimal has mismatching scale ${value.scale}, expected ${scale}`)
  return bigintToBytes(value.unscaled)
}

/** Decodes a Decimal schema's bytes. */
export const decimalFromBytes = (schema: CS.ConnectSchema, bytes: Uint8Array): BigDecimal =>
  new BigDecimal(bytesToBigint(bytes), scaleOf(schema))

/** Days since the epoch of a Date value (which must be at midnight UTC). */
export const dateToDays = (value: Date): number => {
  const ms = value.getTime()
  if (ms % MS_PER_DAY !== 0) throw new RangeError("Kafka Connect Date type should not have any time fields set")
  return ms / MS_PER_DAY
}

/** The Date value of days since the epoch. */
export const dateFromDays = (days: number): Date => new Date(days * MS_PER_DAY)

/** Milliseconds since midnight of a Time value (which must be on 1970-01-01 UTC). */
export const timeToMillis = (value: Date): number => {
  const ms = value.getTime()
  if (ms < 0 || ms >= MS_PER_DAY) throw new RangeError("Kafka Connect Time type should not have any date fields set")
  return ms
}

/** The Time value of milliseconds since midnight. */
export const timeFromMillis = (millis: number): Date => new Date(millis)

/** True when the schema is a logical type this module knows. */
export const isLogical = (schema: CS.ConnectSchema): boolean =>
  schema.name === DECIMAL_NAME || schema.name === DATE_NAME || schema.name === TIME_NAME || schema.name === TIMESTAMP_NAME

/** The physical value of a logical value (Decimal -> bytes, Date -> days, Time -> ms, Timestamp -> ms). */
export const toPhysical = (schema: CS.ConnectSchema, value: unknown): unknown => {
  switch (schema.name) {
    case DECIMAL_NAME:
      return value instanceof BigDecimal ? decimalToBytes(schema, value) : value
    case DATE_NAME:
      return value instanceof Date ? dateToDays(value) : value
    case TIME_NAME:
      return value instanceof Date ? timeToMillis(value) : value
    case TIMESTAMP_NAME:
      return value instanceof Date ? value.getTime() : value
    default:
      return value
  }
}

/** The logical value of a physical value (the inverse of `toPhysical`). */
export const fromPhysical = (schema: CS.ConnectSchema, value: unknown): unknown => {
  switch (schema.name) {
    case DECIMAL_NAME:
      return value instanceof Uint8Array ? decimalFromBytes(schema, value) : value
    case DATE_NAME:
      return typeof value === "number" ? dateFromDays(value) : value
    case TIME_NAME:
      return typeof value === "number" ? timeFromMillis(value) : value
    case TIMESTAMP_NAME:
      return typeof value === "number" || typeof value === "bigint" ? new Date(Number(value)) : value
    default:
      return value
  }
}
