/**
 * The standalone worker (`connect-standalone worker.properties conn.properties|conn.json ...`): one
 * process, source offsets in `offset.storage.file.filename` (target states beside it, `<file>.targets`), connectors from the files given (and the REST
 * API on `listeners`, default `http://:8083`). Runs until interrupted; closing it stops every task, which
 * flushes their offsets.
 */
import * as Admin from "@eddy/core/client/Admin"
import type * as ClientConfig from "@eddy/core/client/ClientConfig"
import { FileSystem, HttpServer } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { Context, Effect, Layer, Option, Schema } from "effect"
import * as Plugins from "../plugin/Plugins.js"
import * as ConnectServer from "../rest/ConnectServer.js"
import { clientProps } from "./ClientProps.js"
import * as ExactlyOnce from "./ExactlyOnce.js"
import * as LoggerLevels from "./LoggerLevels.js"
import * as OffsetStore from "./OffsetStore.js"
import * as Properties from "./Properties.js"
import * as TargetStateStore from "./TargetStateStore.js"
import { Worker, layer as workerLayer } from "./Worker.js"

/** A standalone worker that cannot start. */
export class StandaloneError extends Schema.TaggedError<StandaloneError>()("StandaloneError", {
  message: Schema.String
}) {}

/** A connector to create at startup. */
export interface ConnectorFile {
  readonly name: string
  readonly config: Record<string, string>
}

/** Reads a worker properties file and connector files (`.json` as JSON, anything else as properties). */
export const readFiles = (workerFile: string, connectorFiles: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const read = (file: string) =>
      Effect.mapError(
        fs.readFileString(file),
        (e) => new StandaloneError({ message: `Cannot read ${file}: ${e.message}` })
      )
    const worker = Properties.parse(yield* read(workerFile))
    const connectors: Array<ConnectorFile> = []
    for (const file of connectorFiles) {
      const text = yield* read(file)
      const parsed = yield* Effect.try({
        try: () => Properties.parseConnectorFile(text, file.endsWith(".json")),
        catch: (e) => new StandaloneError({ message: `${file}: ${e instanceof Error ? e.message : String(e)}` })
      })
      connectors.push(parsed)
    }
    return { worker, connectors }
  })

/** The Kafka cluster id for `GET /` (null when the cluster does not answer within 5 seconds). */
export const clusterIdOf = (workerProps: Record<string, string>) =>
  Effect.scoped(
    Effect.flatMap(Admin.make(clientProps("admin", workerProps, {}) as ClientConfig.ClientConfig), (a) =>
      a.describeCluster()
    )
  ).pipe(
    Effect.map((d) => d.clusterId),
    Effect.timeout("5 seconds"),
    Effect.orElseSucceed(() => null)
  )

/** The layer of a standalone worker with its REST server; it gives the Worker and the bound HttpServer. */
export const layer = (workerProps: Record<string, string>) => {
  const offsetsFile = workerProps["offset.storage.file.filename"]
  const { host, port } = ConnectServer.parseListener(workerProps.listeners)
  const advertisedHost = workerProps["rest.advertised.host.name"] ?? (host === "0.0.0.0" ? "localhost" : host)
  const advertisedPort = workerProps["rest.advertised.port"] ?? String(port)
  const levels = LoggerLevels.make()
  const workerId = `${advertisedHost}:${advertisedPort}`
  const worker = Layer.unwrapEffect(
    Effect.map(
      offsetsFile
        ? Effect.map(TargetStateStore.make(`${offsetsFile}.targets`), Option.some)
        : Effect.succeed(Option.none()),
      (targets) =>
        workerLayer(
          workerProps,
          Option.match(targets, {
            onNone: () => ({ workerId }),
            onSome: (t) => ({ workerId, loadTarget: t.load, persistTarget: t.persist, removeTarget: t.remove })
          })
        )
    )
  ).pipe(
    Layer.provide(
      Layer.mergeAll(
        Plugins.layer(),
        offsetsFile ? OffsetStore.layerFile(offsetsFile) : OffsetStore.layerMemory,
        NodeContext.layer
      )
    ),
    Layer.provide(NodeContext.layer)
  )
  const server = ConnectServer.layer(workerProps.listeners, { levels, clusterId: clusterIdOf(workerProps) })
  return Layer.provideMerge(server, worker).pipe(Layer.provide(levels.logger))
}

/** Runs a standalone worker over the given files until interrupted. */
export const run = (workerFile: string, connectorFiles: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const { worker: workerProps, connectors } = yield* readFiles(workerFile, connectorFiles)
    if (!workerProps["offset.storage.file.filename"])
      return yield* new StandaloneError({
        message: 'Missing required configuration "offset.storage.file.filename" which has no default value.'
      })
    const eos = workerProps["exactly.once.source.support"]
    if (eos !== undefined && eos.trim().toLowerCase() !== "disabled")
      return yield* new StandaloneError({ message: ExactlyOnce.standaloneMessage(eos) })
    yield* Effect.scoped(
      Effect.gen(function* () {
        const ctx = yield* Layer.build(layer(workerProps))
        const worker = Context.get(ctx, Worker)
        const server = Context.get(ctx, HttpServer.HttpServer)
        yield* Effect.logInfo(
          `Eddy Connect standalone worker ${worker.workerId} listening on ${HttpServer.formatAddress(server.address)}`
        )
        for (const c of connectors)
          yield* worker
            .create(c.name, c.config)
            .pipe(
              Effect.mapError(
                (e) => new StandaloneError({ message: `Failed to create connector ${c.name}: ${e.message}` })
              )
            )
        return yield* Effect.never
      })
    )
  })
