/**
 * `npm run bench`: runs every `packages/core/bench/*.bench.ts` module in sequence (each exports
 * `run(): Promise<void>` and prints its own tables). An optional argument filters modules by name:
 * `npm run bench -- recordbatch`.
 */
import { readdirSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const dir = dirname(fileURLToPath(import.meta.url))
const filter = process.argv[2]
const modules = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filter === undefined || f.includes(filter))
  .sort()

if (modules.length === 0) {
  console.error(`no benchmark matches ${JSON.stringify(filter)}`)
  process.exitCode = 1
}

for (const file of modules) {
  const mod = (await import(pathToFileURL(join(dir, file)).href)) as { run?: () => Promise<void> }
  if (typeof mod.run !== "function") {
    console.error(`${file}: exports no run()`)
    process.exitCode = 1
    continue
  }
  console.log(`\n## ${file.replace(/\.bench\.ts$/, "")}\n`)
  const started = performance.now()
  await mod.run()
  console.log(`\n(${file}: ${((performance.now() - started) / 1000).toFixed(1)} s)`)
}
