/**
 * Coordinator placement: which partition of `__consumer_offsets` (groups) or `__transaction_state`
 * (transactional ids) owns a key. Kafka hashes the key with Java's `String.hashCode`, so a key lands on
 * the same partition number here as on a Kafka cluster with the same partition count.
 */

/** FindCoordinator `key_type` values. */
export const KeyType = { GROUP: 0, TRANSACTION: 1 } as const

/** Java's `String.hashCode`: `s[0]*31^(n-1) + ... + s[n-1]` over UTF-16 code units, with int32 overflow. */
export const javaStringHashCode = (s: string): number => {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0
  return h
}

/** Kafka's `Utils.abs`-free placement: `abs(hashCode) % n`, where `abs(Integer.MIN_VALUE)` is 0. */
export const partitionFor = (key: string, numPartitions: number): number => {
  const h = javaStringHashCode(key)
  const abs = h === -2147483648 ? 0 : Math.abs(h)
  return abs % numPartitions
}
