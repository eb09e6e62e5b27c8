/**
 * Standby tasks (Kafka Streams' `StandbyTask`, `num.standby.replicas`, and KIP-441's warm-up replicas): a
 * standby opens the stores of a task another instance runs and tails their changelog partitions into them,
 * without processing anything, so that a fail-over to this instance restores only the changelogs' tail.
 *
 * Invariants: a standby only ever writes changelog records into its stores (never to a changelog or a
 * topic); its position per changelog partition is the next offset to apply, and a batch is applied only if
 * the position did not change while it was fetched (a fetch runs outside the thread's lock); a standby's
 * checkpoint (persistent stores) holds its positions after its stores were flushed, so the task's next
 * owner on this instance, active or standby, resumes from there; a standby is closed before an active task
 * of the same id opens on this thread. A promoted standby hands its in-memory key-value stores, open and
 * with their positions, to that active task (which restores only from there), and closes everything else.
 */
import type * as Fetcher from "@eddy/core/client/Fetcher"
import * as Topic from "@eddy/core/client/Topic"
import { Effect } from "effect"
import type { KeyValueBytesStore } from "../../state/KeyValueStore.js"
import type { Task } from "../task/Task.js"
import * as Checkpoints from "./checkpoints.js"

/** A standby task and how far it got. */
export interface Standby {
  readonly id: string
  readonly task: Task
  readonly taskDir: string
  /** Next changelog offset to apply per `topic:partition` (absent: from the changelog's start). */
  readonly positions: Map<string, number>
  /** The changelogs' end per `topic:partition` as of the last fetch. */
  readonly ends: Map<string, number>
}

/** Opens a standby of `task` from its checkpoint offsets. */
export const make = (id: string, task: Task, taskDir: string, checkpoint: Checkpoints.Offsets): Standby => {
  const positions = new Map<string, number>()
  for (const l of task.logged) {
    const k = Checkpoints.key(l.topic, l.partition)
    const offset = checkpoint.get(k)
    // an in-memory store starts empty: it restores from the start whatever a checkpoint says
    if (offset !== undefined && l.store.inner.persistent) positions.set(k, offset)
  }
  return { id, task, taskDir, positions, ends: new Map() }
}

/** Sum of the standby's changelog positions (its task offset sum), undefined while one is unknown. */
export const offsetSum = (s: Standby): number | undefined => {
  let sum = 0
  for (const l of s.task.logged) {
    const p = s.positions.get(Checkpoints.key(l.topic, l.partition))
    if (p === undefined) return undefined
    sum += p
  }
  return sum
}

/** The lag of each store partition of the standby. */
export const lags = (s: Standby) =>
  s.task.logged.map((l) => {
    const k = Checkpoints.key(l.topic, l.partition)
    const position = s.positions.get(k) ?? 0
    const end = Math.max(s.ends.get(k) ?? position, position)
    return { store: l.store.name, partition: l.partition, position, end, lag: end - position }
  })

/** A fetched batch of one changelog topic and the positions it was fetched from. */
interface Round {
  readonly topic: string
  readonly from: ReadonlyMap<number, number>
  readonly round: Fetcher.FetchRound<Uint8Array | null, Uint8Array | null>
}

/**
 * One fetch round for every changelog partition of `standbys` (outside the thread's lock; at most
 * `fetch.max.wait.ms` when nothing is new); apply the result with {@link apply}.
 */
