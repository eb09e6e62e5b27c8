import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, assert, describe, it } from "@effect/vitest"

const here = path.dirname(fileURLToPath(import.meta.url))
const bin = path.join(here, "..", "bin", "eddy.js")
const example = path.join(here, "..", "..", "..", "examples", "connect-file-copy")
const children: Array<ChildProcess> = []
const dirs: Array<string> = []

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL")
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

const run = (args: Array<string>, cwd: string) => {
  const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] })
  children.push(child)
  let output = ""
  child.stdout!.on("data", (d) => (output += d))
  child.stderr!.on("data", (d) => (output += d))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return { child, exited, output: () => output }
}

const until = async (f: () => boolean, what: string, output: () => string, timeoutMs = 40_000) => {
  const deadline = Date.now() + timeoutMs
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; output:\n${output()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe("eddy connect", () => {
  it("runs the file-copy example as a standalone worker and manages it over REST", async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "eddy-connect-cli-"))
    dirs.push(cwd)
    const broker = run(["broker", "--port", "0", "--data-dir", "data"], cwd)
    await until(() => /listening on 127\.0\.0\.1:(\d+)/.test(broker.output()), "the broker", broker.output)
    const port = /listening on 127\.0\.0\.1:(\d+)/.exec(broker.output())![1]

    // the example, with the broker's port, a free REST port and offsets in the temp dir
    const dir = path.join(cwd, "examples", "connect-file-copy")
    fs.mkdirSync(dir, { recursive: true })
    for (const f of ["file-source.properties", "file-sink.json", "input.txt"])
      fs.copyFileSync(path.join(example, f), path.join(dir, f))
    const workerProps = fs
      .readFileSync(path.join(example, "worker.properties"), "utf8")
      .replace(/^bootstrap\.servers=.*$/m, `bootstrap.servers=127.0.0.1:${port}`)
      .replace(/^listeners=.*$/m, "listeners=http://127.0.0.1:0")
      .replace(
        /^offset\.storage\.file\.filename=.*$/m,
        `offset.storage.file.filename=${path.join(cwd, "offsets.json")}`
      )
    fs.writeFileSync(path.join(dir, "worker.properties"), workerProps)

    const worker = run(
      [
        "connect",
        "standalone",
        "examples/connect-file-copy/worker.properties",
        "examples/connect-file-copy/file-source.properties",
        "examples/connect-file-copy/file-sink.json"
      ],
      cwd
    )
    const output = path.join(dir, "output.txt")
    const input = fs.readFileSync(path.join(dir, "input.txt"), "utf8")
    await until(() => fs.existsSync(output) && fs.readFileSync(output, "utf8") === input, "the copy", worker.output)
    const rest = /listening on (http:\/\/[\d.]+:\d+)/.exec(worker.output())![1]!

    const cli = async (...args: Array<string>) => {
      const p = run(["connect", ...args, "--url", rest], cwd)
      await p.exited
      return p.output()
    }
    assert.deepStrictEqual(JSON.parse(await cli("list")), ["local-file-sink", "local-file-source"])
    assert.strictEqual(JSON.parse(await cli("status", "local-file-source")).connector.state, "RUNNING")
    fs.appendFileSync(path.join(dir, "input.txt"), "appended\n")
    await until(() => fs.readFileSync(output, "utf8") === `${input}appended\n`, "the appended line", worker.output)
    await cli("delete", "local-file-sink")
    assert.deepStrictEqual(JSON.parse(await cli("list")), ["local-file-source"])
    assert.match(await cli("status", "nope"), /error: Connector nope not found/)

    worker.child.kill("SIGTERM")
    await worker.exited
    broker.child.kill("SIGTERM")
    await broker.exited
  }, 90_000)

  it("runs a distributed worker that takes connectors over REST and leaves on SIGTERM", async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "eddy-connect-dist-"))
    dirs.push(cwd)
    const broker = run(["broker", "--port", "0", "--data-dir", "data"], cwd)
    await until(() => /listening on 127\.0\.0\.1:(\d+)/.test(broker.output()), "the broker", broker.output)
    const port = /listening on 127\.0\.0\.1:(\d+)/.exec(broker.output())![1]
    const restPort = await new Promise<number>((resolve) => {
      const server = net.createServer()
      server.listen(0, "127.0.0.1", () => {
        const p = (server.address() as net.AddressInfo).port
        server.close(() => resolve(p))
      })
    })
    fs.writeFileSync(
      path.join(cwd, "worker.properties"),
      [
        `bootstrap.servers=127.0.0.1:${port}`,
        "group.id=cli-cluster",
        "config.storage.topic=cli-configs",
        "config.storage.replication.factor=1",
        "offset.storage.topic=cli-offsets",
        "offset.storage.replication.factor=1",
        "status.storage.topic=cli-status",
        "status.storage.replication.factor=1",
        "key.converter=org.apache.kafka.connect.storage.StringConverter",
        "value.converter=org.apache.kafka.connect.storage.StringConverter",
        `listeners=http://127.0.0.1:${restPort}`
      ].join("\n")
    )
    fs.writeFileSync(path.join(cwd, "in.txt"), "x\n")
    fs.writeFileSync(
      path.join(cwd, "src.json"),
      JSON.stringify({ name: "src", config: { "connector.class": "FileStreamSource", file: "in.txt", topic: "cli-t" } })
    )
    const worker = run(["connect", "distributed", "worker.properties"], cwd)
    await until(() => /distributed worker .* listening on/.test(worker.output()), "the worker", worker.output)
    const url = `http://127.0.0.1:${restPort}`
    const cli = async (...args: Array<string>) => {
      const p = run(["connect", ...args, "--url", url], cwd)
      await p.exited
      return p.output()
    }
    assert.strictEqual(JSON.parse(await cli("create", "src.json")).name, "src")
    assert.deepStrictEqual(JSON.parse(await cli("list")), ["src"])
    let state = ""
    for (let i = 0; i < 100 && state !== "RUNNING"; i++) {
      const status = (await (await fetch(`${url}/connectors/src/status`)).json()) as { tasks: Array<{ state: string }> }
      state = status.tasks[0]?.state ?? ""
      if (state !== "RUNNING") await new Promise((r) => setTimeout(r, 200))
    }
    assert.strictEqual(state, "RUNNING")
    worker.child.kill("SIGTERM")
    await worker.exited
    broker.child.kill("SIGTERM")
    await broker.exited
  }, 90_000)
})
