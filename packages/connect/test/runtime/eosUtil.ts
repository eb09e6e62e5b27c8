/**
 * Helpers of the exactly-once source tests: a worker with exactly-once sources enabled (as a distributed
 * worker runs them) over an in-process broker, and reads of a topic as a read_committed (or read_uncommitted)
 * consumer sees it.
 */
import * as Admin from "@eddy/core/client/Admin"
import * as Fetcher from "@eddy/core/client/Fetcher"
import * as Topic from "@eddy/core/client/Topic"
import { NodeContext } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import type { ConnectorPlugin } from "../../src/plugin/Connector.js"
import * as Plugins from "../../src/plugin/Plugins.js"
import * as OffsetStore from "../../src/runtime/OffsetStore.js"
import * as Worker from "../../src/runtime/Worker.js"
import { workerProps } from "../util.js"

/** Worker settings of an exactly-once worker on a single test broker. */
export const eosWorkerProps = (bootstrap: string, extra: Record<string, string> = {}) =>
  workerProps(bootstrap, {
    "group.id": "eos-cluster",
    "exactly.once.source.support": "enabled",
    "offset.storage.topic": "eos-offsets",
    "offset.storage.partitions": "3",
    "offset.storage.replication.factor": "1",
    ...extra
  })

/** A worker running source tasks exactly-once, in the current scope, with its offsets store on the offsets topic. */
export const makeEosWorker = (props: Record<string, string>, extra: ReadonlyArray<ConnectorPlugin> = []) =>
  Effect.gen(function* () {
    // built in the caller's scope: the offsets store keeps reading its topic while the worker runs
    const context = yield* Layer.build(
      Layer.mergeAll(Plugins.layer(extra), OffsetStore.layerTopic(props), NodeContext.layer)
    )
    return yield* Effect.provide(
      Worker.make(props, { workerId: "127.0.0.1:8083", exactlyOnceSource: "enabled" }),
      context
    )
  })

/** Every record of `topic` (all partitions, from the start) up to its current end, as `isolation` reads it. */
export const readAll = (
  bootstrap: string,
  topic: string,
  isolation: "read_committed" | "read_uncommitted" = "read_committed"
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
      const topics = yield* admin.listTopics()
      if (!topics.includes(topic)) return []
      const [description] = yield* admin.describeTopics([topic])
      const partitions = description!.partitions.map((p) => p.partition)
      const fetcher = yield* Fetcher.make({
        "bootstrap.servers": bootstrap,
        "isolation.level": isolation,
        "fetch.max.wait.ms": 20
      })
      const ends = yield* fetcher.resolveOffsets(
        topic,
        partitions.map((partition) => ({ partition, offset: "latest" as const }))
      )
      let positions = yield* fetcher.resolveOffsets(
        topic,
        partitions.map((partition) => ({ partition, offset: "earliest" as const }))
      )
      const out: Array<Topic.ConsumerRecord<string | null, string | null>> = []
      const behind = () => new Map([...positions].filter(([p, o]) => o < (ends.get(p) ?? 0)))
      for (let reading = behind(); reading.size > 0; reading = behind()) {
        const round = yield* fetcher.fetchOnce(Topic.stringTopic(topic), reading)
        out.push(...round.records)
        positions = new Map([...positions, ...round.positions])
      }
      return out
    })
  )

/** The values of `readAll`. */
export const valuesOf = (bootstrap: string, topic: string, isolation?: "read_committed" | "read_uncommitted") =>
  Effect.map(readAll(bootstrap, topic, isolation), (rs) => rs.map((r) => r.value ?? ""))
