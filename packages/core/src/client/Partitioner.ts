/**
 * The default partitioner, compatible with the Java client: a keyed record goes to
 * `toPositive(murmur2(keyBytes)) % numPartitions`; records without a key stick to one partition until its
 * batch completes (the producer then picks another).
 */

/** Kafka's 32-bit murmur2 of `data` (seed 0x9747b28c), as a signed int32 like Java's `Utils.murmur2`. */
export const murmur2 = (data: Uint8Array): number => {
  const length = data.length
  const m = 0x5bd1e995
  let h = (0x9747b28c ^ length) | 0
  const end = length & ~3
  for (let i = 0; i < end; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)
    k = Math.imul(k, m)
    k ^= k >>> 24
    k = Math.imul(k, m)
    h = Math.imul(h, m) ^ k
  }
  const tail = length & 3
  if (tail === 3) h ^= data[end + 2]! << 16
  if (tail >= 2) h ^= data[end + 1]! << 8
  if (tail >= 1) {
    h ^= data[end]!
    h = Math.imul(h, m)
  }
  h ^= h >>> 13
  h = Math.imul(h, m)
  h ^= h >>> 15
  return h | 0
}

/** Clears the sign bit (Java's `Utils.toPositive`). */
export const toPositive = (n: number): number => n & 0x7fffffff

/** The partition of a keyed record among `numPartitions`. */
export const partitionForKey = (key: Uint8Array, numPartitions: number): number =>
  toPositive(murmur2(key)) % numPartitions

/** A custom partitioner: the partition for a record of `topic` (key bytes may be null). */
export type Partitioner = (topic: string, key: Uint8Array | null, numPartitions: number) => number | undefined
