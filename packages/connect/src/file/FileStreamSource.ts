/**
 * FileStreamSource, Kafka's reference source connector: one task reads a file (or stdin when `file` is
 * absent) line by line and emits each line as a STRING value to `topic`, at most `batch.size` lines per
 * poll. It tails the file: when no new complete line is there it waits a second and answers with nothing.
 * Offsets: partition `{filename}`, offset `{position}` = the byte position after the line; a restarted
 * task continues from the committed position. stdin has no offsets.
 */
import { FileSystem } from "@effect/platform"
import { Duration, Effect, Exit, Scope } from "effect"
import { type SourceRecord, sourceRecord } from "../data/ConnectRecord.js"
import * as CS from "../data/ConnectSchema.js"
import * as ConfigDef from "../plugin/ConfigDef.js"
import { ConnectError } from "../plugin/ConnectError.js"
import * as Plugin from "../plugin/Connector.js"

/** The connector's config definition (Kafka's names and defaults). */
export const config = ConfigDef.make({
  file: ConfigDef.string({
    default: null,
    importance: "HIGH",
    documentation: "Source filename. If not specified, the standard input will be used"
  }),
  topic: ConfigDef.list({ importance: "HIGH", documentation: "The topic to publish data to" }),
  "batch.size": ConfigDef.int({
    default: 2000,
    min: 1,
    importance: "LOW",
    documentation: "The maximum number of records the source task can read from the file each time it is polled"
  })
})

/** The source partition map key. */
export const FILENAME_FIELD = "filename"
/** The source offset map key. */
export const POSITION_FIELD = "position"

const STDIN = "/dev/stdin"
const CHUNK = 256 * 1024
const IDLE_WAIT = Duration.seconds(1)

const parseConfig = (props: Plugin.Props) =>
  ConfigDef.parseProps(config, props).pipe(
    Effect.filterOrFail(
      (c) => c.topic.length === 1,
      () =>
        new ConnectError({
          message: "'topic' in FileStreamSourceConnector configuration requires definition of a single topic"
        })
    )
  )

const makeConnector = Effect.sync((): Plugin.Connector => {
  let props: Plugin.Props = {}
  return {
    start: (p) =>
      Effect.map(parseConfig(p), () => {
        props = p
      }),
    taskConfigs: () => Effect.succeed([props]),
    stop: Effect.void
  }
})

const newline = 0x0a
const decoder = new TextDecoder()

/** Newlines in `bytes` from `from`, counting up to `max`. */
const countNewlines = (bytes: Uint8Array, from: number, max: number) => {
  let n = 0
  for (let i = bytes.indexOf(newline, from); i >= 0 && n < max; i = bytes.indexOf(newline, i + 1)) n++
  return n
}

/** The lines of `bytes` ending in a newline, with the byte position after each (offset by `base`). */
const splitLines = (bytes: Uint8Array, base: number, max: number) => {
  const lines: Array<{ text: string; end: number }> = []
  let start = 0
  while (lines.length < max) {
    const nl = bytes.indexOf(newline, start)
    if (nl < 0) break
    const stop = nl > start && bytes[nl - 1] === 0x0d ? nl - 1 : nl
    lines.push({ text: decoder.decode(bytes.subarray(start, stop)), end: base + nl + 1 })
    start = nl + 1
  }
  return { lines, consumed: start }
}

const makeTask = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  let filename: string | null = null
  let topic = ""
  let batchSize = 2000
  let position = 0
  let pending = new Uint8Array(0)
  let file: FileSystem.File | null = null
  let scope: Scope.CloseableScope | null = null

  const open = Effect.gen(function* () {
    scope = yield* Scope.make()
    file = yield* fs.open(filename ?? STDIN, { flag: "r" }).pipe(Scope.extend(scope))
    if (filename !== null) yield* file.seek(FileSystem.Size(position), "start")
  })

  const readMore = Effect.gen(function* () {
    const buf = new Uint8Array(CHUNK)
    const n = Number(yield* file!.read(buf))
    if (n === 0) return false
    const merged = new Uint8Array(pending.length + n)
    merged.set(pending)
    merged.set(buf.subarray(0, n), pending.length)
    pending = merged
    return true
  })

  const task: Plugin.SourceTask = {
    start: (props, context) =>
      Effect.gen(function* () {
        const c = yield* parseConfig(props)
        filename = c.file
        topic = c.topic[0]!
        batchSize = c["batch.size"]
        if (filename !== null) {
          const stored = yield* context.offsetStorageReader.offset({ [FILENAME_FIELD]: filename })
          const pos = stored?.[POSITION_FIELD]
          if (typeof pos === "number") position = pos
        }
      }),
    poll: Effect.gen(function* () {
      if (file === null) {
        const opened = yield* Effect.either(open)
        if (opened._tag === "Left") {
          yield* Effect.logWarning(
            `Couldn't find file ${filename ?? "stdin"} for FileStreamSourceTask, sleeping to wait for it to be created`
          )
          yield* Effect.sleep(IDLE_WAIT)
          return null
        }
      }
      // read until the buffer holds a batch of complete lines (or the file has no more), then split once
      let newlines = countNewlines(pending, 0, batchSize)
      while (newlines < batchSize) {
        const before = pending.length
        if (!(yield* readMore)) break
        newlines += countNewlines(pending, before, batchSize - newlines)
      }
      const { lines, consumed } = splitLines(pending, position, batchSize)
      if (lines.length === 0) {
        yield* Effect.sleep(IDLE_WAIT)
        return null
      }
      pending = pending.slice(consumed)
      position = lines[lines.length - 1]!.end
      const partition = filename === null ? null : { [FILENAME_FIELD]: filename }
      return lines.map(
        (l): SourceRecord =>
          sourceRecord({
            topic,
            sourcePartition: partition,
            sourceOffset: filename === null ? null : { [POSITION_FIELD]: l.end },
            valueSchema: CS.STRING,
            value: l.text
          })
      )
    }).pipe(
      Effect.mapError((e) =>
        e instanceof ConnectError
          ? e
          : new ConnectError({ message: `Error while reading from ${filename ?? "stdin"}`, cause: e })
      )
    ),
    stop: Effect.suspend(() => {
      const s = scope
      file = null
      scope = null
      return s ? Scope.close(s, Exit.void) : Effect.void
    })
  }
  return task
})

/** The FileStreamSource plugin. */
export const plugin: Plugin.SourcePlugin = Plugin.source({
  className: "org.apache.kafka.connect.file.FileStreamSourceConnector",
  version: "0.1.0",
  config,
  connector: makeConnector,
  task: makeTask,
  exactlyOnceSupport: (props) => (props.file ? "SUPPORTED" : "UNSUPPORTED"),
  alterOffsets: (_props, offsets) =>
    Effect.forEach(offsets, ({ partition, offset }) =>
      typeof partition[FILENAME_FIELD] !== "string"
        ? Effect.fail(
            new ConnectError({ message: `Partitions must contain the key '${FILENAME_FIELD}' with a string value` })
          )
        : offset !== null && typeof offset[POSITION_FIELD] !== "number"
          ? Effect.fail(
              new ConnectError({ message: `Offsets must contain the key '${POSITION_FIELD}' with a number value` })
            )
          : Effect.void
    ).pipe(Effect.asVoid)
})
