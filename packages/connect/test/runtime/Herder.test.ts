import { assert, describe, it } from "@effect/vitest"
import * as Assignor from "../../src/runtime/Assignor.js"
import * as ConfigStore from "../../src/runtime/ConfigStore.js"
import * as CP from "../../src/runtime/ConnectProtocol.js"
import * as Herder from "../../src/runtime/Herder.js"

const snapshot = (over: Partial<ConfigStore.ConfigSnapshot> = {}): ConfigStore.ConfigSnapshot => ({
  ...ConfigStore.empty,
  offset: 9,
  connectors: new Map([
    ["a", { "connector.class": "X", "tasks.max": "2" }],
    ["b", { "connector.class": "Y" }]
  ]),
  targets: new Map([
    ["a", "STARTED"],
    ["b", "PAUSED"]
  ]),
  tasks: new Map([
    ["a", [{ t: "0" }, { t: "1" }]],
    ["b", [{ t: "b0" }]]
  ]),
  ...over
})

const load: CP.Load = {
  connectors: ["a", "b"],
  tasks: [
    { connector: "a", task: 0 },
    { connector: "a", task: 1 },
    { connector: "b", task: 0 }
  ]
}

describe("Herder", () => {
  it("starts what the load names, and restarts only what changed config or target state", () => {
    const s = snapshot()
    const first = Herder.plan(s, load, new Map(), new Map())
    assert.deepStrictEqual(
      first.startConnectors.map((c) => [c.name, c.target]),
      [
        ["a", "STARTED"],
        ["b", "PAUSED"]
      ]
    )
    assert.strictEqual(first.startTasks.length, 3)
    const running = new Map(first.startConnectors.map((c) => [c.name, c.fingerprint]))
    const runningTasks = new Map(first.startTasks.map((t) => [t.key, t.fingerprint]))
    const same = Herder.plan(s, load, running, runningTasks)
    assert.deepStrictEqual(same, { stopConnectors: [], stopTasks: [], startConnectors: [], startTasks: [] })

    // b resumed, a's task 1 got a new config, a's task 0 was revoked
    const next = snapshot({
      targets: new Map([
        ["a", "STARTED"],
        ["b", "STARTED"]
      ]),
      tasks: new Map([
        ["a", [{ t: "0" }, { t: "1 changed" }]],
        ["b", [{ t: "b0" }]]
      ])
    })
    const smaller = { connectors: ["a", "b"], tasks: load.tasks.slice(1) }
    const p = Herder.plan(next, smaller, running, runningTasks)
    assert.deepStrictEqual(p.stopConnectors, ["b"])
    assert.deepStrictEqual(
      p.startConnectors.map((c) => c.name),
      ["b"]
    )
    assert.deepStrictEqual(
      [...p.stopTasks].sort(),
      [
        Assignor.taskKey({ connector: "a", task: 0 }),
        Assignor.taskKey({ connector: "a", task: 1 }),
        Assignor.taskKey({ connector: "b", task: 0 })
      ].sort()
    )
    assert.deepStrictEqual(
      p.startTasks.map((t) => [t.connector, t.task, t.props.t, t.target]),
      [
        ["a", 1, "1 changed", "STARTED"],
        ["b", 0, "b0", "STARTED"]
      ]
    )
    // a deleted connector stops with its tasks
    const gone = Herder.plan(
      snapshot({ connectors: new Map([["b", { "connector.class": "Y" }]]) }),
      load,
      running,
      runningTasks
    )
    assert.deepStrictEqual(gone.stopConnectors, ["a"])
    assert.strictEqual(gone.stopTasks.length, 2)
  })

  it("the leader answers every member from their metadata, in Kafka's bytes", () => {
    const meta = (url: string, allocation: CP.Load | null) =>
      CP.encodeMetadata({
        version: 2,
        url,
        configOffset: 9,
        allocation: allocation === null ? null : Herder.allocationOf(allocation, 2, null, 9)
      })
    const { assignments, state } = Herder.leaderAssignment(
      {
        leaderId: "m1",
        leaderUrl: "http://w1:8083/",
        protocol: "sessioned",
        members: [
          { memberId: "m1", metadata: meta("http://w1:8083/", { connectors: ["a"], tasks: [] }) },
          { memberId: "m2", metadata: meta("http://w2:8083/", null) }
        ],
        snapshot: snapshot(),
        now: 0,
        maxDelayMs: 300000
      },
      Assignor.initialState
    )
    const m1 = CP.decodeAssignment(assignments.get("m1")!)
    const m2 = CP.decodeAssignment(assignments.get("m2")!)
    assert.strictEqual(m1.version, 2)
    assert.strictEqual(m1.leader, "m1")
    assert.strictEqual(m2.leaderUrl, "http://w1:8083/")
    assert.strictEqual(m2.configOffset, 9)
    assert.deepStrictEqual(m1.assigned.connectors, [], "m1 keeps a, gains no connector")
    assert.deepStrictEqual(m2.assigned.connectors, ["b"])
    assert.strictEqual(m1.assigned.tasks.length + m2.assigned.tasks.length, 3)
    assert.deepStrictEqual([...state.previous.keys()].sort(), ["m1", "m2"])
    const applied = Herder.applyAssignment({ connectors: ["a"], tasks: [] }, m1.assigned, m1.revoked)
    assert.deepStrictEqual(applied.connectors, ["a"])
  })
})
