/**
 * The distributed worker's connector configs, task configs and target states in `config.storage.topic`
 * (default `connect-configs`, one partition, compacted), in Kafka Connect's record layout so a Kafka Connect
 * cluster and Eddy read each other's topic:
 *
 * | key | value (JSON) |
 * | --- | --- |
 * | `connector-<name>` | `{"properties": {...}}`; a tombstone deletes the connector |
 * | `task-<name>-<n>` | `{"properties": {...}}` (held back until the commit record) |
 * | `commit-<name>` | `{"tasks": <count>}`: the task configs written before it become the connector's tasks |
 * | `target-state-<name>` | `{"state": "STARTED"\|"PAUSED", "state.v2": "STARTED"\|"PAUSED"\|"STOPPED"}` |
 * | `restart-connector-<name>` | `{"include-tasks": bool, "only-failed": bool}` |
 *
 * Invariants: the snapshot changes only by reading the topic (one fiber), so every worker applies the same
 * records in the same order; task configs take effect only at their commit record, and only when all `n`
 * were read (otherwise the connector is inconsistent until the next commit); `offset` is the next offset of
 * the topic after the last record applied.
 */
import { Data, Effect, PubSub, type Scope, SubscriptionRef } from "effect"
import type { Props } from "../plugin/Connector.js"
import { clientProps } from "./ClientProps.js"
import type { TargetState } from "./ConnectorState.js"
import * as KafkaBasedLog from "./KafkaBasedLog.js"
import { intSetting } from "./OffsetStore.js"

/** Kafka Connect's defaults of the config topic. */
export const topicDefaults = {
  "config.storage.topic": "connect-configs",
  "config.storage.replication.factor": 3
} as const

/** What the config topic says, as of `offset`. */
export interface ConfigSnapshot {
  /** The next offset of the config topic after the last record applied. */
  readonly offset: number
  readonly connectors: ReadonlyMap<string, Props>
  readonly targets: ReadonlyMap<string, TargetState>
  /** Committed task configs per connector. */
  readonly tasks: ReadonlyMap<string, ReadonlyArray<Props>>
  /** Connectors whose last commit named task configs that were not all read. */
  readonly inconsistent: ReadonlySet<string>
  /** Task-count records (`tasks-fencing-<name>`): the task count of the generation last fenced for (exactly-once sources). */
  readonly taskCounts: ReadonlyMap<string, number>
}

/** A change read from the config topic. */
export type ConfigUpdate = Data.TaggedEnum<{
  ConnectorConfig: { readonly name: string; readonly removed: boolean }
  TaskConfigs: { readonly name: string }
  TargetState: { readonly name: string; readonly target: TargetState }
  Restart: { readonly name: string; readonly includeTasks: boolean; readonly onlyFailed: boolean }
}>
/** ConfigUpdate constructors. */
export const ConfigUpdate = Data.taggedEnum<ConfigUpdate>()

/** The config store. */
export interface ConfigStore {
  readonly topic: string
  /** The snapshot after catching up with the topic. */
  readonly snapshot: Effect.Effect<ConfigSnapshot, KafkaBasedLog.KafkaBasedLogError>
  /** The snapshot as read so far (no round trip). */
  readonly current: SubscriptionRef.SubscriptionRef<ConfigSnapshot>
  /** Every change read, in topic order. */
  readonly updates: PubSub.PubSub<ConfigUpdate>
  /** Writes a connector's config, with its target state first when given (as Kafka does). */
  readonly putConnectorConfig: (
    name: string,
    config: Props,
    target?: TargetState
  ) => Effect.Effect<void, KafkaBasedLog.KafkaBasedLogError>
  /** Deletes a connector: tombstones for its config and target state. */
  readonly removeConnectorConfig: (name: string) => Effect.Effect<void, KafkaBasedLog.KafkaBasedLogError>
  /** Writes a connector's task configs, then the commit record that makes them current. */
  readonly putTaskConfigs: (
    name: string,
    configs: ReadonlyArray<Props>
  ) => Effect.Effect<void, KafkaBasedLog.KafkaBasedLogError>
  readonly putTargetState: (name: string, target: TargetState) => Effect.Effect<void, KafkaBasedLog.KafkaBasedLogError>
  readonly putRestartRequest: (
    name: string,
    includeTasks: boolean,
    onlyFailed: boolean
  ) => Effect.Effect<void, KafkaBasedLog.KafkaBasedLogError>
  /** Writes a connector's task-count record (after its previous task generation was fenced). */
  readonly putTaskCountRecord: (
    name: string,
    taskCount: number
  ) => Effect.Effect<void, KafkaBasedLog.KafkaBasedLogError>
  readonly readToEnd: Effect.Effect<void, KafkaBasedLog.KafkaBasedLogError>
}

