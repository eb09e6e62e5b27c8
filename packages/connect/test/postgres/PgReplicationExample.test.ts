/**
 * examples/pg-replication: its setup.sql, worker and two connector configs (pointed at a Postgres and a broker
 * the test starts) run by the built `eddy connect standalone`; the replica follows the snapshot and then the
 * changes.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import pg from "pg"
import { eventually, startEddy, tempDir } from "../util.js"
import { PgTag, pgBinDir, skipNote, startPostgres } from "./pgServer.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.join(here, "..", "..", "..", "..")
const example = path.join(root, "examples", "pg-replication")
const bin = path.join(root, "packages", "cli", "bin", "eddy.js")
const built = fs.existsSync(path.join(root, "packages", "cli", "dist", "main.js"))

if (pgBinDir === null) console.warn(skipNote)
if (!built) console.warn("packages/cli is not built (npm run build): the pg-replication example test is skipped")

describe.skipIf(pgBinDir === null || !built)("examples/pg-replication", () => {
  layer(Layer.scoped(PgTag, startPostgres), { timeout: 60_000, excludeTestServices: true })((it) => {
    it.scoped(
      "CDC -> topic -> Postgres sink keeps replica.accounts equal to app.accounts",
      () =>
        Effect.gen(function* () {
          const server = yield* PgTag
          const on = (database: string, text: string) =>
            Effect.promise(async () => {
              const client = new pg.Client({ host: server.host, port: server.port, user: "postgres", database })
              await client.connect()
              try {
                return (await client.query(text)).rows as Array<Record<string, unknown>>
              } finally {
                await client.end()
              }
            })
          // setup.sql: the databases on the server, then the table in app (psql's \connect splits the two)
          const [serverPart, appPart] = fs.readFileSync(path.join(example, "setup.sql"), "utf8").split("\\connect app")
          for (const statement of serverPart!.split(";").filter((s) => /\S/.test(s.replace(/--.*$/gm, ""))))
            yield* on("postgres", statement)
          yield* on("app", appPart!)

          const { bootstrap } = yield* startEddy
          const dir = yield* tempDir
          const port = String(server.port)
          const read = (f: string) => fs.readFileSync(path.join(example, f), "utf8")
          fs.writeFileSync(
            path.join(dir, "worker.properties"),
            read("worker.properties")
              .replace(/^bootstrap\.servers=.*$/m, `bootstrap.servers=${bootstrap}`)
              .replace(/^listeners=.*$/m, "listeners=http://127.0.0.1:0")
              .replace(/^offset\.storage\.file\.filename=.*$/m, `offset.storage.file.filename=${dir}/offsets.json`)
          )
          fs.writeFileSync(
            path.join(dir, "pg-cdc.properties"),
            read("pg-cdc.properties")
              .replace(/^database\.hostname=.*$/m, `database.hostname=${server.host}`)
              .replace(/^database\.port=.*$/m, `database.port=${port}`)
          )
          fs.writeFileSync(
            path.join(dir, "pg-replica.json"),
            read("pg-replica.json").replace("localhost:5432", `${server.host}:${port}`)
          )
          const child: ChildProcess = spawn(
            process.execPath,
            [bin, "connect", "standalone", "worker.properties", "pg-cdc.properties", "pg-replica.json"],
            { cwd: dir, stdio: ["ignore", "pipe", "pipe"] }
          )
          let output = ""
          child.stdout!.on("data", (d) => (output += d))
          child.stderr!.on("data", (d) => (output += d))
          const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()))
          yield* Effect.addFinalizer(() =>
            Effect.promise(() => {
              child.kill("SIGKILL")
              return exited
            })
          )

          const rows = (database: string) =>
            Effect.map(
              Effect.catchAllDefect(
                on(
                  database,
                  "SELECT id, owner, balance::text AS balance, opened::text AS opened FROM accounts ORDER BY id"
                ),
                () => Effect.succeed([] as Array<Record<string, unknown>>)
              ),
              (r) => JSON.stringify(r)
            )
          const same = Effect.zipWith(rows("app"), rows("replica"), (a, b) => a === b)
          const show = Effect.tapDefect(() => Effect.sync(() => console.log("WORKER OUTPUT", output)))
          // the snapshot: the 100 rows
          yield* eventually(same, 60_000).pipe(show)
          assert.strictEqual(JSON.parse(yield* rows("replica")).length, 100)
          // then the changes
          yield* on("app", "UPDATE accounts SET balance = balance + 1 WHERE id <= 10")
          yield* on("app", "DELETE FROM accounts WHERE id > 95")
          yield* on("app", "INSERT INTO accounts VALUES (1000, 'late', 1.25, NULL)")
          yield* on("app", "UPDATE accounts SET owner = 'renamed' WHERE id = 50")
          yield* eventually(same, 60_000).pipe(show)
          const replica = JSON.parse(yield* rows("replica")) as Array<{ id: number; owner: string; balance: string }>
          assert.strictEqual(replica.length, 96)
          assert.strictEqual(replica.find((r) => r.id === 50)!.owner, "renamed")
          assert.strictEqual(replica.find((r) => r.id === 1)!.balance, "11.50")
        }),
      180_000
    )
  })
})
