/**
 * `npm run bench`: runs every `*.bench.ts` module of each package's `bench` folder in sequence (each exports
 * `run(): Promise<void>` and prints its own tables). An optional argument filters modules by name:
 * `npm run bench -- recordbatch`.
 */

import { existsSync, readdirSync } from "node:fs"
import { basename, dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const dir = dirname(fileURLToPath(import.meta.url))
const filter = process.argv[2]
// this package's benches, then the other packages' (packages/<name>/bench/*.bench.ts)
const packagesDir = join(dir, "..", "..")
const benchDirs = [
  dir,
  ...readdirSync(packagesDir)
    .map((p) => join(packagesDir, p, "bench"))
    .filter((d) => d !== dir && existsSync(d))
]
const modules = benchDirs
  .flatMap((d) => readdirSync(d).map((f) => join(d, f)))
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filter === undefined || basename(f).includes(filter))
  .sort((a, b) => basename(a).localeCompare(basename(b)))

if (modules.length === 0) {
  console.error(`no benchmark matches ${JSON.stringify(filter)}`)
  process.exitCode = 1
}

for (const file of modules) {
  const mod = (await import(pathToFileURL(file).href)) as { run?: () => Promise<void> }
  if (typeof mod.run !== "function") {
    console.error(`${file}: exports no run()`)
    process.exitCode = 1
    continue
  }
  console.log(`\n## ${basename(file).replace(/\.bench\.ts$/, "")}\n`)
  const started = performance.now()
  await mod.run()
  console.log(`\n(${basename(file)}: ${((performance.now() - started) / 1000).toFixed(1)} s)`)
}
