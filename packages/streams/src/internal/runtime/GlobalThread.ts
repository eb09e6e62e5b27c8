/**
 * The global thread: loads every partition of each global table's topic into its store before the stream
 * threads start (reading up to the end offsets seen at start), then keeps applying new records for the
 * life of the application.
 *
 * Invariants: one task per global store, fed by one Fetcher; `ready` completes once every global store holds
 * its topic up to the end offsets read at start; records are applied in each partition's order.
 */

import * as Fetcher from "@eddy/core/client/Fetcher"
import { Context, Deferred, Effect, Stream } from "effect"
import * as StreamsConfig from "../../StreamsConfig.js"
import type * as Topology from "../../topology/Topology.js"
import type { TimestampedStore } from "../store/TimestampedStore.js"
import { Task } from "../task/Task.js"

/** Loads the global stores, completes `ready`, then tails their topics until interrupted. */
export const run = (
  topology: Topology.Topology<unknown>,
  config: StreamsConfig.StreamsConfig,
  partitions: ReadonlyMap<string, number>,
  ready: Deferred.Deferred<void, unknown>,
  stores: Map<string, TimestampedStore<unknown, unknown>>,
  context: Context.Context<never> = Context.empty()
) =>
  Effect.gen(function* () {
    const applicationId = config["application.id"]
    const fetcher = yield* Fetcher.make({
      "bootstrap.servers": config["bootstrap.servers"] ?? "localhost:9092",
      "isolation.level": config["processing.guarantee"] === "exactly_once_v2" ? "read_committed" : "read_uncommitted"
    })
    const loaders = yield* Effect.forEach(topology.globalStores, (g) =>
      Effect.gen(function* () {
        const task = new Task(
          { subtopology: g.id, partition: -1 },
          {
            applicationId,
            topology,
            nodes: [g.source, g.processor],
            stores: [g.store],
            global: true,
            cache: undefined,
            collect: () => {},
            now: () => Date.now(),
            partitionsOf: () => undefined,
            onDeserializationError: (e) => StreamsConfig.respond(config["deserialization.exception.handler"], e),
            onProcessingError: (e) => StreamsConfig.respond(config["processing.exception.handler"], e),
            warn: () => {}
          }
        )
        for (const [name, store] of task.stores) stores.set(name, store)
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            stores.delete(g.store)
            task.close()
          })
        )
        const all = Array.from({ length: partitions.get(g.topic) ?? 0 }, (_, partition) => partition)
        const ends = yield* fetcher.resolveOffsets(
          g.topic,
          all.map((partition) => ({ partition, offset: "latest" as const }))
        )
        const behind = new Map([...ends].filter(([, end]) => end > 0))
        const caughtUp = yield* Deferred.make<void>()
        if (behind.size === 0) yield* Deferred.succeed(caughtUp, undefined)
        const progress = (r: { readonly partition: number; readonly offset: number }) =>
          Effect.suspend(() => {
            const end = behind.get(r.partition)
            if (end !== undefined && r.offset + 1 >= end) {
              behind.delete(r.partition)
              if (behind.size === 0) return Deferred.succeed(caughtUp, undefined)
            }
            return Effect.void
          })
        const tail = fetcher
          .fetch(
            g.topic,
            all.map((partition) => ({ partition, offset: "earliest" as const }))
          )
          .pipe(
            Stream.runForEach((r) =>
              Effect.suspend(() => {
                // an update processor's Effect (Processor API) completes before the next record
                const step = task.process(r)
                if (step === undefined) return progress(r)
                return Effect.zipRight(Effect.provide(step, context) as Effect.Effect<void, unknown>, progress(r))
              })
            )
          )
        return { tail, caughtUp }
      })
    )
    yield* Effect.forEach(loaders, (l) => Effect.forkScoped(l.tail), { discard: true })
    yield* Effect.forEach(loaders, (l) => Deferred.await(l.caughtUp), { discard: true })
    yield* Deferred.succeed(ready, undefined)
    yield* Effect.never
  })
