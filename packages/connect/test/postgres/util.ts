/**
 * Helpers of the Postgres connector tests: a consumer collecting a topic's records (JSON values) from a
 * real broker, and a source task context over an in-memory offsets map.
 */
import * as Consumer from "@eddy/core/client/Consumer"
import { Effect, Stream } from "effect"
import type { SourceMap, SourceTaskContext } from "../../src/plugin/Connector.js"

/** A consumed record: topic, key and value as parsed JSON (null for tombstones), headers as strings. */
export interface Received {
  readonly topic: string
  readonly key: unknown
  readonly value: unknown
  readonly headers: Record<string, string>
  readonly offset: number
}

const parse = (bytes: Uint8Array | null) => (bytes === null ? null : JSON.parse(Buffer.from(bytes).toString("utf8")))

/** Reads `topics` from the beginning into the returned array until the scope closes. */
export const collect = (bootstrap: string, topics: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const consumer = yield* Consumer.make({
      "bootstrap.servers": bootstrap,
      "group.id": `collect-${Math.random().toString(36).slice(2)}`,
      "auto.offset.reset": "earliest",
      "fetch.max.wait.ms": 50,
      "session.timeout.ms": 6000,
      "heartbeat.interval.ms": 500,
      "metadata.max.age.ms": 500
    })
    const received: Array<Received> = []
    yield* consumer.stream(topics).pipe(
      Stream.runForEach((r) =>
        Effect.sync(() => {
          const headers: Record<string, string> = {}
          for (const h of r.headers) headers[h.key] = h.value === null ? "" : Buffer.from(h.value).toString()
          received.push({ topic: r.topic, key: parse(r.key), value: parse(r.value), headers, offset: r.offset })
        })
      ),
      Effect.forkScoped
    )
    return received
  })

/** A source task context whose offsets come from `offsets` (keyed by the partition's JSON). */
export const taskContext = (offsets: Record<string, SourceMap> = {}): SourceTaskContext => ({
  configs: {},
  transactionContext: null,
  offsetStorageReader: { offset: (p) => Effect.succeed(offsets[JSON.stringify(p)] ?? null) }
})
