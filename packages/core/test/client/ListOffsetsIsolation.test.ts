/**
 * ListOffsets as a consumer sends it: `latest` is the high watermark, or with read_committed the last stable
 * offset (before an open transaction), so a read_committed reader that reads "to the end" does not wait for it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect } from "effect"
import * as Admin from "../../src/client/Admin.js"
import * as Fetcher from "../../src/client/Fetcher.js"
import * as Producer from "../../src/client/Producer.js"
import { startEddy } from "./util.js"

describe("ListOffsets isolation", { timeout: 60_000 }, () => {
  it.scopedLive("latest is the last stable offset for read_committed and the high watermark otherwise", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy()
      const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
      yield* admin.createTopics([{ name: "lso", numPartitions: 1 }])
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap, "transactional.id": "lso-tx" })
      const send = (v: string) => producer.send("lso", { value: Buffer.from(v), partition: 0 })
      yield* producer.transaction(send("committed"))
      // offsets 0 (record) and 1 (commit marker); an open transaction's record at 2
      const sent = yield* Deferred.make<void>()
      yield* Effect.fork(
        producer.transaction(
          send("open").pipe(Effect.zipRight(Deferred.succeed(sent, undefined)), Effect.zipRight(Effect.never))
        )
      )
      yield* Deferred.await(sent)
      const latest = (isolation: "read_committed" | "read_uncommitted") =>
        Effect.scoped(
          Effect.flatMap(Fetcher.make({ "bootstrap.servers": bootstrap, "isolation.level": isolation }), (f) =>
            f.resolveOffsets("lso", [{ partition: 0, offset: "latest" }])
          )
        ).pipe(Effect.map((m) => m.get(0)))
      assert.strictEqual(yield* latest("read_committed"), 2)
      assert.strictEqual(yield* latest("read_uncommitted"), 3)
    })
  )
})
