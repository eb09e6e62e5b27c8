/**
 * `npm run bench`: runs every `packages/core/bench/*.bench.ts` and `packages/streams/bench/*.bench.ts`
 * module in sequence (each exports `run(): Promise<void>` and prints its own tables). An optional argument
 * filters modules by name: `npm run bench -- recordbatch`.
 */
import { existsSync, readdirSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))
const dirs = [here, join(here, "../../streams/bench")].filter((d) => existsSync(d))
const filter = process.argv[2]
const modules = dirs
  .flatMap((dir) => readdirSync(dir).map((file) => ({ dir, file })))
  .filter(({ file }) => file.endsWith(".bench.ts"))
  .filter(({ file }) => filter === undefined || file.includes(filter))
  .sort((a, b) => a.file.localeCompare(b.file))

if (modules.length === 0) {
  console.error(`no benchmark matches ${JSON.stringify(filter)}`)
  process.exitCode = 1
}

for (const { dir, file } of modules) {
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
