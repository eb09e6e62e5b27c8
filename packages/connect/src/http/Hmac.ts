/**
 * Webhook signatures: an HMAC of the raw request body with a shared secret, hex-encoded, optionally
 * prefixed with the algorithm (`sha256=<hex>`, as GitHub and many providers send it), compared in
 * constant time.
 */
import { createHmac, timingSafeEqual } from "node:crypto"

/** The HMAC algorithms accepted. */
export const algorithms = ["sha1", "sha256", "sha512"] as const

/** An accepted HMAC algorithm. */
export type Algorithm = (typeof algorithms)[number]

/** The hex HMAC of `body`. */
export const sign = (algorithm: Algorithm, secret: string, body: Uint8Array): string =>
  createHmac(algorithm, secret).update(body).digest("hex")

/** Whether `signature` (hex, maybe `<algorithm>=`-prefixed) is the HMAC of `body`. */
export const verify = (algorithm: Algorithm, secret: string, body: Uint8Array, signature: string): boolean => {
  const given = signature
    .trim()
    .replace(new RegExp(`^${algorithm}=`, "i"), "")
    .toLowerCase()
  const expected = sign(algorithm, secret, body)
  if (given.length !== expected.length || !/^[0-9a-f]*$/.test(given)) return false
  return timingSafeEqual(Buffer.from(given, "hex"), Buffer.from(expected, "hex"))
}
