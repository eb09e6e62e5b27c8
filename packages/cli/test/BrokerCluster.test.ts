/**
 * Three `eddy broker` processes (`--node-id`, `--etcd`) and a real etcd on loopback form one cluster: a topic with
 * replication factor 3 created through one broker is listed by `eddy cluster partitions` through another, with one
 * leader per partition spread over the brokers; when a broker stops (SIGTERM), the controller moves its leaderships
 * to another ISR member and `--under-replicated` lists the partitions it held, and every record acknowledged with
 * acks=all before is read back from the new leaders. Started without `cluster.id`, the three report the one cluster
 * id the store holds, and a broker whose data dir is of another cluster refuses to start with one plain error line.
 * Skipped with a note without etcd.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { bin, type Result, runEddy } from "./runEddy.js"

const hasEtcd = spawnSync("etcd", ["--version"], { stdio: "ignore" }).status === 0
const children: Array<ChildProcess> = []
const dirs: Array<string> = []

afterAll(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL")
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls `check` every 100 ms for up to `ms`. */
const eventually = async (what: string, check: () => Promise<boolean>, ms = 30_000) => {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (await check()) return
  assert.fail(`never: ${what}`)
}

const startEtcd = async (dir: string) => {
  const client = `http://127.0.0.1:${await freePort()}`
  const peer = `http://127.0.0.1:${await freePort()}`
  const args = [
    ["--name", "eddy-cli-test", "--data-dir", path.join(dir, "etcd")],
    ["--listen-client-urls", client, "--advertise-client-urls", client],
    ["--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer],
    ["--initial-cluster", `eddy-cli-test=${peer}`, "--log-level", "error"]
  ].flat()
  children.push(spawn("etcd", args, { stdio: "ignore" }))
  await eventually("etcd is healthy", () =>
    fetch(`${client}/health`)
      .then((r) => r.json() as Promise<{ health?: string }>)
      .then((h) => h.health === "true")
      .catch(() => false)
  )
  return client
}

const startBroker = async (id: number, etcd: string, cwd: string) => {
  const child = spawn(
    process.execPath,
    [bin, "broker", "--node-id", String(id), "--port", "0", "--data-dir", `data-${id}`, "--etcd", etcd],
    { cwd, stdio: ["ignore", "pipe", "pipe"] }
  )
  children.push(child)
  let output = ""
  child.stdout!.on("data", (d) => (output += d))
  child.stderr!.on("data", (d) => (output += d))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  await eventually(`broker ${id} listens`, async () => /listening on 127\.0\.0\.1:(\d+)/.test(output))
  const port = Number(output.match(/listening on 127\.0\.0\.1:(\d+)/)![1])
  return { id, port, child, exited, output: () => output }
}

const eddy = (args: ReadonlyArray<string>, port: number, input = ""): Promise<Result> =>
  runEddy([...args, "--bootstrap-server", `127.0.0.1:${port}`], { input })

/** The rows of `eddy cluster partitions` as [topic, partition, leader, replicas, isr, state]. */
const rows = (stdout: string) =>
  stdout
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.trim().split(/\s+/))

if (!hasEtcd) console.warn("BrokerCluster.test.ts: skipped, no etcd binary (apt-get install -y etcd-server)")

