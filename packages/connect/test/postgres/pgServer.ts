/**
 * A real Postgres for tests: `initdb` into a temporary directory (as the `postgres` user when the tests run
 * as root, since initdb refuses root), started with `pg_ctl` on a free loopback port with
 * `wal_level=logical`, replication slots and WAL senders, trust authentication on 127.0.0.1, and stopped
 * (`-m immediate`) and removed when the scope closes. `pgBinDir` is null when no Postgres binaries are
 * installed; test files then skip with a visible note (`.ci/run` installs Debian's `postgresql`).
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { Context, Effect } from "effect"
import pg from "pg"

const versionOf = (dir: string) => Number(/postgresql\/(\d+)/.exec(dir)?.[1] ?? 0)

const findBinDir = (): string | null => {
  const candidates: Array<string> = []
  if (process.env.PG_BIN_DIR) candidates.push(process.env.PG_BIN_DIR)
  const root = "/usr/lib/postgresql"
  if (fs.existsSync(root))
    for (const v of fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)))
      candidates.push(path.join(root, v, "bin"))
  const found = candidates.find((d) => fs.existsSync(path.join(d, "initdb")) && fs.existsSync(path.join(d, "pg_ctl")))
  return found !== undefined && (versionOf(found) === 0 || versionOf(found) >= 10) ? found : null
}

/** The directory of `initdb`/`pg_ctl`, or null when Postgres is not installed. */
export const pgBinDir: string | null = findBinDir()

/** Logged by test files that skip for want of Postgres. */
export const skipNote =
  "Postgres binaries (initdb, pg_ctl) not found: Postgres tests skipped (apt-get install postgresql)"

/** A running test server. */
export interface PgServer {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly database: string
  /** A `postgres://` URL of the server's `postgres` database. */
  readonly url: string
  /** The same as a JDBC URL (`jdbc:postgresql://host:port/db?user=postgres`). */
  readonly jdbcUrl: string
  /** Runs SQL on a fresh connection (tests' own reads and writes). */
  readonly query: <R extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    values?: ReadonlyArray<unknown>
  ) => Effect.Effect<ReadonlyArray<R>>
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

const asRoot = process.getuid?.() === 0

/** Runs a Postgres binary, as `postgres` when we are root. */
const run = (bin: string, args: ReadonlyArray<string>) =>
  asRoot
    ? execFileSync("runuser", ["-u", "postgres", "--", path.join(pgBinDir!, bin), ...args], { stdio: "pipe" })
    : execFileSync(path.join(pgBinDir!, bin), [...args], { stdio: "pipe" })

/** Starts a server in the scope (about a second); fails when Postgres is not installed. */
export const startPostgres = Effect.acquireRelease(
  Effect.promise(async () => {
    if (pgBinDir === null) throw new Error(skipNote)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "eddy-pg-"))
    if (asRoot) {
      const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim())
      const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim())
      fs.chownSync(dir, uid, gid)
    }
    const data = path.join(dir, "data")
    run("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"])
    const port = await freePort()
    const options = [
      `-p ${port}`,
      "-c listen_addresses=127.0.0.1",
      `-c unix_socket_directories=${dir}`,
      "-c wal_level=logical",
      "-c max_replication_slots=10",
      "-c max_wal_senders=10",
      "-c fsync=off",
      "-c synchronous_commit=off",
      "-c full_page_writes=off"
    ].join(" ")
    run("pg_ctl", ["-D", data, "-l", path.join(dir, "log"), "-w", "-t", "30", "-o", options, "start"])
    const host = "127.0.0.1"
    const server: PgServer = {
      host,
      port,
      user: "postgres",
      database: "postgres",
      url: `postgres://postgres@${host}:${port}/postgres`,
      jdbcUrl: `jdbc:postgresql://${host}:${port}/postgres?user=postgres`,
      query: (text, values) =>
        Effect.promise(async () => {
          const client = new pg.Client({ host, port, user: "postgres", database: "postgres" })
          await client.connect()
          try {
            return (await client.query(text, values as Array<unknown>)).rows
          } finally {
            await client.end()
          }
        })
    }
    return { server, dir, data }
  }),
  ({ dir, data }) =>
    Effect.sync(() => {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"])
      } catch {
        // already stopped
      }
      fs.rmSync(dir, { recursive: true, force: true })
    })
).pipe(Effect.map(({ server }) => server))

/** The test server as a service (one per test file: `it.layer(Layer.scoped(PgTag, startPostgres))`). */
export class PgTag extends Context.Tag("@eddy/connect/test/PgServer")<PgTag, PgServer>() {}
