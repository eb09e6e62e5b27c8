/**
 * Test helper: a real single-member etcd (Debian's `etcd-server`) on free loopback client and peer
 * ports over a temporary data dir, SIGKILLed and removed with the scope.
 */
import * as child from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { Context, Effect, Layer, Schedule, type Scope } from "effect"

/** Whether the `etcd` binary is installed (`apt-get install -y etcd-server`). */
export const hasEtcd = child.spawnSync("etcd", ["--version"], { stdio: "ignore" }).status === 0

const freePort = Effect.async<number, Error>((resume) => {
  const server = net.createServer()
  server.once("error", (e) => resume(Effect.fail(e)))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

const healthy = (url: string) =>
  Effect.tryPromise(() => fetch(`${url}/health`).then((r) => r.json() as Promise<{ health?: string }>)).pipe(
    Effect.filterOrFail(
      (h) => h.health === "true",
      () => new Error("etcd is not healthy yet")
    )
  )

/** A running etcd: its client URL. */
export class EtcdServer extends Context.Tag("test/EtcdServer")<EtcdServer, { readonly url: string }>() {}

/** Starts etcd and waits (at most 15 s) until it answers `/health`. */
export const startEtcd: Effect.Effect<{ readonly url: string }, Error, Scope.Scope> = Effect.gen(function* () {
  const dir = yield* Effect.acquireRelease(
    Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "eddy-etcd-"))),
    (d) => Effect.sync(() => fs.rmSync(d, { recursive: true, force: true }))
  )
  const clientPort = yield* freePort
  const peerPort = yield* freePort
  const url = `http://127.0.0.1:${clientPort}`
  const peer = `http://127.0.0.1:${peerPort}`
  const args = [
    ["--name", "eddy-test"],
    ["--data-dir", path.join(dir, "data")],
    ["--listen-client-urls", url],
    ["--advertise-client-urls", url],
    ["--listen-peer-urls", peer],
    ["--initial-advertise-peer-urls", peer],
    ["--initial-cluster", `eddy-test=${peer}`],
    ["--log-level", "error"]
  ].flat()
  yield* Effect.acquireRelease(
    Effect.sync(() => child.spawn("etcd", args, { stdio: "ignore" })),
    (proc) => Effect.sync(() => proc.kill("SIGKILL"))
  )
  yield* healthy(url).pipe(
    Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.upTo("15 seconds"))),
    Effect.mapError((e) => new Error(`etcd did not start on ${url}: ${e.message}`))
  )
  return { url }
})

/** `startEtcd` as a layer, shared by the tests of one file. */
export const EtcdServerLive = Layer.scoped(EtcdServer, startEtcd)
