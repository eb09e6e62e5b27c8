/**
 * The offsets endpoints' operations (KIP-875) shared by the standalone and distributed workers: a sink's
 * offsets are its consumer group's (`connect-<name>`), a source's those of the worker's `OffsetStore`;
 * the connector plugin's `alterOffsets` may veto or adjust a change first.
 */
import * as Admin from "@eddy/core/client/Admin"
import { Effect } from "effect"
import type { ConnectorPlugin, Props, SourceMap } from "../plugin/Connector.js"
import { clientProps } from "./ClientProps.js"
import type { OffsetStoreShape } from "./OffsetStore.js"
import { badRequest, WorkerError } from "./WorkerError.js"

/** One partition's offset in the offsets endpoints. */
export interface OffsetEntry {
  readonly partition: SourceMap
  readonly offset: SourceMap | null
}

/** The connector whose offsets change. */
export interface OffsetOwner {
  readonly name: string
  readonly config: Props
  readonly plugin: ConnectorPlugin
}

/** The offset operations over a worker's settings and offsets store. */
export const make = (workerProps: Props, offsets: OffsetStoreShape) => {
  const withAdmin = <A, E>(f: (admin: Admin.Admin) => Effect.Effect<A, E>, config: Props) =>
    Effect.scoped(Effect.flatMap(Admin.make(clientProps("admin", workerProps, config) as never), f)).pipe(
      Effect.mapError((e) => new WorkerError({ status: 500, message: e instanceof Error ? e.message : String(e) }))
    )

  const sinkOffsets = (name: string, config: Props) =>
    withAdmin(
      (admin) =>
        Effect.map(admin.listGroupOffsets(`connect-${name}`), (list) =>
          list.map((o) => ({
            partition: { kafka_topic: o.topic, kafka_partition: o.partition },
            offset: { kafka_offset: o.offset }
          }))
        ),
      config
    )

  const sinkPartition = (p: SourceMap) => {
    const topic = p.kafka_topic
    const partition = p.kafka_partition
    if (typeof topic !== "string" || typeof partition !== "number" || !Number.isInteger(partition))
      return Effect.fail(
        badRequest(
          "Sink connector offsets must have a partition with the keys 'kafka_topic' (string) and 'kafka_partition' (integer)"
        )
      )
    return Effect.succeed({ topic, partition })
  }

  const alterSink = (c: OffsetOwner, list: ReadonlyArray<OffsetEntry>) =>
    Effect.gen(function* () {
      const set: Array<{ topic: string; partition: number; offset: number }> = []
      const reset: Array<{ topic: string; partition: number }> = []
      for (const o of list) {
        const tp = yield* sinkPartition(o.partition)
        if (o.offset === null) reset.push(tp)
        else {
          const off = o.offset.kafka_offset
          if (typeof off !== "number" || !Number.isInteger(off) || off < 0)
            return yield* badRequest(
              "Sink connector offsets must have an offset with the key 'kafka_offset' (a non-negative integer)"
            )
          set.push({ ...tp, offset: off })
        }
      }
      if (c.plugin._tag === "sink" && c.plugin.alterOffsets)
        yield* Effect.mapError(
          c.plugin.alterOffsets(c.config, [
            ...set.map((s) => ({ partition: { topic: s.topic, partition: s.partition }, offset: s.offset })),
            ...reset.map((r) => ({ partition: r, offset: null }))
          ]),
          (err) => badRequest(err.message)
        )
      const group = `connect-${c.name}`
      yield* withAdmin(
        (admin) =>
          Effect.zipRight(
            set.length > 0 ? admin.alterGroupOffsets(group, set) : Effect.void,
            reset.length > 0 ? admin.deleteGroupOffsets(group, reset) : Effect.void
          ),
        c.config
      )
    })

  const alterSource = (c: OffsetOwner, list: ReadonlyArray<OffsetEntry>) =>
    Effect.gen(function* () {
      for (const o of list)
        if (
          typeof o.partition !== "object" ||
          o.partition === null ||
          (o.offset !== null && typeof o.offset !== "object")
        )
          return yield* badRequest(
            "Source connector offsets must be objects for the partition and the offset (or null)"
          )
      if (c.plugin._tag === "source" && c.plugin.alterOffsets)
        yield* Effect.mapError(c.plugin.alterOffsets(c.config, list), (err) => badRequest(err.message))
      yield* Effect.mapError(offsets.set(c.name, list), (err) => new WorkerError({ status: 500, message: err.message }))
    })

  return { sinkOffsets, alterSink, alterSource }
}
