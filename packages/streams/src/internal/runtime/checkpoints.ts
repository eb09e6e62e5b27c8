/**
 * A task's state directory at run time (Kafka Streams' `ProcessorStateManager` duties around files): reads
 * the `.checkpoint` before the task opens its stores, wipes under exactly-once the persistent stores it has
 * no clean checkpoint for, and writes or deletes the checkpoint. Checkpoint offsets are the next changelog
 * offset to restore from.
 *
 * Invariants: a checkpoint is written only after the task's stores were flushed and the changelog records
 * of their writes were acknowledged, and only for persistent logged stores (an in-memory store always
 * restores from the changelog's start); a store is wiped only while closed (before the task opens it).
 */
import { NodeFileSystem } from "@effect/platform-node"
import { Effect } from "effect"
import * as Checkpoint from "../../state/Checkpoint.js"
import * as Stores from "../../state/Stores.js"
import type { Task } from "../task/Task.js"

/** Checkpointed offsets by `topic:partition`. */
export type Offsets = ReadonlyMap<string, number>

/** The map key of a changelog partition. */
export const key = (topic: string, partition: number): string => `${topic}:${partition}`

const path = (taskDir: string) => `${taskDir}/${Checkpoint.FILE_NAME}`

/**
 * Reads the task's checkpoint (an unreadable one counts as none) and, under exactly-once, wipes every
 * logged store that has no entry in it: its files may hold writes of transactions that never committed.
 * A store checkpointed past its changelog's end (`endOf`: the changelog was deleted and made again) is
 * wiped in either mode, and its entry dropped, so it restores from the start (Kafka's corrupted task).
 */
export const prepare = <E>(
  taskDir: string,
  logged: ReadonlyArray<{ readonly store: string; readonly topic: string; readonly partition: number }>,
  eos: boolean,
  endOf: (topic: string, partition: number) => Effect.Effect<number, E>
): Effect.Effect<Offsets> =>
  Effect.gen(function* () {
    const entries = yield* Checkpoint.read(path(taskDir)).pipe(
      Effect.catchAll((e) => Effect.as(Effect.logWarning(`ignoring unreadable checkpoint ${e.path}: ${e.message}`), []))
    )
    const offsets = new Map<string, number>()
    for (const e of entries) if (e.offset >= 0) offsets.set(key(e.topic, e.partition), e.offset)
    for (const l of logged) {
      const k = key(l.topic, l.partition)
      const offset = offsets.get(k)
      if (offset !== undefined) {
        const end = yield* endOf(l.topic, l.partition).pipe(Effect.option)
        if (end._tag === "None" || offset <= end.value) continue
        yield* Effect.logWarning(`${l.store}: checkpoint ${offset} is past the end ${end.value} of ${k}; wiping it`)
        offsets.delete(k)
        yield* Stores.wipe(taskDir, l.store)
      } else if (eos) yield* Stores.wipe(taskDir, l.store)
    }
    return offsets
  }).pipe(Effect.provide(NodeFileSystem.layer), Effect.orDie)

/** Writes the task's checkpoint: `ends` holds each persistent logged store's changelog end offset. */
export const write = (taskDir: string, task: Task, ends: Offsets): Effect.Effect<void> =>
  Effect.suspend(() => {
    const entries: Array<Checkpoint.CheckpointEntry> = []
    for (const l of task.logged) {
      const offset = ends.get(key(l.topic, l.partition))
      if (l.store.inner.persistent && offset !== undefined)
        entries.push({ topic: l.topic, partition: l.partition, offset })
    }
    return entries.length === 0 ? Effect.void : Checkpoint.write(path(taskDir), entries)
  }).pipe(
    Effect.provide(NodeFileSystem.layer),
    Effect.catchAll((e) => Effect.logWarning(`cannot write checkpoint ${e.path}: ${e.message}`))
  )

/** Deletes the task's checkpoint (exactly-once: once the task starts processing, a crash must leave none). */
export const remove = (taskDir: string): Effect.Effect<void> =>
  Checkpoint.remove(path(taskDir)).pipe(
    Effect.provide(NodeFileSystem.layer),
    Effect.catchAll((e) => Effect.logWarning(`cannot delete checkpoint ${e.path}: ${e.message}`))
  )
