import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { pgBinDir, skipNote, startPostgres } from "./pgServer.js"

if (pgBinDir === null) console.warn(skipNote)

describe.skipIf(pgBinDir === null)("pgServer", () => {
  it.scopedLive(
    "starts a logical-replication-ready Postgres on loopback",
    () =>
      Effect.gen(function* () {
        const pg = yield* startPostgres
        const rows = yield* pg.query<{ wal_level: string }>("SHOW wal_level")
        assert.strictEqual(rows[0]!.wal_level, "logical")
      }),
    30_000
  )
})