export const fetch = (fetcher: Fetcher.Fetcher, standbys: ReadonlyArray<Standby>) =>
  Effect.gen(function* () {
    const byTopic = new Map<string, Map<number, number>>()
    const unknown = new Map<string, Array<number>>()
    for (const s of standbys) {
      for (const l of s.task.logged) {
        const p = s.positions.get(Checkpoints.key(l.topic, l.partition))
        if (p === undefined) unknown.set(l.topic, [...(unknown.get(l.topic) ?? []), l.partition])
        else byTopic.set(l.topic, (byTopic.get(l.topic) ?? new Map()).set(l.partition, p))
      }
    }
    // positions never set start at the changelog's start
    for (const [topic, partitions] of unknown) {
      const starts = yield* fetcher.resolveOffsets(
        topic,
        partitions.map((partition) => ({ partition, offset: "earliest" as const }))
      )
      const m = byTopic.get(topic) ?? new Map<number, number>()
      for (const [partition, offset] of starts) m.set(partition, offset)
      byTopic.set(topic, m)
    }
    return yield* Effect.forEach(
      [...byTopic],
      ([topic, from]) =>
        Effect.map(fetcher.fetchOnce(Topic.raw(topic), from), (round): Round => ({ topic, from, round })),
      { concurrency: "unbounded" }
    )
  })

/** Applies fetched rounds to the standbys still open at the positions they were fetched from; returns the count. */
export const apply = (standbys: ReadonlyMap<string, Standby>, rounds: ReadonlyArray<Round>): number => {
  const owner = new Map<string, Standby>()
  for (const s of standbys.values()) {
    for (const l of s.task.logged) owner.set(Checkpoints.key(l.topic, l.partition), s)
  }
  let applied = 0
  for (const { topic, from, round } of rounds) {
    const touched = new Set<Standby>()
    for (const [partition, start] of from) {
      const k = Checkpoints.key(topic, partition)
      const s = owner.get(k)
      if (s === undefined) continue
      const hw = round.highWatermarks.get(partition)
      if (hw !== undefined) s.ends.set(k, hw)
      if ((s.positions.get(k) ?? start) !== start) continue
      const store = s.task.logged.find((l) => l.topic === topic && l.partition === partition)?.store
      if (store === undefined) continue
      const next = round.positions.get(partition) ?? start
      for (const r of round.records) {
        if (r.partition !== partition) continue
        if (r.key !== null) store.restore(r.key, r.value, r.timestamp)
        applied++
      }
      s.positions.set(k, next)
      touched.add(s)
    }
    // a persistent store keeps writes in memory until flushed: one durable transaction per round
    for (const s of touched) s.task.flushStores()
  }
  return applied
}

/** Flushes the standby's stores and writes its checkpoint at its positions (persistent stores only). */
export const checkpoint = (s: Standby): Effect.Effect<void> =>
  Effect.suspend(() => {
    s.task.flushStores()
    return Checkpoints.write(s.taskDir, s.task, s.positions)
  })

/** Checkpoints and closes the standby. */
export const close = (s: Standby): Effect.Effect<void> =>
  Effect.zipRight(
    checkpoint(s),
    Effect.sync(() => s.task.close())
  )

/** In-memory stores a promoted standby leaves open for its active task, and their changelog positions. */
export interface Handover {
  readonly stores: ReadonlyMap<string, KeyValueBytesStore>
  /** Next changelog offset to restore per `topic:partition` of the handed-over stores. */
  readonly positions: ReadonlyMap<string, number>
}

/**
 * Checkpoints and closes a standby whose task becomes active on this instance, except its in-memory
 * key-value stores with a known position, which it hands over (Kafka's standby-to-active recycling).
 */
export const promote = (s: Standby): Effect.Effect<Handover> =>
  Effect.zipRight(
    checkpoint(s),
    Effect.sync(() => {
      const stores = new Map<string, KeyValueBytesStore>()
      const positions = new Map<string, number>()
      for (const [name, { inner, topic }] of s.task.inMemoryLoggedStores()) {
        const k = Checkpoints.key(topic, s.task.id.partition)
        const position = s.positions.get(k)
        if (position === undefined) continue
        stores.set(name, inner)
        positions.set(k, position)
      }
      s.task.close(new Set(stores.keys()))
      return { stores, positions }
    })
  )

/** Closes handed-over stores no active task took. */
export const discard = (h: Handover): void => {
  for (const store of h.stores.values()) store.close()
}