const utf8 = new TextDecoder()
const encoder = new TextEncoder()
const json = (v: unknown) => encoder.encode(JSON.stringify(v))

/** The record key of a connector's config. */
export const connectorKey = (name: string) => `connector-${name}`
/** The record key of a connector's task config. */
export const taskKey = (name: string, task: number) => `task-${name}-${task}`
/** The record key of a connector's task-config commit. */
export const commitKey = (name: string) => `commit-${name}`
/** The record key of a connector's target state. */
export const targetStateKey = (name: string) => `target-state-${name}`
/** The record key of a restart request. */
export const restartKey = (name: string) => `restart-connector-${name}`
/** The key of a connector's task-count record (value `{"task-count": n}`). */
export const taskCountKey = (name: string) => `tasks-fencing-${name}`

/** Kafka's target-state value: `state` for old readers (which know no STOPPED), `state.v2` exact. */
export const targetStateValue = (target: TargetState) => ({
  state: target === "STOPPED" ? "PAUSED" : target,
  "state.v2": target
})

const isTarget = (s: unknown): s is TargetState => s === "STARTED" || s === "PAUSED" || s === "STOPPED"

const parseJson = (bytes: Uint8Array | null): Record<string, unknown> | null => {
  if (bytes === null) return null
  try {
    const v: unknown = JSON.parse(utf8.decode(bytes))
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null
  } catch {
    return null
  }
}

const propsOf = (value: Record<string, unknown> | null): Props | null => {
  const p = value?.properties
  if (typeof p !== "object" || p === null) return null
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(p)) if (typeof v === "string") out[k] = v
  return out
}

/** The empty snapshot. */
export const empty: ConfigSnapshot = {
  offset: 0,
  connectors: new Map(),
  targets: new Map(),
  tasks: new Map(),
  inconsistent: new Set(),
  taskCounts: new Map()
}

/** Pending task configs (read, not yet committed), per connector. */
export type Pending = Map<string, Map<number, Props>>

/**
 * Applies one config-topic record to a snapshot (pure but for `pending`, the task configs awaiting their
 * commit); returns the next snapshot and the change it made, if any.
 */
export const apply = (
  s: ConfigSnapshot,
  pending: Pending,
  key: string,
  valueBytes: Uint8Array | null,
  nextOffset: number
): { readonly snapshot: ConfigSnapshot; readonly update: ConfigUpdate | null } => {
  const value = parseJson(valueBytes)
  const at = { ...s, offset: nextOffset }
  const withMap = <K, V>(m: ReadonlyMap<K, V>, k: K, v: V | null) => {
    const next = new Map(m)
    if (v === null) next.delete(k)
    else next.set(k, v)
    return next
  }
  if (key.startsWith("connector-")) {
    const name = key.slice("connector-".length)
    const props = propsOf(value)
    if (props === null) {
      pending.delete(name)
      const inconsistent = new Set(s.inconsistent)
      inconsistent.delete(name)
      return {
        snapshot: {
          ...at,
          connectors: withMap(s.connectors, name, null),
          targets: withMap(s.targets, name, null),
          tasks: withMap(s.tasks, name, null),
          inconsistent
        },
        update: ConfigUpdate.ConnectorConfig({ name, removed: true })
      }
    }
    const targets = s.targets.has(name) ? s.targets : withMap(s.targets, name, "STARTED" as TargetState)
    return {
      snapshot: { ...at, connectors: withMap(s.connectors, name, props), targets },
      update: ConfigUpdate.ConnectorConfig({ name, removed: false })
    }
  }
  if (key.startsWith("task-")) {
    const rest = key.slice("task-".length)
    const dash = rest.lastIndexOf("-")
    const id = Number(rest.slice(dash + 1))
    const props = propsOf(value)
    if (dash <= 0 || !Number.isInteger(id) || id < 0 || props === null) return { snapshot: at, update: null }
    const name = rest.slice(0, dash)
    const forConnector = pending.get(name) ?? new Map<number, Props>()
    forConnector.set(id, props)
    pending.set(name, forConnector)
    return { snapshot: at, update: null }
  }
  if (key.startsWith("commit-")) {
    const name = key.slice("commit-".length)
    const count = value?.tasks
    if (typeof count !== "number" || !Number.isInteger(count) || count < 0) return { snapshot: at, update: null }
    const read = pending.get(name) ?? new Map<number, Props>()
    pending.delete(name)
    const configs: Array<Props> = []
    for (let i = 0; i < count; i++) {
      const c = read.get(i)
      if (c === undefined) break
      configs.push(c)
    }
    const inconsistent = new Set(s.inconsistent)
    if (configs.length < count) {
      inconsistent.add(name)
      return { snapshot: { ...at, inconsistent }, update: null }
    }
    inconsistent.delete(name)
    return {
      snapshot: { ...at, tasks: withMap(s.tasks, name, configs), inconsistent },
      update: ConfigUpdate.TaskConfigs({ name })
    }
  }
  if (key.startsWith("target-state-")) {
    const name = key.slice("target-state-".length)
    if (value === null) return { snapshot: { ...at, targets: withMap(s.targets, name, null) }, update: null }
    const target = isTarget(value["state.v2"]) ? value["state.v2"] : isTarget(value.state) ? value.state : null
    if (target === null) return { snapshot: at, update: null }
    return {
      snapshot: { ...at, targets: withMap(s.targets, name, target) },
      update: ConfigUpdate.TargetState({ name, target })
    }
  }
  if (key.startsWith("tasks-fencing-")) {
    const name = key.slice("tasks-fencing-".length)
    const count = value?.["task-count"]
    if (value === null) return { snapshot: { ...at, taskCounts: withMap(s.taskCounts, name, null) }, update: null }
    if (typeof count !== "number" || !Number.isInteger(count) || count < 0) return { snapshot: at, update: null }
    return { snapshot: { ...at, taskCounts: withMap(s.taskCounts, name, count) }, update: null }
  }
  if (key.startsWith("restart-connector-") && value !== null) {
    const name = key.slice("restart-connector-".length)
    return {
      snapshot: at,
      update: ConfigUpdate.Restart({
        name,
        includeTasks: value["include-tasks"] === true,
        onlyFailed: value["only-failed"] === true
      })
    }
  }
  return { snapshot: at, update: null }
}