describe.skipIf(!hasEtcd)("three eddy broker processes on one etcd", () => {
  it("form one cluster: replicated topics, leaders from the store, fail-over on a stop", {
    timeout: 120_000
  }, async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "eddy-cli-cluster3-"))
    dirs.push(cwd)
    const etcd = await startEtcd(cwd)
    const one = await startBroker(1, etcd, cwd)
    const two = await startBroker(2, etcd, cwd)
    const three = await startBroker(3, etcd, cwd)
    const brokers = [one, two, three]
    await eventually("three brokers listed", async () => {
      const r = await eddy(["cluster", "brokers"], two.port)
      return r.code === 0 && [1, 2, 3].every((id) => r.stdout.includes(`127.0.0.1:${brokers[id - 1]!.port}`))
    })
    const brokersOut = await eddy(["cluster", "brokers"], three.port)
    assert.match(brokersOut.stdout, /controller/)
    // one cluster id (the store's) through every broker and in every data dir
    const clusterIds = await Promise.all(
      brokers.map(async (b) => /^Cluster (\S+)/m.exec((await eddy(["cluster", "brokers"], b.port)).stdout)?.[1])
    )
    assert.strictEqual(new Set(clusterIds).size, 1, clusterIds.join(", "))
    const clusterId = clusterIds[0]
    assert.isDefined(clusterId)
    for (const id of [1, 2, 3]) {
      const meta = fs.readFileSync(path.join(cwd, `data-${id}`, "meta.properties"), "utf8")
      assert.include(meta, `cluster.id=${clusterId}`)
    }
    // a data dir of another cluster does not join: one plain error line, no stack trace
    fs.mkdirSync(path.join(cwd, "data-4"))
    fs.writeFileSync(path.join(cwd, "data-4", "meta.properties"), "cluster.id=another-cluster\nnode.id=4\nversion=1\n")
    const foreign = spawnSync(
      process.execPath,
      [bin, "broker", "--node-id", "4", "--port", "0", "--data-dir", "data-4", "--etcd", etcd],
      { cwd, encoding: "utf8", timeout: 30_000 }
    )
    assert.notStrictEqual(foreign.status, 0)
    const errors = foreign.stderr.split("\n").filter((l) => l.startsWith("error:"))
    assert.strictEqual(errors.length, 1, foreign.stderr)
    assert.include(errors[0], "another-cluster")
    assert.include(errors[0], clusterId)
    assert.include(errors[0], path.join("data-4", "meta.properties"))
    assert.notMatch(foreign.stderr, /^\s+at /m)

    const created = await eddy(
      ["topics", "create", "orders", "--partitions", "3", "--replication-factor", "3"],
      one.port
    )
    assert.strictEqual(created.code, 0, created.stderr)
    let partitions: Array<Array<string>> = []
    await eventually("the partitions through broker 2", async () => {
      const r = await eddy(["cluster", "partitions", "--topic", "orders"], two.port)
      partitions = rows(r.stdout)
      return r.code === 0 && partitions.length === 3
    })
    for (const p of partitions) {
      assert.strictEqual(p[3]!.split(",").length, 3, p.join(" "))
      assert.strictEqual(p[5], "ok")
    }
    assert.strictEqual(new Set(partitions.map((p) => p[2])).size, 3, "leaders spread over the brokers")

    // acks=all through broker 1: every record is on the three replicas of its partition before it is acknowledged
    const lines = Array.from({ length: 30 }, (_, i) => `k${i}:v${i}`)
    const produced = await eddy(
      ["produce", "orders", "--key-separator", ":", "--acks", "all"],
      one.port,
      `${lines.join("\n")}\n`
    )
    assert.strictEqual(produced.code, 0, produced.stderr)

    // broker 3 stops gracefully: its leaderships move to other ISR members, and its partitions are under-replicated
    three.child.kill("SIGTERM")
    assert.strictEqual(await three.exited, 0, three.output())
    await eventually("no partition led by broker 3, all under-replicated", async () => {
      const r = await eddy(["cluster", "partitions", "--topic", "orders", "--under-replicated"], one.port)
      const list = rows(r.stdout)
      return r.code === 0 && list.length === 3 && list.every((p) => p[2] !== "3" && p[2] !== "none")
    })
    const offline = await eddy(["cluster", "partitions", "--unavailable"], one.port)
    assert.match(offline.stdout, /No such partitions/)
    // every acknowledged record is still there, read from the new leaders
    const consumed = await eddy(
      ["consume", "orders", "--from-beginning", "--max-messages", "30", "--timeout-ms", "20000"],
      two.port
    )
    assert.strictEqual(consumed.code, 0, consumed.stderr)
    assert.deepStrictEqual(consumed.stdout.trim().split("\n").sort(), lines.map((l) => l.split(":")[1]!).sort())
  })
})
