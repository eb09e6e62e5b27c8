import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as Assignor from "../../src/runtime/Assignor.js"
import * as CP from "../../src/runtime/ConnectProtocol.js"

type Owned = Map<string, CP.Load>

const configuredOf = (tasksPerConnector: ReadonlyArray<number>): CP.Load => ({
  connectors: tasksPerConnector.map((_, i) => `c${i}`),
  tasks: tasksPerConnector.flatMap((n, i) => Array.from({ length: n }, (_, task) => ({ connector: `c${i}`, task })))
})

const tk = Assignor.taskKey

/** Applies a round to what members run: drop revoked, add assigned. */
const apply = (owned: Owned, out: Assignor.AssignorOutput): Owned => {
  const next = new Map<string, CP.Load>()
  for (const [m, load] of owned) {
    const a = out.assignments.get(m)
    if (!a) continue
    const revokedC = new Set(a.revoked.connectors)
    const revokedT = new Set(a.revoked.tasks.map(tk))
    next.set(m, {
      connectors: [...load.connectors.filter((c) => !revokedC.has(c)), ...a.assigned.connectors],
      tasks: [...load.tasks.filter((t) => !revokedT.has(tk(t))), ...a.assigned.tasks]
    })
  }
  return next
}

/** Rounds until nobody revokes anything (the follow-up rebalances); returns the end state. */
const converge = (owned: Owned, configured: CP.Load, state: Assignor.AssignorState, now = 0, maxDelayMs = 0) => {
  let s = state
  let o = owned
  for (let round = 0; round < 5; round++) {
    const out = Assignor.assign({ now, maxDelayMs, members: o, configured }, s)
    o = apply(o, out)
    s = out.state
    const revoked = [...out.assignments.values()].some((a) => a.revoked.connectors.length + a.revoked.tasks.length > 0)
    if (!revoked) return { owned: o, state: s, rounds: round + 1, last: out }
  }
  throw new Error("did not converge in 5 rounds")
}

const checkComplete = (owned: Owned, configured: CP.Load) => {
  const cs = [...owned.values()].flatMap((l) => l.connectors).sort()
  const ts = [...owned.values()].flatMap((l) => l.tasks.map(tk)).sort()
  assert.deepStrictEqual(cs, [...configured.connectors].sort(), "every connector exactly once")
  assert.deepStrictEqual(ts, configured.tasks.map(tk).sort(), "every task exactly once")
}

const checkBalanced = (owned: Owned) => {
  const c = [...owned.values()].map((l) => l.connectors.length)
  const t = [...owned.values()].map((l) => l.tasks.length)
  assert.isAtMost(Math.max(...c) - Math.min(...c), 1, `connectors balanced: ${c}`)
  assert.isAtMost(Math.max(...t) - Math.min(...t), 1, `tasks balanced: ${t}`)
}

const members = (n: number, prefix = "w") => Array.from({ length: n }, (_, i) => `${prefix}${i}`)
const emptyOwned = (names: ReadonlyArray<string>): Owned => new Map(names.map((m) => [m, CP.emptyLoad]))

const config = fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 0, maxLength: 8 })

