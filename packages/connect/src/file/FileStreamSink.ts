/**
 * FileStreamSink, Kafka's reference sink connector: appends each record's value and a newline to `file`
 * (created if missing), or to stdout when `file` is absent. Writes happen in `put`, one write per batch;
 * `flush` syncs the file.
 */
import { FileSystem } from "@effect/platform"
import { Effect, Exit, Scope } from "effect"
import { stringOf } from "../converters/StringConverter.js"
import * as ConfigDef from "../plugin/ConfigDef.js"
import { ConnectError } from "../plugin/ConnectError.js"
import * as Plugin from "../plugin/Connector.js"

/** The connector's config definition (Kafka's names and defaults). */
export const config = ConfigDef.make({
  file: ConfigDef.string({
    default: null,
    importance: "HIGH",
    documentation: "Destination filename. If not specified, the standard output will be used"
  })
})

const STDOUT = "/dev/stdout"

const parseConfig = (props: Plugin.Props) => ConfigDef.parseProps(config, props)

const makeConnector = Effect.sync((): Plugin.Connector => {
  let props: Plugin.Props = {}
  return {
    start: (p) =>
      Effect.map(parseConfig(p), () => {
        props = p
      }),
    taskConfigs: (maxTasks) => Effect.succeed(Array.from({ length: maxTasks }, () => props)),
    stop: Effect.void
  }
})

const makeTask = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const encoder = new TextEncoder()
  let file: FileSystem.File | null = null
  let scope: Scope.CloseableScope | null = null
  let filename: string | null = null
  const failed = (e: unknown) => new ConnectError({ message: `Couldn't write to ${filename ?? "stdout"}`, cause: e })

  const task: Plugin.SinkTask = {
    start: (props) =>
      Effect.gen(function* () {
        filename = (yield* parseConfig(props)).file
        scope = yield* Scope.make()
        file = yield* fs
          .open(filename ?? STDOUT, { flag: filename === null ? "w" : "a" })
          .pipe(Scope.extend(scope), Effect.mapError(failed))
      }),
    put: (records) => {
      if (records.length === 0) return Effect.void
      let text = ""
      for (const r of records) text += `${r.value === null || r.value === undefined ? "null" : stringOf(r.value)}\n`
      return Effect.mapError(file!.writeAll(encoder.encode(text)), failed)
    },
    flush: () => (file === null || filename === null ? Effect.void : Effect.mapError(file.sync, failed)),
    stop: Effect.suspend(() => {
      const s = scope
      file = null
      scope = null
      return s ? Scope.close(s, Exit.void) : Effect.void
    })
  }
  return task
})

/** The FileStreamSink plugin. */
export const plugin: Plugin.SinkPlugin = Plugin.sink({
  className: "org.apache.kafka.connect.file.FileStreamSinkConnector",
  version: "0.1.0",
  config,
  connector: makeConnector,
  task: makeTask
})
