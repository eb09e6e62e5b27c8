/**
 * The in-memory metadata store's pure transitions, without fibers: compare-and-swap, leases expiring
 * with their keys in one revision, and a model check that random transactions keep revisions and
 * history consistent.
 */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc, Option } from "effect"

import {
  applyTxn,
  expireLeases,
  grantLease,
  initialState,
  keepLeaseAlive,
  type MemoryKvState,
  type Step
} from "../../src/broker/internal/metadataMemory.js"
import { LeaseExpired } from "../../src/broker/MetadataRecords.js"

const ok = <A>(step: Step<A> | LeaseExpired): Step<A> => {
  if (step instanceof LeaseExpired) throw step
  return step
}

describe("metadataMemory transitions", () => {
  it("a put applies only when its compare holds and bumps the revision once", () => {
    const put = ok(applyTxn(initialState, [{ key: "a", modRevision: 0 }], [{ _tag: "Put", key: "a", value: "1" }]))
    assert.deepStrictEqual(put.result, Option.some(2))
    assert.strictEqual(put.state.entries.get("a")?.modRevision, 2)
    const stale = ok(applyTxn(put.state, [{ key: "a", modRevision: 0 }], [{ _tag: "Put", key: "a", value: "2" }]))
    assert.isTrue(Option.isNone(stale.result))
    assert.strictEqual(stale.state, put.state)
    assert.deepStrictEqual(stale.events, [])
  })

  it("a lease expires at its deadline, deleting its keys in one revision; keepalive pushes it", () => {
    const granted = grantLease(initialState, 1000, 0)
    const lease = granted.result
    const withKeys = ok(
      applyTxn(
        granted.state,
        [{ key: "x", modRevision: 0 }],
        [
          { _tag: "Put", key: "x", value: "1", lease },
          { _tag: "Put", key: "y", value: "1", lease },
          { _tag: "Put", key: "z", value: "1" }
        ]
      )
    )
    const kept = ok(keepLeaseAlive(withKeys.state, lease, 900))
    assert.deepStrictEqual(expireLeases(kept.state, 1899).events, [])
    const expired = expireLeases(kept.state, 1900)
    assert.deepStrictEqual(
      expired.events.map((e) => [e.key, e.revision, e.value]),
      [
        ["x", 3, undefined],
        ["y", 3, undefined]
      ]
    )
    assert.deepStrictEqual([...expired.state.entries.keys()], ["z"])
    assert.instanceOf(keepLeaseAlive(expired.state, lease, 1900), LeaseExpired)
    assert.instanceOf(applyTxn(expired.state, [], [{ _tag: "Put", key: "w", value: "1", lease }]), LeaseExpired)
  })

  it.prop(
    "random compare-and-swap puts and deletes: revisions grow, history replays to the state",
    [
      fc.array(fc.record({ key: fc.constantFrom("a", "b", "c"), del: fc.boolean(), stale: fc.boolean() }), {
        maxLength: 60
      })
    ],
    ([ops]) => {
      let state: MemoryKvState = initialState
      for (const op of ops) {
        const current = state.entries.get(op.key)?.modRevision ?? 0
        const expected = op.stale ? current + 1 : current
        const before = state.revision
        const step = ok(
          applyTxn(
            state,
            [{ key: op.key, modRevision: expected }],
            [op.del ? { _tag: "Delete", key: op.key } : { _tag: "Put", key: op.key, value: String(before) }]
          )
        )
        if (op.stale) assert.isTrue(Option.isNone(step.result))
        state = step.state
        assert.isAtLeast(state.revision, before)
      }
      const replayed = new Map<string, string>()
      let last = 0
      for (const e of state.history) {
        assert.isAtLeast(e.revision, last)
        last = e.revision
        if (e.value === undefined) replayed.delete(e.key)
        else replayed.set(e.key, e.value)
      }
      assert.deepStrictEqual(replayed, new Map([...state.entries].map(([k, v]) => [k, v.value])))
    }
  )
})
