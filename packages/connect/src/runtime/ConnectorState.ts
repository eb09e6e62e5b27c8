/**
 * The states of a connector and its tasks as a pure step function: `step(state, command)` returns the next
 * state and the effects the connector's actor must run (start/stop the connector or a task, persist the
 * target state). Kafka's states: UNASSIGNED, RUNNING, PAUSED, STOPPED (connector only; its tasks vanish),
 * FAILED (with trace), RESTARTING; target states STARTED, PAUSED, STOPPED.
 *
 * Invariants: a task runs only while the target is STARTED and the connector is not STOPPED; `tasks`
 * lists exactly the task ids of the last `taskConfigs` (empty while STOPPED); every state change of a
 * task or the connector goes through `step`.
 */
import { Data } from "effect"

/** A connector's or task's state. */
export type State = "UNASSIGNED" | "RUNNING" | "PAUSED" | "STOPPED" | "FAILED" | "RESTARTING"

/** The state the user asked for (persisted). */
export type TargetState = "STARTED" | "PAUSED" | "STOPPED"

/** A state with the trace of a failure. */
export interface Status {
  readonly state: State
  readonly trace: string | null
}

/** A connector's state and its tasks'. */
export interface ConnectorState {
  readonly target: TargetState
  readonly connector: Status
  readonly tasks: ReadonlyArray<Status>
}

/** Commands of the state machine. */
export type Command = Data.TaggedEnum<{
  SetTarget: { readonly target: TargetState }
  ConnectorStarted: { readonly taskCount: number; readonly configsChanged: boolean }
  ConnectorFailed: { readonly trace: string }
  TaskStarted: { readonly id: number }
  TaskFailed: { readonly id: number; readonly trace: string }
  Restart: { readonly includeTasks: boolean; readonly onlyFailed: boolean }
  RestartTask: { readonly id: number }
}>
/** Command constructors. */
export const Command = Data.taggedEnum<Command>()

/** Effects the actor runs after a step, in order. */
export type Action = Data.TaggedEnum<{
  StartConnector: {}
  StopConnector: {}
  StartTask: { readonly id: number }
  StopTask: { readonly id: number }
  PersistTarget: { readonly target: TargetState }
}>
/** Action constructors. */
export const Action = Data.taggedEnum<Action>()

/** A step's result. */
export interface Step {
  readonly state: ConnectorState
  readonly actions: ReadonlyArray<Action>
}

const status = (state: State, trace: string | null = null): Status => ({ state, trace })

/** The state of a newly created connector with the given target (its first action is StartConnector unless STOPPED). */
export const initial = (target: TargetState): Step => ({
  state: { target, connector: status(target === "STOPPED" ? "STOPPED" : "UNASSIGNED"), tasks: [] },
  actions: target === "STOPPED" ? [] : [Action.StartConnector()]
})

const taskState = (target: TargetState): State => (target === "PAUSED" ? "PAUSED" : "UNASSIGNED")
const runningState = (target: TargetState): State => (target === "PAUSED" ? "PAUSED" : "RUNNING")
const stopAll = (tasks: ReadonlyArray<Status>) => tasks.map((_, id) => Action.StopTask({ id }))

const setTarget = (s: ConnectorState, target: TargetState): Step => {
  const persist = Action.PersistTarget({ target })
  if (target === "STOPPED") {
    const wasStopped = s.connector.state === "STOPPED"
    return {
      state: { target, connector: status("STOPPED"), tasks: [] },
      actions: [...stopAll(s.tasks), ...(wasStopped ? [] : [Action.StopConnector()]), persist]
    }
  }
  if (s.target === "STOPPED" || s.connector.state === "STOPPED")
    return {
      state: { target, connector: status("UNASSIGNED"), tasks: [] },
      actions: [persist, Action.StartConnector()]
    }
  const connector = s.connector.state === "FAILED" ? s.connector : status(runningState(target))
  if (target === "PAUSED")
    return {
      state: { target, connector, tasks: s.tasks.map((t) => (t.state === "FAILED" ? t : status("PAUSED"))) },
      actions: [...s.tasks.flatMap((t, id) => (t.state === "FAILED" ? [] : [Action.StopTask({ id })])), persist]
    }
  // resume
  return {
    state: { target, connector, tasks: s.tasks.map((t) => (t.state === "PAUSED" ? status("UNASSIGNED") : t)) },
    actions: [persist, ...s.tasks.flatMap((t, id) => (t.state === "PAUSED" ? [Action.StartTask({ id })] : []))]
  }
}

