/**
 * File source -> topic -> file sink through Connect against a hand-written loop doing the same work with
 * Eddy's client (read the file, produce in batches, consume in a group, append to a file), on one
 * in-process broker. Prints both times and the throughput ratio (Connect / loop).
 * Run: `node --import tsx packages/connect/bench/connect.bench.ts [lines]`.
 */

import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as Broker from "@eddy/core/broker/Broker"
import * as BrokerConfig from "@eddy/core/broker/BrokerConfig"
import * as Consumer from "@eddy/core/client/Consumer"
import * as Producer from "@eddy/core/client/Producer"
import { NodeContext } from "@effect/platform-node"
import { Context, Effect, Layer, Logger, LogLevel, Stream } from "effect"
import * as Plugins from "../src/plugin/Plugins.js"
import * as OffsetStore from "../src/runtime/OffsetStore.js"
import * as Worker from "../src/runtime/Worker.js"

const countLines = (file: string) => {
  if (!fs.existsSync(file)) return 0
  const b = fs.readFileSync(file)
  let n = 0
  for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) n++
  return n
}

const waitForLines = (file: string, n: number) =>
  Effect.promise(async () => {
    while (countLines(file) < n) {
      if (process.env.BENCH_DEBUG) console.error(file, countLines(file))
      await new Promise((r) => setTimeout(r, 200))
    }
  })

const handWritten = (bootstrap: string, input: string, output: string, lines: number) =>
  Effect.gen(function* () {
    const producer = yield* Producer.make({ "bootstrap.servers": bootstrap, "linger.ms": 1 })
    const consumer = yield* Consumer.make({
      "bootstrap.servers": bootstrap,
      "group.id": "loop",
      "auto.offset.reset": "earliest",
      "fetch.max.wait.ms": 50
    })
    const started = performance.now()
    const fd = fs.openSync(output, "a")
    yield* Effect.forkScoped(
      consumer.batches(["loop-topic"]).pipe(
        Stream.runForEach((batch) =>
          Effect.sync(() => {
            let text = ""
            for (const r of batch.records) text += `${Buffer.from(r.value!).toString("utf8")}\n`
            fs.writeSync(fd, text)
          })
        )
      )
    )
    const all = fs.readFileSync(input, "utf8").split("\n")
    all.pop()
    for (let i = 0; i < all.length; i += 2000)
      yield* producer.sendBatch(
        "loop-topic",
        all.slice(i, i + 2000).map((l) => ({ value: Buffer.from(l) }))
      )
    yield* waitForLines(output, lines)
    fs.closeSync(fd)
    return performance.now() - started
  }).pipe(Effect.scoped)

const connect = (bootstrap: string, input: string, output: string, lines: number, dir: string) =>
  Effect.gen(function* () {
    const worker = yield* Worker.make(
      {
        "bootstrap.servers": bootstrap,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "consumer.fetch.max.wait.ms": "50",
        "producer.linger.ms": "1"
      },
      { workerId: "bench" }
    ).pipe(
      Effect.provide(
        Layer.mergeAll(
          Plugins.layer(),
          OffsetStore.layerFile(path.join(dir, "offsets.json")).pipe(Layer.provide(NodeContext.layer)),
          NodeContext.layer
        )
      )
    )
    const started = performance.now()
    yield* worker.create("bench-sink", { "connector.class": "FileStreamSink", file: output, topics: "connect-topic" })
    yield* worker.create("bench-source", { "connector.class": "FileStreamSource", file: input, topic: "connect-topic" })
    yield* waitForLines(output, lines)
    return performance.now() - started
  }).pipe(Effect.scoped)

/** Runs the comparison. */
export const run = (lines = Number(process.argv[2] ?? 200_000)) =>
  Effect.gen(function* () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "eddy-connect-bench-"))
    const config = yield* BrokerConfig.make({
      listeners: "PLAINTEXT://127.0.0.1:0",
      "log.dirs": path.join(dir, "data"),
      "group.initial.rebalance.delay.ms": "0"
    })
    const ctx = yield* Layer.build(Broker.layer(config, { drainTimeoutMs: 2000 }))
    const bootstrap = `127.0.0.1:${Context.get(ctx, Broker.Broker).address.port}`
    const input = path.join(dir, "input.txt")
    const line = "x".repeat(90)
    fs.writeFileSync(input, Array.from({ length: lines }, (_, i) => `${String(i).padStart(9, "0")} ${line}\n`).join(""))
    const loop = yield* handWritten(bootstrap, input, path.join(dir, "loop-out.txt"), lines)
    const viaConnect = yield* connect(bootstrap, input, path.join(dir, "connect-out.txt"), lines, dir)
    const same = fs.readFileSync(input, "utf8") === fs.readFileSync(path.join(dir, "connect-out.txt"), "utf8")
    console.log(`| lines | hand-written loop | Connect (FileStreamSource -> topic -> FileStreamSink) | ratio |`)
    console.log(`| --- | --- | --- | --- |`)
    console.log(
      `| ${lines} x 100 B | ${loop.toFixed(0)} ms (${((lines / loop) * 1000).toFixed(0)} lines/s) | ${viaConnect.toFixed(0)} ms (${((lines / viaConnect) * 1000).toFixed(0)} lines/s) | ${(loop / viaConnect).toFixed(2)}x |`
    )
    console.log(`output identical to input: ${same}`)
    return dir
  }).pipe(
    Effect.scoped,
    Effect.map((dir) => fs.rmSync(dir, { recursive: true, force: true })),
    Logger.withMinimumLogLevel(LogLevel.Warning),
    Effect.runPromise
  )

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await run()
