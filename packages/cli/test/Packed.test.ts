/**
 * The packed tarballs work in someone else's project: `npm pack` of every package, installed into a new
 * temporary project (its own package.json, one copy of Effect), type-checked with the usual module
 * resolutions (NodeNext and Bundler), then a producer/consumer program runs against a broker started with that
 * project's own `eddy` command (`node_modules/.bin/eddy`, what `npx eddy` runs).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { afterAll, assert, describe, it } from "@effect/vitest"

const exec = promisify(execFile)
const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, "..", "..", "..")
const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc")
const packages = ["core", "streams", "connect", "cli"]
const dirs: Array<string> = []
const children: Array<ChildProcess> = []

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL")
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

const version = (name: string): string =>
  (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { devDependencies: Record<string, string> })
    .devDependencies[name]!

const tsconfig = (moduleResolution: "NodeNext" | "Bundler") => ({
  compilerOptions: {
    target: "ES2022",
    module: moduleResolution === "NodeNext" ? "NodeNext" : "ESNext",
    moduleResolution,
    strict: true,
    skipLibCheck: false,
    types: ["node"],
    outDir: moduleResolution === "NodeNext" ? "out" : "out-bundler"
  },
  include: ["app.ts"]
})

describe("packed packages", () => {
  it("install into a new project, type-check under NodeNext and Bundler, and run against `npx eddy broker`", async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "eddy-packed-"))
    dirs.push(work)
    const tarballs = path.join(work, "tarballs")
    fs.mkdirSync(tarballs)
    // the root `npm test` builds dist/ before running the tests
    await exec(
      "npm",
      ["pack", "--silent", "--pack-destination", tarballs, ...packages.flatMap((p) => ["-w", `packages/${p}`])],
      {
        cwd: root
      }
    )
    const files = fs.readdirSync(tarballs)
    assert.deepStrictEqual(files.sort(), packages.map((p) => `eddy-${p}-0.1.0.tgz`).sort())

    const app = path.join(work, "app")
    fs.mkdirSync(app)
    const dependencies: Record<string, string> = {}
    for (const p of packages) dependencies[`@eddy/${p}`] = `file:${path.join(tarballs, `eddy-${p}-0.1.0.tgz`)}`
    for (const d of ["effect", "@effect/platform", "@effect/platform-node", "@types/node"]) dependencies[d] = version(d)
    fs.writeFileSync(
      path.join(app, "package.json"),
      JSON.stringify({ name: "packed-app", private: true, type: "module", dependencies }, null, 2)
    )
    fs.copyFileSync(path.join(here, "fixtures", "packed-app", "app.ts"), path.join(app, "app.ts"))
    await exec("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: app })

    // one copy of Effect in the application: the libraries take it as a peer dependency
    const effects = (await exec("npm", ["ls", "effect", "--parseable", "--all"], { cwd: app })).stdout
      .split("\n")
      .filter((l) => l.trim() !== "")
    assert.deepStrictEqual(
      effects.map((l) => path.relative(app, l)),
      [path.join("node_modules", "effect")]
    )

    for (const resolution of ["NodeNext", "Bundler"] as const) {
      fs.writeFileSync(path.join(app, `tsconfig.${resolution}.json`), JSON.stringify(tsconfig(resolution)))
      await exec(process.execPath, [tsc, "-p", `tsconfig.${resolution}.json`], { cwd: app })
    }

    const eddy = path.join(app, "node_modules", ".bin", "eddy")
    const broker = spawn(eddy, ["broker", "--port", "0", "--data-dir", "data"], {
      cwd: app,
      stdio: ["ignore", "pipe", "pipe"]
    })
    children.push(broker)
    let log = ""
    const port = await new Promise<number>((resolve, reject) => {
      const onData = (d: Buffer) => {
        log += d
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(log)
        if (m) resolve(Number(m[1]))
      }
      broker.stdout!.on("data", onData)
      broker.stderr!.on("data", onData)
      broker.on("exit", (code) => reject(new Error(`eddy broker exited (${code}):\n${log}`)))
    })
    const bootstrap = `127.0.0.1:${port}`
    const run = await exec(process.execPath, [path.join("out", "app.js"), bootstrap], { cwd: app })
    assert.strictEqual(run.stdout.trim(), "consumed 3 orders, total 6")
    const listed = await exec(eddy, ["topics", "list", "--bootstrap-server", bootstrap], { cwd: app })
    assert.include(listed.stdout.split("\n"), "orders")
    broker.kill("SIGTERM")
  }, 300_000)
})
