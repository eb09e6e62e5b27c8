/**
 * The pure decisions of the distributed worker's herder: what the connectors and tasks configured in the
 * config topic are, what the group leader answers each member (from their JoinGroup metadata, through the
 * assignor), how a member's assignment changes, and which of its connectors and tasks to stop and start so
 * that what runs matches its assignment and the configs (a connector or task restarts when its config or
 * target state changed).
 *
 * Invariant: no effects here; time comes in as `now`.
 */

import type { Props } from "../plugin/Connector.js"
import * as Assignor from "./Assignor.js"
import type { ConfigSnapshot } from "./ConfigStore.js"
import type { TargetState } from "./ConnectorState.js"
import * as CP from "./ConnectProtocol.js"

/** Every connector and task the config topic has (tasks of committed task configs only). */
export const configuredLoad = (s: ConfigSnapshot): CP.Load => ({
  connectors: [...s.connectors.keys()],
  tasks: [...s.tasks].flatMap(([connector, list]) =>
    s.connectors.has(connector) ? list.map((_, task) => ({ connector, task })) : []
  )
})

/** A member's load after an assignment: without what was revoked, with what was assigned, each once. */
export const applyAssignment = (load: CP.Load, assigned: CP.Load, revoked: CP.Load): CP.Load => {
  const gone = new Set(revoked.connectors)
  const goneTasks = new Set(revoked.tasks.map(Assignor.taskKey))
  const connectors = [...new Set([...load.connectors.filter((c) => !gone.has(c)), ...assigned.connectors])]
  const seen = new Set<string>()
  const tasks: Array<CP.TaskId> = []
  for (const t of [...load.tasks.filter((t) => !goneTasks.has(Assignor.taskKey(t))), ...assigned.tasks]) {
    const k = Assignor.taskKey(t)
    if (!seen.has(k)) tasks.push(t)
    seen.add(k)
  }
  return { connectors, tasks }
}

/** The member's current load as the `allocation` of its metadata (null when it runs nothing). */
export const allocationOf = (
  load: CP.Load,
  version: number,
  leader: { readonly leaderId: string; readonly leaderUrl: string } | null,
  configOffset: number
): CP.ConnectAssignment | null =>
  load.connectors.length + load.tasks.length === 0
    ? null
    : {
        version,
        error: CP.NO_ERROR,
        leader: leader?.leaderId ?? "",
        leaderUrl: leader?.leaderUrl ?? "",
        configOffset,
        assigned: load,
        revoked: CP.emptyLoad,
        delay: 0
      }

/** What the leader knows when it assigns. */
export interface LeaderInput {
  readonly leaderId: string
  readonly leaderUrl: string
  readonly protocol: string
  readonly members: ReadonlyArray<{ readonly memberId: string; readonly metadata: Uint8Array }>
  readonly snapshot: ConfigSnapshot
  readonly now: number
  readonly maxDelayMs: number
}

/** The leader's SyncGroup assignments (encoded) and its memory for the next round. */
export const leaderAssignment = (
  input: LeaderInput,
  state: Assignor.AssignorState
): { readonly assignments: ReadonlyMap<string, Uint8Array>; readonly state: Assignor.AssignorState } => {
  const members = new Map<string, CP.Load>()
  for (const m of input.members) {
    let load = CP.emptyLoad
    try {
      load = CP.decodeMetadata(m.metadata).allocation?.assigned ?? CP.emptyLoad
    } catch {
      // an unreadable member runs nothing as far as the leader knows
    }
    members.set(m.memberId, load)
  }
  const out = Assignor.assign(
    { now: input.now, maxDelayMs: input.maxDelayMs, members, configured: configuredLoad(input.snapshot) },
    state
  )
  const version = input.protocol === "sessioned" ? 2 : 1
  const assignments = new Map<string, Uint8Array>()
  for (const [id, a] of out.assignments)
    assignments.set(
      id,
      CP.encodeAssignment({
        version,
        error: CP.NO_ERROR,
        leader: input.leaderId,
        leaderUrl: input.leaderUrl,
        configOffset: input.snapshot.offset,
        assigned: a.assigned,
        revoked: a.revoked,
        delay: out.delay
      })
    )
  return { assignments, state: out.state }
}

/** A connector to start here. */
export interface ConnectorStart {
  readonly name: string
  readonly fingerprint: string
  readonly config: Props
  readonly target: TargetState
}

/** A task to start here. */
export interface TaskStart {
  readonly key: string
  readonly fingerprint: string
  readonly connector: string
  readonly task: number
  readonly config: Props
  readonly props: Props
  readonly target: TargetState
}

/** What to stop (first) and start so that what runs matches the load and the configs. */
export interface Plan {
  readonly stopConnectors: ReadonlyArray<string>
  readonly stopTasks: ReadonlyArray<string>
  readonly startConnectors: ReadonlyArray<ConnectorStart>
  readonly startTasks: ReadonlyArray<TaskStart>
}

/**
 * The plan from the snapshot, the member's load and what runs (connector name or task key -> the fingerprint
 * of the config and target state it runs with).
 */
export const plan = (
  s: ConfigSnapshot,
  load: CP.Load,
  running: ReadonlyMap<string, string>,
  runningTasks: ReadonlyMap<string, string>,
  options: {
    /** Exactly-once sources: any change of a connector's task configs restarts all its tasks (they were fenced). */
    readonly restartWholeGeneration?: boolean
  } = {}
): Plan => {
  const targetOf = (name: string): TargetState => s.targets.get(name) ?? "STARTED"
  const connectors = new Map<string, ConnectorStart>()
  for (const name of load.connectors) {
    const config = s.connectors.get(name)
    if (config === undefined) continue
    const target = targetOf(name)
    connectors.set(name, { name, config, target, fingerprint: JSON.stringify([config, target]) })
  }
  const tasks = new Map<string, TaskStart>()
  for (const t of load.tasks) {
    const config = s.connectors.get(t.connector)
    const props = s.tasks.get(t.connector)?.[t.task]
    if (config === undefined || props === undefined) continue
    const target = targetOf(t.connector)
    const key = Assignor.taskKey(t)
    tasks.set(key, {
      key,
      connector: t.connector,
      task: t.task,
      config,
      props,
      target,
      fingerprint: JSON.stringify([config, options.restartWholeGeneration ? s.tasks.get(t.connector) : props, target])
    })
  }
  const stopConnectors = [...running].filter(([n, fp]) => connectors.get(n)?.fingerprint !== fp).map(([n]) => n)
  const stopTasks = [...runningTasks].filter(([k, fp]) => tasks.get(k)?.fingerprint !== fp).map(([k]) => k)
  const stoppedC = new Set(stopConnectors)
  const stoppedT = new Set(stopTasks)
  return {
    stopConnectors,
    stopTasks,
    startConnectors: [...connectors.values()].filter((c) => !running.has(c.name) || stoppedC.has(c.name)),
    startTasks: [...tasks.values()].filter((t) => !runningTasks.has(t.key) || stoppedT.has(t.key))
  }
}
