/**
 * Connector and task statuses of a distributed Connect cluster in `status.storage.topic` (default
 * `connect-status`, 5 partitions, compacted), in Kafka Connect's layout so every worker answers
 * `GET /connectors/{name}/status` alike:
 *
 * | key | value (JSON) |
 * | --- | --- |
 * | `status-connector-<name>` | `{"state": ..., "trace": ...\|null, "worker_id": "host:port", "generation": n}` |
 * | `status-task-<name>-<n>` | the same |
 * | `status-topic-<topic>:connector-<name>` | `{"topic": {"name", "connector", "task", "discoverTimestamp"}}` |
 *
 * A tombstone removes an entry. As Kafka does, a write is skipped when the entry was last written by another
 * worker in a newer generation (a late report of a worker that lost the connector or task).
 *
 * Invariants: the maps change only by reading the topic (one fiber); readers catch up first (`readToEnd`).
 */
import { Clock, Effect, type Scope } from "effect"
import { clientProps } from "./ClientProps.js"
import type { State } from "./ConnectorState.js"
import * as KafkaBasedLog from "./KafkaBasedLog.js"
import { intSetting } from "./OffsetStore.js"

/** Kafka Connect's defaults of the status topic. */
export const topicDefaults = {
  "status.storage.topic": "connect-status",
  "status.storage.partitions": 5,
  "status.storage.replication.factor": 3
} as const

/** One connector's or task's status record. */
export interface StatusRecord {
  readonly state: State
  readonly trace: string | null
  readonly worker_id: string
  readonly generation: number
}

/** What a connector's statuses are. */
export interface ConnectorStatuses {
  readonly connector: StatusRecord | null
  readonly tasks: ReadonlyMap<number, StatusRecord>
}

/** The status store. */
export interface StatusStore {
  readonly topic: string
  readonly putConnector: (name: string, status: StatusRecord) => Effect.Effect<void, KafkaBasedLog.KafkaBasedLogError>
  readonly putTask: (
    name: string,
    task: number,
    status: StatusRecord
  ) => Effect.Effect<void, KafkaBasedLog.KafkaBasedLogError>
  /** Tombstones a task's status (a connector that now has fewer tasks). */
  readonly removeTask: (name: string, task: number) => Effect.Effect<void, KafkaBasedLog.KafkaBasedLogError>
  /** Tombstones a connector's status, its tasks' and its topics'. */
  readonly removeConnector: (name: string) => Effect.Effect<void, KafkaBasedLog.KafkaBasedLogError>
  /** Records that a connector used a topic (`GET /connectors/{name}/topics`). */
  readonly putTopic: (
    name: string,
    topic: string,
    task: number
  ) => Effect.Effect<void, KafkaBasedLog.KafkaBasedLogError>
  readonly resetTopics: (name: string) => Effect.Effect<void, KafkaBasedLog.KafkaBasedLogError>
  /** A connector's statuses after catching up with the topic. */
  readonly get: (name: string) => Effect.Effect<ConnectorStatuses, KafkaBasedLog.KafkaBasedLogError>
  /** Topics a connector used, after catching up. */
  readonly topics: (name: string) => Effect.Effect<ReadonlyArray<string>, KafkaBasedLog.KafkaBasedLogError>
  readonly readToEnd: Effect.Effect<void, KafkaBasedLog.KafkaBasedLogError>
}

/** The record key of a connector's status. */
export const connectorKey = (name: string) => `status-connector-${name}`
/** The record key of a task's status. */
export const taskKey = (name: string, task: number) => `status-task-${name}-${task}`
/** The record key of a topic a connector used. */
export const topicKey = (topic: string, name: string) => `status-topic-${topic}:connector-${name}`

const utf8 = new TextDecoder()
const encoder = new TextEncoder()
const STATES: ReadonlySet<string> = new Set(["UNASSIGNED", "RUNNING", "PAUSED", "STOPPED", "FAILED", "RESTARTING"])

/** Parses a status value; null for a tombstone or a value it does not understand. */
export const parseStatus = (bytes: Uint8Array | null): StatusRecord | null => {
  if (bytes === null) return null
  try {
    const v = JSON.parse(utf8.decode(bytes)) as Record<string, unknown>
    if (typeof v.state !== "string" || !STATES.has(v.state) || typeof v.worker_id !== "string") return null
    return {
      state: v.state as State,
      trace: typeof v.trace === "string" ? v.trace : null,
      worker_id: v.worker_id,
      generation: typeof v.generation === "number" ? v.generation : 0
    }
  } catch {
    return null
  }
}

