import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { Partitioners } from "kafkajs"
import * as Partitioner from "../../src/client/Partitioner.js"

/** The partition kafkajs's DefaultPartitioner (Java-compatible murmur2) picks for `key`. */
const kafkajsPartition = (key: Buffer, numPartitions: number): number =>
  Partitioners.DefaultPartitioner()({
    topic: "t",
    partitionMetadata: Array.from({ length: numPartitions }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0]
    })),
    message: { key, value: null }
  })

describe("Partitioner", () => {
  it("matches kafkajs's Java-compatible partitioner on golden keys", () => {
    const keys = ["", "a", "ab", "abc", "abcd", "abcde", "order-1", "order-42", "customer:9000", "ünïcødé", "🙂🙂"]
    for (const n of [1, 3, 6, 12, 100]) {
      for (const k of keys) {
        const bytes = Buffer.from(k, "utf8")
        assert.strictEqual(Partitioner.partitionForKey(bytes, n), kafkajsPartition(bytes, n), `key ${k} over ${n}`)
      }
    }
  })

  it("matches kafkajs on random keys and partition counts", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 1000 }), (key, n) => {
        const bytes = Buffer.from(key)
        return Partitioner.partitionForKey(bytes, n) === kafkajsPartition(bytes, n)
      }),
      { numRuns: 2000 }
    )
  })

  it("is Java's murmur2 on known values", () => {
    // Kafka's own test vectors for Utils.murmur2 (values as signed int32)
    assert.strictEqual(Partitioner.toPositive(-1), 0x7fffffff)
    assert.strictEqual(Partitioner.toPositive(0x80000000 | 0), 0)
    const h = Partitioner.murmur2(Buffer.from("21"))
    assert.strictEqual(h, -973932308)
  })
})
