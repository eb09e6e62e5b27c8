/**
 * Test helpers: a real broker on an ephemeral port over a temporary data dir, and a raw Kafka client
 * that sends framed requests and reads framed responses.
 */
import * as child from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Context, Effect, Layer, Logger, LogLevel, type Scope } from "effect"
import * as Broker from "../../src/broker/Broker.js"
import * as BrokerConfig from "../../src/broker/BrokerConfig.js"
import type { AnyHandler } from "../../src/broker/Handler.js"
import * as KafkaApis from "../../src/broker/KafkaApis.js"
import * as PartitionManager from "../../src/broker/PartitionManager.js"
import * as Server from "../../src/broker/Server.js"
import * as TopicRegistry from "../../src/broker/TopicRegistry.js"
import { decodeResponseFrame, encodeRequestFrame, FrameDecoder } from "../../src/protocol/Frame.js"
import type { ApiKey, RequestTypes, ResponseTypes } from "../../src/protocol/generated/ApiKey.js"

/** A fresh temporary directory, removed when the scope closes. */
export const tempDir: Effect.Effect<string, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "eddy-broker-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

/** The broker child process of the restart tests (plain JavaScript importing `@eddy/core` by name). */
export const brokerProcessFixture = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "fixtures",
  "brokerProcess.js"
)

const coreDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..")

/** The newest modification time of a file under `dir`, in ms. */
const newestUnder = (dir: string): number =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .reduce(
      (newest, e) =>
        Math.max(
          newest,
          e.isDirectory() ? newestUnder(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).mtimeMs
        ),
      0
    )

/** Whether core's `dist/` was built after its sources last changed (`npm test` builds first). */
const distIsFresh = (() => {
  try {
    return fs.statSync(path.join(coreDir, "dist", ".tsbuildinfo")).mtimeMs >= newestUnder(path.join(coreDir, "src"))
  } catch {
    return false
  }
})()

/**
 * Node's options for a child process that imports `@eddy/core` by name: none when the built `dist/` is up to
 * date (a start without tsx is seconds faster), else the sources under tsx.
 */
export const childNodeArgs: ReadonlyArray<string> = distIsFresh ? [] : ["--conditions=@eddy/source", "--import", "tsx"]

/**
 * Starts a broker in a child process (`fixtures/brokerProcess.js`) over `dir` with the given broker
 * settings; it is SIGKILLed with the scope if still running. `openFilesLimit` runs it under `ulimit -n`.
 */
export const spawnBrokerProcess = (
  dir: string,
  props: Record<string, string> = {},
  options: { readonly openFilesLimit?: number } = {}
) =>
  Effect.acquireRelease(
    Effect.async<{ readonly proc: child.ChildProcess; readonly port: number }, Error>((resume) => {
      const args = [...childNodeArgs, brokerProcessFixture, dir, JSON.stringify(props)]
      const proc =
        options.openFilesLimit === undefined
          ? child.spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] })
          : child.spawn(
              "/bin/sh",
              ["-c", `ulimit -n ${options.openFilesLimit} && exec "$0" "$@"`, process.execPath, ...args],
              { stdio: ["ignore", "pipe", "inherit"] }
            )
      let out = ""
      proc.stdout!.on("data", (chunk: Buffer) => {
        out += chunk.toString()
        const m = /LISTENING (\d+)/.exec(out)
        if (m) resume(Effect.succeed({ proc, port: Number(m[1]) }))
      })
      proc.on("exit", (code) => resume(Effect.fail(new Error(`broker process exited early (${code})`))))
    }),
    ({ proc }) => Effect.sync(() => proc.exitCode === null && proc.kill("SIGKILL"))
  )

/** Waits for a child process to exit; its exit code (null when killed by a signal). */
export const processExited = (proc: child.ChildProcess): Effect.Effect<number | null> =>
  Effect.async<number | null>((resume) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resume(Effect.succeed(proc.exitCode))
    proc.once("exit", (code) => resume(Effect.succeed(code)))
  })

/** Broker settings for tests: 127.0.0.1, port 0, the given data dir. */
export const testConfig = (dir: string, extra: Record<string, string> = {}) =>
  BrokerConfig.make({ listeners: "PLAINTEXT://127.0.0.1:0", "log.dirs": dir, ...extra })

/** Log level of brokers started by tests: `EDDY_TEST_LOG=debug` shows every request. */
const testLogLevel = process.env.EDDY_TEST_LOG === "debug" ? LogLevel.Debug : LogLevel.Warning