const connectorStarted = (s: ConnectorState, taskCount: number, configsChanged: boolean): Step => {
  if (s.target === "STOPPED") return { state: s, actions: [Action.StopConnector()] }
  const actions: Array<Action> = []
  const tasks: Array<Status> = []
  for (let id = 0; id < taskCount; id++) {
    const old = s.tasks[id]
    const keep =
      old !== undefined &&
      !configsChanged &&
      (old.state === "RUNNING" || old.state === "FAILED" || old.state === "PAUSED")
    if (keep) tasks.push(old)
    else {
      if (old !== undefined) actions.push(Action.StopTask({ id }))
      tasks.push(status(taskState(s.target)))
      if (s.target === "STARTED") actions.push(Action.StartTask({ id }))
    }
  }
  for (let id = taskCount; id < s.tasks.length; id++) actions.push(Action.StopTask({ id }))
  return { state: { ...s, connector: status(runningState(s.target)), tasks }, actions }
}

const restart = (s: ConnectorState, includeTasks: boolean, onlyFailed: boolean): Step => {
  if (s.connector.state === "STOPPED") return { state: s, actions: [] }
  const actions: Array<Action> = []
  let connector = s.connector
  if (!onlyFailed || s.connector.state === "FAILED") {
    connector = status("RESTARTING")
    actions.push(Action.StopConnector(), Action.StartConnector())
  }
  const tasks = s.tasks.map((t, id) => {
    if (!includeTasks || (onlyFailed && t.state !== "FAILED")) return t
    actions.push(Action.StopTask({ id }))
    if (s.target !== "STARTED") return status("PAUSED")
    actions.push(Action.StartTask({ id }))
    return status("RESTARTING")
  })
  return { state: { ...s, connector, tasks }, actions }
}

const setTask = (s: ConnectorState, id: number, t: Status): ConnectorState =>
  id < s.tasks.length ? { ...s, tasks: s.tasks.map((old, i) => (i === id ? t : old)) } : s

/** The next state and the actions for a command. */
export const step = (s: ConnectorState, command: Command): Step =>
  Command.$match(command, {
    SetTarget: ({ target }) => setTarget(s, target),
    ConnectorStarted: ({ taskCount, configsChanged }) => connectorStarted(s, taskCount, configsChanged),
    ConnectorFailed: ({ trace }) => ({
      state: s.connector.state === "STOPPED" ? s : { ...s, connector: status("FAILED", trace) },
      actions: []
    }),
    TaskStarted: ({ id }) => ({
      state:
        s.tasks[id]?.state === "RESTARTING" || s.tasks[id]?.state === "UNASSIGNED"
          ? setTask(s, id, status(runningState(s.target)))
          : s,
      actions: []
    }),
    TaskFailed: ({ id, trace }) => ({
      state: setTask(s, id, status("FAILED", trace)),
      actions: [Action.StopTask({ id })]
    }),
    Restart: ({ includeTasks, onlyFailed }) => restart(s, includeTasks, onlyFailed),
    RestartTask: ({ id }) =>
      id >= s.tasks.length || s.connector.state === "STOPPED"
        ? { state: s, actions: [] }
        : s.target === "STARTED"
          ? {
              state: setTask(s, id, status("RESTARTING")),
              actions: [Action.StopTask({ id }), Action.StartTask({ id })]
            }
          : { state: setTask(s, id, status("PAUSED")), actions: [Action.StopTask({ id })] }
  })