/** Opens the config store on `config.storage.topic` in the current scope and reads it to the end. */
export const make = (
  workerProps: Readonly<Record<string, string>>
): Effect.Effect<ConfigStore, KafkaBasedLog.KafkaBasedLogError, Scope.Scope> =>
  Effect.gen(function* () {
    const current = yield* SubscriptionRef.make(empty)
    const updates = yield* PubSub.unbounded<ConfigUpdate>()
    const pending: Pending = new Map()
    const log = yield* KafkaBasedLog.make(
      {
        topic: workerProps["config.storage.topic"] ?? topicDefaults["config.storage.topic"],
        partitions: 1,
        replicationFactor: intSetting(
          workerProps,
          "config.storage.replication.factor",
          topicDefaults["config.storage.replication.factor"]
        ),
        adminProps: clientProps("admin", workerProps, {}),
        producerProps: clientProps("producer", workerProps, {}),
        consumerProps: clientProps("consumer", workerProps, {})
      },
      (record) =>
        Effect.gen(function* () {
          if (record.key === null) return
          const before = yield* SubscriptionRef.get(current)
          const { snapshot, update } = apply(before, pending, utf8.decode(record.key), record.value, record.offset + 1)
          yield* SubscriptionRef.set(current, snapshot)
          if (update) yield* PubSub.publish(updates, update)
        })
    )
    const send = (key: string, value: unknown) =>
      Effect.asVoid(log.send(encoder.encode(key), value === null ? null : json(value), 0))
    return {
      topic: log.topic,
      current,
      updates,
      snapshot: Effect.zipRight(log.readToEnd, SubscriptionRef.get(current)),
      putConnectorConfig: (name, config, target) =>
        Effect.zipRight(
          target ? send(targetStateKey(name), targetStateValue(target)) : Effect.void,
          send(connectorKey(name), { properties: config })
        ),
      removeConnectorConfig: (name) =>
        Effect.zipRight(send(connectorKey(name), null), send(targetStateKey(name), null)),
      putTaskConfigs: (name, configs) =>
        Effect.zipRight(
          Effect.forEach(configs, (c, i) => send(taskKey(name, i), { properties: c }), { discard: true }),
          send(commitKey(name), { tasks: configs.length })
        ),
      putTargetState: (name, target) => send(targetStateKey(name), targetStateValue(target)),
      putRestartRequest: (name, includeTasks, onlyFailed) =>
        send(restartKey(name), { "include-tasks": includeTasks, "only-failed": onlyFailed }),
      putTaskCountRecord: (name, taskCount) => send(taskCountKey(name), { "task-count": taskCount }),
      readToEnd: log.readToEnd
    }
  })
