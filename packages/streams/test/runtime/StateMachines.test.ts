import { assert, describe, it } from "@effect/vitest"
import * as AppState from "../../src/internal/runtime/appState.js"
import * as TaskState from "../../src/internal/runtime/taskState.js"

const run = (events: ReadonlyArray<AppState.Event>) => {
  let model = AppState.initial
  const changes: Array<AppState.State> = []
  for (const e of events) {
    const next = AppState.step(model, e)
    model = next.model
    if (next.changed !== undefined) changes.push(next.changed)
  }
  return { model, changes }
}

describe("application state", () => {
  it("start, every thread running, a rebalance, close", () => {
    const { changes, model } = run([
      { _tag: "Start", threads: 2 },
      { _tag: "ThreadRunning", thread: 0 },
      { _tag: "ThreadRunning", thread: 1 },
      { _tag: "ThreadRebalancing", thread: 1 },
      { _tag: "ThreadRunning", thread: 1 },
      { _tag: "Close" },
      { _tag: "Closed" }
    ])
    assert.deepStrictEqual(changes, [
      "REBALANCING",
      "RUNNING",
      "REBALANCING",
      "RUNNING",
      "PENDING_SHUTDOWN",
      "NOT_RUNNING"
    ])
    assert.strictEqual(model.state, "NOT_RUNNING")
  })

  it("a dead thread no longer holds the application in REBALANCING; errors end in ERROR", () => {
    const { changes } = run([
      { _tag: "Start", threads: 2 },
      { _tag: "ThreadRunning", thread: 0 },
      { _tag: "ThreadDied", thread: 1 },
      { _tag: "Fail" },
      { _tag: "ThreadRunning", thread: 0 },
      { _tag: "Failed" },
      { _tag: "Close" }
    ])
    assert.deepStrictEqual(changes, ["REBALANCING", "RUNNING", "PENDING_ERROR", "ERROR"])
  })

  it("only Kafka's transitions", () => {
    assert.isTrue(AppState.isValidTransition("CREATED", "PENDING_SHUTDOWN"))
    assert.isFalse(AppState.isValidTransition("CREATED", "RUNNING"))
    assert.isFalse(AppState.isValidTransition("NOT_RUNNING", "REBALANCING"))
    assert.isFalse(AppState.isValidTransition("ERROR", "RUNNING"))
    const { changes } = run([{ _tag: "Close" }, { _tag: "Start", threads: 1 }, { _tag: "Closed" }])
    assert.deepStrictEqual(changes, ["PENDING_SHUTDOWN", "NOT_RUNNING"])
  })
})

describe("task lifecycle", () => {
  const walk = (events: ReadonlyArray<TaskState.TaskEvent>) => {
    let state: TaskState.TaskState = "CREATED"
    const actions: Array<TaskState.Action> = []
    for (const e of events) {
      const next = TaskState.step(state, e)
      state = next.state
      actions.push(...next.actions)
    }
    return { state, actions }
  }

  it("restore before running; commit before suspending; a reassigned task resumes without a restore", () => {
    assert.deepStrictEqual(walk(["assigned", "restored", "revoked", "reassigned"]), {
      state: "RUNNING",
      actions: ["restore", "commit"]
    })
  })

  it("a suspended task not reassigned closes clean; a corrupted one closes dirty", () => {
    assert.deepStrictEqual(walk(["assigned", "restored", "revoked", "unassigned"]), {
      state: "CLOSED",
      actions: ["restore", "commit", "closeClean"]
    })
    assert.deepStrictEqual(walk(["assigned", "restored", "corrupted", "revoked"]), {
      state: "CLOSED",
      actions: ["restore", "closeDirty"]
    })
  })
})