/** Starts a broker in the scope over `dir` (a new temp dir when omitted). */
export const startBroker = (
  options: {
    readonly dir?: string
    readonly extra?: Record<string, string>
    readonly handlers?: ReadonlyArray<AnyHandler<KafkaApis.Requirements>>
    readonly withoutApis?: ReadonlyArray<number>
    readonly metadataStore?: Broker.BrokerOptions["metadataStore"]
  } = {}
) =>
  Effect.gen(function* () {
    const dir = options.dir ?? (yield* tempDir)
    const config = yield* testConfig(dir, options.extra)
    const context = yield* Layer.build(
      Broker.layer(config, {
        drainTimeoutMs: 2000,
        ...(options.handlers ? { handlers: options.handlers } : {}),
        ...(options.withoutApis ? { withoutApis: options.withoutApis } : {}),
        ...(options.metadataStore ? { metadataStore: options.metadataStore } : {})
      })
    ).pipe(Logger.withMinimumLogLevel(testLogLevel))
    return { broker: Context.get(context, Broker.Broker), dir, context }
  })

/** A raw client connection. */
export interface RawClient {
  readonly socket: net.Socket
  /** Sends one request and awaits its response (responses are matched in order). */
  readonly send: <K extends ApiKey>(
    apiKey: K,
    version: number,
    body: RequestTypes[K],
    clientId?: string | null
  ) => Effect.Effect<ResponseTypes[K]>
  /** Writes raw bytes. */
  readonly write: (bytes: Uint8Array) => Effect.Effect<void>
  /** The next raw frame received (without its size). */
  readonly nextFrame: Effect.Effect<Uint8Array>
  /** Resolves when the broker closes the connection. */
  readonly closed: Effect.Effect<void>
  readonly nextCorrelationId: () => number
}

/** Connects to `port` on 127.0.0.1; closed with the scope. */
export const connect = (port: number): Effect.Effect<RawClient, never, Scope.Scope> =>
  Effect.gen(function* () {
    const socket = yield* Effect.acquireRelease(
      Effect.async<net.Socket>((resume) => {
        const s = net.connect({ host: "127.0.0.1", port }, () => resume(Effect.succeed(s)))
      }),
      (s) => Effect.sync(() => s.destroy())
    )
    const decoder = new FrameDecoder({ maxFrameSize: 1 << 30 })
    const frames: Array<Uint8Array> = []
    const waiters: Array<(f: Uint8Array) => void> = []
    let isClosed = false
    const closeWaiters: Array<() => void> = []
    socket.on("data", (chunk) => {
      for (const f of decoder.push(chunk)) {
        const w = waiters.shift()
        if (w) w(f)
        else frames.push(f)
      }
    })
    socket.on("close", () => {
      isClosed = true
      for (const w of closeWaiters.splice(0)) w()
    })
    socket.on("error", () => {})
    let correlation = 0
    const nextFrame = Effect.async<Uint8Array>((resume) => {
      const f = frames.shift()
      if (f) resume(Effect.succeed(f))
      else waiters.push((x) => resume(Effect.succeed(x)))
    })
    const write = (bytes: Uint8Array) =>
      Effect.async<void>((resume) => {
        socket.write(bytes, () => resume(Effect.void))
      })
    return {
      socket,
      write,
      nextFrame,
      nextCorrelationId: () => ++correlation,
      closed: Effect.async<void>((resume) => {
        if (isClosed) resume(Effect.void)
        else closeWaiters.push(() => resume(Effect.void))
      }),
      send: <K extends ApiKey>(apiKey: K, version: number, body: RequestTypes[K], clientId: string | null = "test") =>
        Effect.gen(function* () {
          const id = ++correlation
          yield* write(encodeRequestFrame(apiKey, version, id, clientId, body))
          const frame = yield* nextFrame
          const decoded = decodeResponseFrame(apiKey, version, frame)
          if (decoded.correlationId !== id) throw new Error(`correlation ${decoded.correlationId} !== ${id}`)
          return decoded.body
        })
    }
  })

/**
 * A bare server (memory partitions, a temp data dir) serving exactly `handlers`: connection tests
 * do not depend on which apis the broker registers.
 */
export const startServer = (
  handlers: ReadonlyArray<AnyHandler<TopicRegistry.TopicRegistry | PartitionManager.PartitionManager>>,
  extra: Record<string, string> = {}
) =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    const config = yield* testConfig(dir, extra)
    const context = yield* Layer.build(Layer.provideMerge(TopicRegistry.layer(config), PartitionManager.layerMemory))
    const registry = Context.get(context, TopicRegistry.TopicRegistry)
    return yield* Server.make({
      config,
      clusterId: registry.clusterId,
      nodeId: registry.nodeId,
      registry: KafkaApis.make(handlers),
      drainTimeoutMs: 5000
    }).pipe(Effect.provide(context), Logger.withMinimumLogLevel(testLogLevel))
  })
