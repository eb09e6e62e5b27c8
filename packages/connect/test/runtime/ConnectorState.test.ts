import { assert, describe, it } from "@effect/vitest"
import * as CS from "../../src/runtime/ConnectorState.js"

const { Action, Command } = CS

const run = (commands: ReadonlyArray<CS.Command>, target: CS.TargetState = "STARTED") => {
  let { state, actions } = CS.initial(target)
  const all: Array<CS.Action> = [...actions]
  for (const c of commands) {
    const s = CS.step(state, c)
    state = s.state
    all.push(...s.actions)
  }
  return { state, actions: all }
}

const states = (s: CS.ConnectorState) => [s.connector.state, ...s.tasks.map((t) => t.state)]

describe("ConnectorState.step", () => {
  it("starts the connector, then its tasks", () => {
    const r = run([Command.ConnectorStarted({ taskCount: 2, configsChanged: true }), Command.TaskStarted({ id: 0 })])
    assert.deepStrictEqual(states(r.state), ["RUNNING", "RUNNING", "UNASSIGNED"])
    assert.deepStrictEqual(r.actions, [
      Action.StartConnector(),
      Action.StartTask({ id: 0 }),
      Action.StartTask({ id: 1 })
    ])
  })

  it("pause stops tasks and keeps the connector; resume starts them again; targets are persisted", () => {
    const started = [Command.ConnectorStarted({ taskCount: 1, configsChanged: true }), Command.TaskStarted({ id: 0 })]
    const paused = run([...started, Command.SetTarget({ target: "PAUSED" })])
    assert.deepStrictEqual(states(paused.state), ["PAUSED", "PAUSED"])
    assert.deepStrictEqual(paused.actions.slice(-2), [
      Action.StopTask({ id: 0 }),
      Action.PersistTarget({ target: "PAUSED" })
    ])
    const resumed = CS.step(paused.state, Command.SetTarget({ target: "STARTED" }))
    assert.deepStrictEqual(states(resumed.state), ["RUNNING", "UNASSIGNED"])
    assert.deepStrictEqual(resumed.actions, [Action.PersistTarget({ target: "STARTED" }), Action.StartTask({ id: 0 })])
  })

  it("stop shuts tasks down and the connector; they vanish from the status; resume starts the connector", () => {
    const stopped = run([
      Command.ConnectorStarted({ taskCount: 2, configsChanged: true }),
      Command.SetTarget({ target: "STOPPED" })
    ])
    assert.deepStrictEqual(states(stopped.state), ["STOPPED"])
    assert.deepStrictEqual(stopped.actions.slice(-4), [
      Action.StopTask({ id: 0 }),
      Action.StopTask({ id: 1 }),
      Action.StopConnector(),
      Action.PersistTarget({ target: "STOPPED" })
    ])
    const resumed = CS.step(stopped.state, Command.SetTarget({ target: "STARTED" }))
    assert.deepStrictEqual(resumed.actions, [Action.PersistTarget({ target: "STARTED" }), Action.StartConnector()])
    assert.deepStrictEqual(CS.initial("STOPPED").actions, [])
  })

  it("a failed task keeps its trace until restarted; onlyFailed restarts only failed ones", () => {
    const failed = run([
      Command.ConnectorStarted({ taskCount: 2, configsChanged: true }),
      Command.TaskStarted({ id: 0 }),
      Command.TaskStarted({ id: 1 }),
      Command.TaskFailed({ id: 1, trace: "boom" })
    ])
    assert.deepStrictEqual(failed.state.tasks[1], { state: "FAILED", trace: "boom" })
    const restarted = CS.step(failed.state, Command.Restart({ includeTasks: true, onlyFailed: true }))
    assert.deepStrictEqual(states(restarted.state), ["RUNNING", "RUNNING", "RESTARTING"])
    assert.deepStrictEqual(restarted.actions, [Action.StopTask({ id: 1 }), Action.StartTask({ id: 1 })])
    const all = CS.step(failed.state, Command.Restart({ includeTasks: true, onlyFailed: false }))
    assert.deepStrictEqual(states(all.state), ["RESTARTING", "RESTARTING", "RESTARTING"])
  })

  it("a connector restart keeps running tasks unless their configs changed", () => {
    const base = run([
      Command.ConnectorStarted({ taskCount: 2, configsChanged: true }),
      Command.TaskStarted({ id: 0 }),
      Command.TaskStarted({ id: 1 })
    ])
    const same = CS.step(base.state, Command.ConnectorStarted({ taskCount: 1, configsChanged: false }))
    assert.deepStrictEqual(same.actions, [Action.StopTask({ id: 1 })])
    assert.deepStrictEqual(states(same.state), ["RUNNING", "RUNNING"])
    const changed = CS.step(base.state, Command.ConnectorStarted({ taskCount: 1, configsChanged: true }))
    assert.deepStrictEqual(changed.actions, [
      Action.StopTask({ id: 0 }),
      Action.StartTask({ id: 0 }),
      Action.StopTask({ id: 1 })
    ])
  })

  it("a failed connector is FAILED with its trace; tasks of a paused connector start paused", () => {
    const failed = run([Command.ConnectorFailed({ trace: "bad config" })])
    assert.deepStrictEqual(failed.state.connector, { state: "FAILED", trace: "bad config" })
    const paused = run([Command.ConnectorStarted({ taskCount: 1, configsChanged: true })], "PAUSED")
    assert.deepStrictEqual(states(paused.state), ["PAUSED", "PAUSED"])
  })
})