/** Whether `next` may replace `old`: same worker, or a generation at least as new (Kafka's rule). */
export const canWrite = (old: StatusRecord | undefined, next: StatusRecord) =>
  old === undefined || old.worker_id === next.worker_id || next.generation >= old.generation

/** Opens the status store on `status.storage.topic` in the current scope and reads it to the end. */
export const make = (
  workerProps: Readonly<Record<string, string>>
): Effect.Effect<StatusStore, KafkaBasedLog.KafkaBasedLogError, Scope.Scope> =>
  Effect.gen(function* () {
    const connectors = new Map<string, StatusRecord>()
    const tasks = new Map<string, Map<number, StatusRecord>>()
    const topics = new Map<string, Set<string>>()
    const onRecord = (keyBytes: Uint8Array | null, value: Uint8Array | null) => {
      if (keyBytes === null) return
      const key = utf8.decode(keyBytes)
      if (key.startsWith("status-connector-")) {
        const name = key.slice("status-connector-".length)
        const status = parseStatus(value)
        if (status === null) connectors.delete(name)
        else connectors.set(name, status)
      } else if (key.startsWith("status-task-")) {
        const rest = key.slice("status-task-".length)
        const dash = rest.lastIndexOf("-")
        const id = Number(rest.slice(dash + 1))
        if (dash <= 0 || !Number.isInteger(id)) return
        const name = rest.slice(0, dash)
        const status = parseStatus(value)
        const m = tasks.get(name) ?? new Map<number, StatusRecord>()
        if (status === null) m.delete(id)
        else m.set(id, status)
        tasks.set(name, m)
      } else if (key.startsWith("status-topic-")) {
        const rest = key.slice("status-topic-".length)
        const at = rest.lastIndexOf(":connector-")
        if (at < 0) return
        const topic = rest.slice(0, at)
        const name = rest.slice(at + ":connector-".length)
        const set = topics.get(name) ?? new Set<string>()
        if (value === null) set.delete(topic)
        else set.add(topic)
        topics.set(name, set)
      }
    }
    const log = yield* KafkaBasedLog.make(
      {
        topic: workerProps["status.storage.topic"] ?? topicDefaults["status.storage.topic"],
        partitions: intSetting(workerProps, "status.storage.partitions", topicDefaults["status.storage.partitions"]),
        replicationFactor: intSetting(
          workerProps,
          "status.storage.replication.factor",
          topicDefaults["status.storage.replication.factor"]
        ),
        adminProps: clientProps("admin", workerProps, {}),
        producerProps: clientProps("producer", workerProps, {}),
        consumerProps: clientProps("consumer", workerProps, {})
      },
      (record) => Effect.sync(() => onRecord(record.key, record.value))
    )
    const send = (key: string, value: unknown) =>
      Effect.asVoid(log.send(encoder.encode(key), value === null ? null : encoder.encode(JSON.stringify(value))))
    const statusValue = (s: StatusRecord) => ({
      state: s.state,
      trace: s.trace,
      worker_id: s.worker_id,
      generation: s.generation
    })
    return {
      topic: log.topic,
      putConnector: (name, status) =>
        canWrite(connectors.get(name), status) ? send(connectorKey(name), statusValue(status)) : Effect.void,
      putTask: (name, task, status) =>
        canWrite(tasks.get(name)?.get(task), status) ? send(taskKey(name, task), statusValue(status)) : Effect.void,
      removeTask: (name, task) => send(taskKey(name, task), null),
      removeConnector: (name) =>
        Effect.gen(function* () {
          yield* log.readToEnd
          yield* send(connectorKey(name), null)
          for (const id of tasks.get(name)?.keys() ?? []) yield* send(taskKey(name, id), null)
          for (const topic of topics.get(name) ?? []) yield* send(topicKey(topic, name), null)
        }),
      putTopic: (name, topic, task) =>
        topics.get(name)?.has(topic)
          ? Effect.void
          : Effect.flatMap(Clock.currentTimeMillis, (discoverTimestamp) =>
              send(topicKey(topic, name), { topic: { name: topic, connector: name, task, discoverTimestamp } })
            ),
      resetTopics: (name) =>
        Effect.gen(function* () {
          yield* log.readToEnd
          for (const topic of topics.get(name) ?? []) yield* send(topicKey(topic, name), null)
          yield* log.readToEnd
        }),
      get: (name) =>
        Effect.zipRight(
          log.readToEnd,
          Effect.sync(() => ({ connector: connectors.get(name) ?? null, tasks: new Map(tasks.get(name) ?? []) }))
        ),
      topics: (name) =>
        Effect.zipRight(
          log.readToEnd,
          Effect.sync(() => [...(topics.get(name) ?? [])].sort())
        ),
      readToEnd: log.readToEnd
    }
  })
