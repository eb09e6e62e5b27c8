/**
 * Kafka's `Uuid`: 16 bytes, written as unpadded base64url. Random ids are version 4; like Kafka, ids
 * whose string form starts with `-` and the all-zero id are never handed out.
 */
import { randomBytes } from "node:crypto"

/** The all-zero id (Kafka's `Uuid.ZERO_UUID`: "no topic id"). */
export const ZERO = new Uint8Array(16)

/** The string form of 16 id bytes. */
export const format = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url")

/** The bytes of a string id; undefined when it is not 22 base64url characters of 16 bytes. */
export const fromString = (s: string): Uint8Array | undefined => {
  if (!/^[A-Za-z0-9_-]{22}$/.test(s)) return undefined
  const b = Buffer.from(s, "base64url")
  return b.length === 16 ? new Uint8Array(b) : undefined
}

/** A fresh random (version 4) id in string form. */
export const random = (): string => {
  for (;;) {
    const b = randomBytes(16)
    b[6] = (b[6]! & 0x0f) | 0x40
    b[8] = (b[8]! & 0x3f) | 0x80
    const s = b.toString("base64url")
    if (!s.startsWith("-")) return s
  }
}

/** True when all 16 bytes are zero. */
export const isZero = (bytes: Uint8Array): boolean => bytes.every((b) => b === 0)
