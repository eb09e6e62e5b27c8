import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Queue, Scope } from "effect"
import * as GroupMember from "../../src/client/GroupMember.js"
import { startEddy } from "./util.js"

const text = (b: Uint8Array) => new TextDecoder().decode(b)
const bytes = (s: string) => new TextEncoder().encode(s)

/** A member whose metadata is its name; the leader assigns `<leader name>-><member name>` to each member. */
const member = (bootstrap: string, name: string, scope: Scope.Scope) =>
  Effect.gen(function* () {
    const assigned = yield* Queue.unbounded<GroupMember.Assigned>()
    const m = yield* GroupMember.make(
      {
        "bootstrap.servers": bootstrap,
        "group.id": "workers",
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 200
      },
      {
        protocolType: "test",
        protocols: Effect.succeed([
          { name: "v2", metadata: bytes(name) },
          { name: "v1", metadata: bytes(`old ${name}`) }
        ]),
        assign: (join) =>
          Effect.succeed(new Map(join.members.map((x) => [x.memberId, bytes(`${name}->${text(x.metadata)}`)]))),
        onAssigned: (a) => Queue.offer(assigned, a)
      }
    ).pipe(Scope.extend(scope))
    return { m, assigned }
  })

const latest = (q: Queue.Queue<GroupMember.Assigned>, generation: number) =>
  Effect.gen(function* () {
    for (;;) {
      const a = yield* Queue.take(q)
      if (a.generationId >= generation) return a
    }
  })

describe("GroupMember", () => {
  it.scopedLive(
    "joins with opaque metadata, the leader assigns everyone, a leaving member makes the rest rebalance",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy({ extra: { "group.initial.rebalance.delay.ms": "0" } })
        const scopeA = yield* Scope.make()
        const scopeB = yield* Scope.make()
        const a = yield* member(bootstrap, "a", scopeA)
        const first = yield* Queue.take(a.assigned)
        assert.strictEqual(first.protocol, "v2")
        assert.strictEqual(text(first.assignment), "a->a")
        assert.strictEqual(first.leaderId, first.memberId)

        const b = yield* member(bootstrap, "b", scopeB)
        const fromB = yield* Queue.take(b.assigned)
        const fromA = yield* latest(a.assigned, fromB.generationId)
        assert.strictEqual(fromA.generationId, fromB.generationId)
        assert.isAbove(fromB.generationId, first.generationId)
        assert.strictEqual(fromA.leaderId, fromB.leaderId)
        const leaderName = fromA.leaderId === fromA.memberId ? "a" : "b"
        assert.strictEqual(text(fromA.assignment), `${leaderName}->a`)
        assert.strictEqual(text(fromB.assignment), `${leaderName}->b`)
        assert.strictEqual(yield* a.m.generationId, fromA.generationId)

        // b leaves (its scope closes): a rebalances alone at once, without waiting for b's session to expire
        const started = Date.now()
        yield* Scope.close(scopeB, Exit.void)
        const alone = yield* latest(a.assigned, fromB.generationId + 1)
        assert.strictEqual(text(alone.assignment), "a->a")
        assert.isBelow(Date.now() - started, 5000)

        // rejoin asks for a new generation
        yield* a.m.rejoin
        const again = yield* latest(a.assigned, alone.generationId + 1)
        assert.strictEqual(again.generationId, alone.generationId + 1)
        yield* Scope.close(scopeA, Exit.void)
        assert.strictEqual(yield* a.m.memberId, "")
      }),
    60_000
  )

  it.scoped("refuses a missing group.id and a heartbeat not below the session timeout", () =>
    Effect.gen(function* () {
      const callbacks = {
        protocolType: "test",
        protocols: Effect.succeed([]),
        assign: () => Effect.succeed(new Map()),
        onAssigned: () => Effect.void
      }
      const noGroup = yield* Effect.exit(GroupMember.make({ "group.id": "" }, callbacks))
      assert.isTrue(Exit.isFailure(noGroup))
      const slow = yield* Effect.exit(
        GroupMember.make({ "group.id": "g", "session.timeout.ms": 1000, "heartbeat.interval.ms": 1000 }, callbacks)
      )
      assert.isTrue(Exit.isFailure(slow))
    })
  )
})
