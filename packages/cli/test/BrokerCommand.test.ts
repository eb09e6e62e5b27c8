import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, assert, describe, it } from "@effect/vitest"

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "bin", "eddy.js")
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
  const waitFor = (re: RegExp, timeoutMs = 30_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const timer = setInterval(() => {
        const m = output.match(re)
        if (m) {
          clearInterval(timer)
          resolve(m)
        }
      }, 50)
      setTimeout(() => {
        clearInterval(timer)
        reject(new Error(`timed out waiting for ${re}; output:\n${output}`))
      }, timeoutMs)
    })
  return { child, exited, waitFor, output: () => output }
}

const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "eddy-cli-"))
  dirs.push(d)
  return d
}

describe("eddy broker", () => {
  it("starts on an ephemeral port, serves connections and stops cleanly on SIGTERM", async () => {
    const cwd = tmp()
    const p = run(["broker", "--port", "0", "--data-dir", "data", "--set", "num.partitions=2"], cwd)
    const m = await p.waitFor(/listening on 127\.0\.0\.1:(\d+)/)
    const port = Number(m[1])
    assert.isAbove(port, 0)
    assert.match(p.output(), new RegExp(`Data directory ${path.join(cwd, "data").replaceAll("/", "\\/")}`))
    await new Promise<void>((resolve, reject) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => {
        s.destroy()
        resolve()
      })
      s.on("error", reject)
    })
    assert.isTrue(fs.existsSync(path.join(cwd, "data", "meta.properties")))
    assert.isTrue(fs.existsSync(path.join(cwd, "data", ".lock.sock")))
    // a second broker on the same directory is refused in one line
    const second = run(["broker", "--port", "0", "--data-dir", "data"], cwd)
    assert.notStrictEqual(await second.exited, 0)
    const lines = second
      .output()
      .trim()
      .split("\n")
      .filter((l) => l.trim() !== "")
    assert.strictEqual(lines.length, 1, second.output())
    assert.match(lines[0]!, /^error: Cannot use data directory .*: it is in use by another broker/)
    p.child.kill("SIGTERM")
    assert.strictEqual(await p.exited, 0)
    assert.match(p.output(), /Shutting down listener/)
    assert.isFalse(fs.existsSync(path.join(cwd, "data", ".lock.sock")))
  })

  it("reads a server.properties file", async () => {
    const cwd = tmp()
    fs.writeFileSync(
      path.join(cwd, "server.properties"),
      "# test\nlisteners=PLAINTEXT://127.0.0.1:0\nlog.dirs=props-data\nnode.id=4\n"
    )
    const p = run(["broker", "--config", "server.properties"], cwd)
    await p.waitFor(/Broker 4 listening on 127\.0\.0\.1:\d+/)
    assert.isTrue(fs.existsSync(path.join(cwd, "props-data", "meta.properties")))
    p.child.kill("SIGINT")
    assert.strictEqual(await p.exited, 0)
  })

  it("reports an invalid config value in one line and exits non-zero", async () => {
    const cwd = tmp()
    const p = run(["broker", "--port", "0", "--set", "num.partitions=many"], cwd)
    const code = await p.exited
    assert.notStrictEqual(code, 0)
    const lines = p
      .output()
      .trim()
      .split("\n")
      .filter((l) => l.trim() !== "")
    assert.strictEqual(lines.length, 1, p.output())
    assert.include(lines[0]!, "num.partitions")
  })

  it("rejects invalid flags with a non-zero exit", async () => {
    const p = run(["broker", "--port", "not-a-port"], tmp())
    assert.notStrictEqual(await p.exited, 0)
  })
})