describe("Assignor (incremental cooperative)", () => {
  it.prop(
    "from any start (stale, duplicated or deleted work), every connector and task ends assigned exactly once, balanced",
    [config, fc.integer({ min: 1, max: 5 }), fc.array(fc.tuple(fc.nat(4), fc.nat(9), fc.integer({ min: -1, max: 7 })))],
    ([tasks, n, junk]) => {
      const configured = configuredOf(tasks)
      const names = members(n)
      const owned = new Map(names.map((m) => [m, { connectors: [] as Array<string>, tasks: [] as Array<CP.TaskId> }]))
      for (const [w, c, t] of junk) {
        const load = owned.get(names[w % n]!)!
        if (t < 0) load.connectors.push(`c${c}`)
        else load.tasks.push({ connector: `c${c}`, task: t })
      }
      const end = converge(owned, configured, Assignor.initialState)
      checkComplete(end.owned, configured)
      checkBalanced(end.owned)
      assert.isAtMost(end.rounds, 3)
    }
  )

  it.prop(
    "a joining worker takes only the excess of the others; nothing moves between the others",
    [config, fc.integer({ min: 1, max: 4 })],
    ([tasks, n]) => {
      const configured = configuredOf(tasks)
      const start = converge(emptyOwned(members(n)), configured, Assignor.initialState)
      const joined = new Map(start.owned).set("z-new", CP.emptyLoad)
      const end = converge(joined, configured, start.state)
      checkComplete(end.owned, configured)
      checkBalanced(end.owned)
      const total = configured.connectors.length
      const totalTasks = configured.tasks.length
      for (const m of members(n)) {
        const before = start.owned.get(m)!
        const after = end.owned.get(m)!
        const beforeT = new Set(before.tasks.map(tk))
        const afterT = after.tasks.map(tk)
        // an old worker gains nothing and keeps at least what a balanced share allows
        assert.isTrue(
          afterT.every((t) => beforeT.has(t)),
          "no task moves to an old worker"
        )
        assert.isTrue(after.connectors.every((c) => before.connectors.includes(c)))
        assert.isAtLeast(after.tasks.length, Math.min(before.tasks.length, Math.floor(totalTasks / (n + 1))))
        assert.isAtLeast(after.connectors.length, Math.min(before.connectors.length, Math.floor(total / (n + 1))))
      }
    }
  )

  it.prop(
    "when a worker leaves (no delay), the others keep all they had and share its work",
    [config, fc.integer({ min: 2, max: 5 }), fc.nat(4)],
    ([tasks, n, gone]) => {
      const configured = configuredOf(tasks)
      const start = converge(emptyOwned(members(n)), configured, Assignor.initialState)
      const leaver = `w${gone % n}`
      const rest = new Map(start.owned)
      rest.delete(leaver)
      const out = Assignor.assign({ now: 0, maxDelayMs: 0, members: rest, configured }, start.state)
      for (const a of out.assignments.values()) assert.deepStrictEqual(a.revoked, CP.emptyLoad)
      const end = apply(rest, out)
      checkComplete(end, configured)
      checkBalanced(end)
    }
  )

  it("holds a departed worker's work for scheduled.rebalance.max.delay.ms and gives it back to a worker that returns", () => {
    const configured = configuredOf([2, 2, 2])
    const start = converge(emptyOwned(["a", "b", "c"]), configured, Assignor.initialState)
    const cWork = start.owned.get("c")!
    const ab = new Map(start.owned)
    ab.delete("c")
    const r1 = Assignor.assign({ now: 1000, maxDelayMs: 300_000, members: ab, configured }, start.state)
    assert.strictEqual(r1.delay, 300_000)
    for (const a of r1.assignments.values()) {
      assert.deepStrictEqual(a.assigned, CP.emptyLoad)
      assert.deepStrictEqual(a.revoked, CP.emptyLoad)
    }
    // a rebalance within the delay (e.g. a config change) still holds it, with the remaining delay
    const r2 = Assignor.assign({ now: 101_000, maxDelayMs: 300_000, members: apply(ab, r1), configured }, r1.state)
    assert.strictEqual(r2.delay, 200_000)
    // the worker comes back (a new member id, nothing running): it gets exactly its work back
    const back = new Map(apply(ab, r2)).set("c2", CP.emptyLoad)
    const r3 = Assignor.assign({ now: 201_000, maxDelayMs: 300_000, members: back, configured }, r2.state)
    assert.strictEqual(r3.delay, 0)
    assert.deepStrictEqual(r3.assignments.get("c2")!.assigned, cWork)
    assert.deepStrictEqual(r3.assignments.get("a")!.assigned, CP.emptyLoad)
    checkComplete(apply(back, r3), configured)
  })

  it("releases held work to the remaining workers when the delay expires", () => {
    const configured = configuredOf([1, 1, 1])
    const start = converge(emptyOwned(["a", "b", "c"]), configured, Assignor.initialState)
    const ab = new Map(start.owned)
    ab.delete("c")
    const r1 = Assignor.assign({ now: 0, maxDelayMs: 5000, members: ab, configured }, start.state)
    assert.strictEqual(r1.delay, 5000)
    const r2 = Assignor.assign({ now: 5000, maxDelayMs: 5000, members: apply(ab, r1), configured }, r1.state)
    assert.strictEqual(r2.delay, 0)
    const end = apply(apply(ab, r1), r2)
    checkComplete(end, configured)
    checkBalanced(end)
    assert.deepStrictEqual(r2.state.held, CP.emptyLoad)
  })

  it("revokes deleted connectors and tasks, and duplicates from all but one worker", () => {
    const configured = configuredOf([1])
    const owned: Owned = new Map([
      ["a", { connectors: ["c0", "gone"], tasks: [{ connector: "c0", task: 0 }] }],
      ["b", { connectors: ["c0"], tasks: [{ connector: "gone", task: 3 }] }]
    ])
    const out = Assignor.assign({ now: 0, maxDelayMs: 0, members: owned, configured }, Assignor.initialState)
    assert.deepStrictEqual(out.assignments.get("a")!.revoked, { connectors: ["gone"], tasks: [] })
    assert.deepStrictEqual(out.assignments.get("b")!.revoked, {
      connectors: ["c0"],
      tasks: [{ connector: "gone", task: 3 }]
    })
  })
})

describe("ConnectProtocol", () => {
  it("encodes metadata and assignments in Kafka's layout and reads them back", () => {
    const assignment: CP.ConnectAssignment = {
      version: 2,
      error: 0,
      leader: "m-1",
      leaderUrl: "http://a:8083/",
      configOffset: 12,
      assigned: { connectors: ["src"], tasks: [{ connector: "src", task: 0 }] },
      revoked: { connectors: [], tasks: [{ connector: "snk", task: 1 }] },
      delay: 300
    }
    const bytes = CP.encodeAssignment(assignment)
    // version 2, error 0, "m-1", "http://a:8083/", offset 12, [src: -1, 0], [snk: 1], 300
    const hex = Buffer.from(bytes).toString("hex")
    assert.strictEqual(
      hex,
      [
        "0002",
        "0000",
        "0003",
        Buffer.from("m-1").toString("hex"),
        "000e",
        Buffer.from("http://a:8083/").toString("hex"),
        "000000000000000c",
        "00000001",
        "0003",
        Buffer.from("src").toString("hex"),
        "00000002",
        "ffffffff",
        "00000000",
        "00000001",
        "0003",
        Buffer.from("snk").toString("hex"),
        "00000001",
        "00000001",
        "0000012c"
      ].join("")
    )
    assert.deepStrictEqual(CP.decodeAssignment(bytes), assignment)
    const metadata: CP.WorkerMetadata = { version: 2, url: "http://a:8083/", configOffset: 7, allocation: assignment }
    assert.deepStrictEqual(CP.decodeMetadata(CP.encodeMetadata(metadata)), metadata)
    const fresh: CP.WorkerMetadata = { version: 1, url: "http://b:8083/", configOffset: -1, allocation: null }
    const freshBytes = CP.encodeMetadata(fresh)
    assert.strictEqual(Buffer.from(freshBytes.subarray(freshBytes.length - 4)).toString("hex"), "ffffffff")
    assert.deepStrictEqual(CP.decodeMetadata(freshBytes), fresh)
    assert.throws(() => CP.decodeAssignment(new Uint8Array([0, 1, 0])))
  })
})
