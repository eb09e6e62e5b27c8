/**
 * The broker's HTTP endpoint for operators: `GET /metrics` (Prometheus text format) and `GET /health`
 * (a small JSON body, 200 while the broker serves). Scrape-time gauges are set from the services'
 * published state at each scrape: partitions and log sizes from the replicas, groups, members and
 * committed offsets from the group coordinator (lag against the high watermark), transactions from the
 * transaction coordinator.
 */
import * as Http from "node:http"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Effect, type Scope } from "effect"
import { GroupCoordinator } from "./GroupCoordinator.js"
import type { GroupState } from "./internal/groupActor.js"
import * as Prometheus from "./internal/prometheus.js"
import * as Metrics from "./Metrics.js"
import { ReplicaManager } from "./ReplicaManager.js"
import { ServerError } from "./Server.js"
import { TopicRegistry } from "./TopicRegistry.js"
import { TransactionCoordinator } from "./TransactionCoordinator.js"
import { statusName, TxnStatus } from "./TransactionStateManager.js"

/** Settings of {@link make}. */
export interface MetricsServerOptions {
  readonly host: string
  /** 0 picks a free port. */
  readonly port: number
  readonly nodeId: number
  readonly clusterId: string
  /** Client connections open now. */
  readonly connectionCount: Effect.Effect<number>
}

/** The services whose state the scrape-time gauges show. */
export type Requirements = TopicRegistry | ReplicaManager | GroupCoordinator | TransactionCoordinator

/** Content type of Prometheus's text exposition format. */
export const contentType = "text/plain; version=0.0.4; charset=utf-8"

const groupStates: ReadonlyArray<GroupState> = ["Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"]

/** Sets every scrape-time gauge from the broker's current state. */
export const refresh = (
  gauges: Prometheus.GaugeSetter,
  connectionCount: Effect.Effect<number>
): Effect.Effect<void, never, Requirements> =>
  Effect.gen(function* () {
    const registry = yield* TopicRegistry
    const replicas = yield* ReplicaManager
    const groups = yield* GroupCoordinator
    const txns = yield* TransactionCoordinator
    gauges.set(Metrics.connectionCount, yield* connectionCount)

    let partitions = 0
    let producerIds = 0
    const highWatermarks = new Map<string, number>()
    for (const topic of yield* registry.list) {
      for (const replica of replicas.replicas(topic.name)) {
        const { partition } = replica.topicPartition
        const labels = { topic: topic.name, partition: String(partition) }
        partitions++
        producerIds += replica.producerIdCount()
        highWatermarks.set(`${topic.name}\u0000${partition}`, replica.highWatermark())
        gauges.set(Metrics.logSize, replica.log.size, labels)
        gauges.set(Metrics.logEndOffset, replica.log.logEndOffset, labels)
        gauges.set(Metrics.logStartOffset, replica.log.logStartOffset, labels)
      }
    }
    gauges.set(Metrics.partitionCount, partitions)
    gauges.set(Metrics.producerIdCount, producerIds)

    const byState = new Map<string, number>(groupStates.map((s) => [s, 0]))
    for (const group of yield* groups.listGroups) {
      byState.set(group.state, (byState.get(group.state) ?? 0) + 1)
      gauges.set(Metrics.groupMembers, group.members, { consumergroup: group.groupId })
      // a group deleted since the listing has no offsets left to show
      const offsets = yield* Effect.orElseSucceed(groups.fetchOffsets(group.groupId, null), () => [])
      for (const o of offsets) {
        if (o.offset < 0) continue
        const labels = { consumergroup: group.groupId, topic: o.topic, partition: String(o.partition) }
        gauges.set(Metrics.groupOffset, o.offset, labels)
        const hw = highWatermarks.get(`${o.topic}\u0000${o.partition}`)
        if (hw !== undefined) gauges.set(Metrics.groupLag, Math.max(0, hw - o.offset), labels)
      }
    }
    for (const [state, n] of byState) gauges.set(Metrics.numGroups, n, { state })

    const byStatus = new Map<string, number>(Object.keys(TxnStatus).map((s) => [s, 0]))
    for (const t of yield* txns.list) {
      const name = statusName(t.status)
      byStatus.set(name, (byStatus.get(name) ?? 0) + 1)
    }
    for (const [state, n] of byStatus) gauges.set(Metrics.transactions, n, { state })
  })

/** Serves `/metrics` and `/health` until the scope closes; returns the bound address. */
export const make = (
  options: MetricsServerOptions
): Effect.Effect<{ readonly host: string; readonly port: number }, ServerError, Scope.Scope | Requirements> =>
  Effect.gen(function* () {
    const exporter = yield* Prometheus.make("eddy-broker")
    const server = yield* NodeHttpServer.make(() => Http.createServer(), {
      host: options.host,
      port: options.port
    }).pipe(
      Effect.mapError(
        (e) =>
          new ServerError({
            message: `Cannot serve metrics on ${options.host}:${options.port}: ${String((e as { cause?: unknown }).cause ?? e)}`
          })
      )
    )
    const health = { status: "ok", nodeId: options.nodeId, clusterId: options.clusterId }
    const app = HttpRouter.empty.pipe(
      HttpRouter.get(
        "/metrics",
        Effect.map(
          exporter.scrape((gauges) => refresh(gauges, options.connectionCount)),
          (body) => HttpServerResponse.text(body, { contentType })
        )
      ),
      HttpRouter.get("/health", Effect.succeed(HttpServerResponse.unsafeJson(health)))
    )
    yield* server.serve(app)
    const address = server.address
    const port = address._tag === "TcpAddress" ? address.port : options.port
    yield* Effect.logInfo(`Metrics on http://${options.host}:${port}/metrics`)
    return { host: options.host, port }
  })
