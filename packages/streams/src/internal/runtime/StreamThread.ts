/**
 * A stream thread: a fiber with its own group Consumer (group = application.id) and Producer, running the
 * tasks of the partitions the group assigns it. It pulls one partition's batch at a time, runs each record
 * through its task, and commits every `commit.interval.ms`: caches flush, outputs are sent and acknowledged,
 * then the input offsets commit (at_least_once) or outputs, changelog writes and offsets commit in one
 * transaction (exactly_once_v2, one transactional producer per thread, KIP-447 group metadata).
 *
 * Invariants: processing, commits and rebalance callbacks run one at a time (a one-permit semaphore); the
 * consumer never commits on its own (`commitConsumedOnRevoke: false`), so committed offsets only ever cover
 * records whose effects were sent (and, under exactly-once, committed with them); a task processes records
 * only once its stores are restored; a revoked task is committed before it is suspended; an exactly-once
 * commit that fails ends the thread with `TaskMigrated` (its tasks may be ahead of the committed offsets),
 * and the supervisor starts a fresh thread that restores them. A task's persistent stores are checkpointed
 * (flushed, then `.checkpoint` written with their changelog ends) after every commit under at_least_once and
 * only on a clean close under exactly_once_v2, whose tasks delete their checkpoint once restored: after a
 * crash there is none, and the next start wipes the stores and restores them from the changelog's start.
 * Stream-time punctuations run after each record of a task; wall-clock ones after each batch and every
 * `poll.ms` while idle, under the same semaphore; a processor's `commit()` makes the thread commit after the
 * current batch (or punctuation).
 * The group's `stream` assignor hands the thread tasks (their source partitions), standby tasks and the host
 * map; a standby of a task is closed (checkpointed at its changelog positions) before the task opens here as
 * active, so the active task restores only what the standby had not applied yet; its in-memory key-value
 * stores are handed over open (with their positions) to that active task, and discarded if none takes them.
 */

import type * as Admin from "@eddy/core/client/Admin"
import * as Consumer from "@eddy/core/client/Consumer"
import * as Fetcher from "@eddy/core/client/Fetcher"
import * as Producer from "@eddy/core/client/Producer"
import type * as Topic from "@eddy/core/client/Topic"
import { Clock, type Context, Data, Duration, Effect, Schedule, Stream } from "effect"
import { andThen } from "../../processor/internal/step.js"
import type { Step } from "../../processor/Processor.js"
import { taskIdString } from "../../processor/Processor.js"
import * as StreamsConfig from "../../StreamsConfig.js"
import type { DeserializationError, ProcessingError } from "../../StreamsError.js"
import { ProductionError } from "../../StreamsError.js"
import * as Stores from "../../state/Stores.js"
import * as Topology from "../../topology/Topology.js"
import * as Info from "../assignment/info.js"
import { checkpointedOffsetSums } from "../assignment/localState.js"
import * as StreamAssignor from "../assignment/streamAssignor.js"
import { type LocalTasks, localStoresOf } from "../query/localStores.js"
import { RecordCache } from "../store/RecordCache.js"
import { PartitionGroup } from "../task/PartitionGroup.js"
import { type OutputRecord, Task, type TaskParams } from "../task/Task.js"
import type * as AppState from "./appState.js"
import * as Checkpoints from "./checkpoints.js"
import { type RestoreListener, restoreStore } from "./restore.js"
import * as Standby from "./standby.js"
import * as TaskState from "./taskState.js"

/** An exactly-once commit failed: the thread's tasks may be ahead of the committed offsets. */
export class TaskMigrated extends Data.TaggedError("TaskMigrated")<{ readonly cause: unknown }> {}

/** What a thread gets from its application. */
export interface ThreadParams {
  readonly index: number
  readonly threads: number
  readonly processId: string
  readonly topology: Topology.Topology<unknown>
  readonly config: StreamsConfig.StreamsConfig
  readonly context: Context.Context<never>
  readonly partitions: ReadonlyMap<string, number>
  readonly admin: Admin.Admin
  readonly signal: (event: AppState.Event) => Effect.Effect<void>
  /** Reports the thread's running tasks (`<subtopology>_<partition>`) after each assignment change. */
  readonly reportTasks: (thread: number, tasks: ReadonlyArray<string>) => void
  readonly restoreListener: RestoreListener | undefined
  /** True once this instance asked the whole application to shut down (the subscription says so). */
  readonly shutdownRequested: () => boolean
  /** Runs when the group's assignment says the application shuts down. */
  readonly onShutdownRequested: Effect.Effect<void>
  /** Reports the thread's assignment (tasks and every instance's host map) after each rebalance. */
  readonly reportAssignment: (thread: number, info: Info.AssignmentInfo | undefined) => void
  /** Where interactive queries find the thread's running tasks. */
  readonly localTasks: LocalTasks
  /** The loaded global stores, for processors that read them (stream-globalTable joins). */
  readonly globalStore?: TaskParams["globalStore"]
}

interface Entry {
  readonly task: Task
  state: TaskState.TaskState
  /** `<state.dir>/<application.id>/<taskId>`. */
  readonly taskDir: string
  /** Changelog offsets the task's checkpoint held when it started. */
  readonly checkpoint: Checkpoints.Offsets
  /** Positions of the in-memory stores a promoted standby handed over (restored from there, not the start). */
  readonly handedOver: ReadonlyMap<string, number>
  /** Next offset to commit per source topic-partition key. */
  readonly offsets: Map<string, { topic: string; partition: number; offset: number }>
  /** Fetched records not processed yet, when the task reads several partitions (event-time order, idling). */
  readonly group: PartitionGroup<Topic.ConsumerRecord<Uint8Array | null, Uint8Array | null>> | undefined
}

const OUTPUT_FLUSH_RECORDS = 10_000

/** Runs the thread until it is interrupted (graceful: the consumer's close commits) or fails. */
export const run = (p: ThreadParams) =>
  Effect.gen(function* () {
    const { topology, config } = p
    const applicationId = config["application.id"]
    const eos = config["processing.guarantee"] === "exactly_once_v2"
    const commitMs = StreamsConfig.commitIntervalMs(config)
    const purgeMs = config["repartition.purge.interval.ms"] ?? StreamsConfig.defaults["repartition.purge.interval.ms"]
    const base = {
      "bootstrap.servers": config["bootstrap.servers"] ?? "localhost:9092",
      "client.id": `${config["client.id"] ?? applicationId}-StreamThread-${p.index}`
    }
    const isolation = eos ? ("read_committed" as const) : ("read_uncommitted" as const)
    const producer = yield* Producer.make({
      ...base,
      "linger.ms": 5,
      ...(eos
        ? {
            "transactional.id": `${applicationId}-${p.processId}-${p.index}`,
            "transaction.timeout.ms":
              config["transaction.timeout.ms"] ?? StreamsConfig.defaults["transaction.timeout.ms"]
          }
        : {})
    })
    const fetcher = yield* Fetcher.make({ ...base, "isolation.level": isolation })
    const lock = yield* Effect.makeSemaphore(1)
    const clock = yield* Effect.clock
    const cacheBytes = config["statestore.cache.max.bytes"] ?? StreamsConfig.defaults["statestore.cache.max.bytes"]
    const cache = cacheBytes > 0 ? new RecordCache(Math.floor(cacheBytes / p.threads)) : undefined
    const tasks = new Map<string, Entry>()
    const stateDir = StreamsConfig.stateDir(config)
    const defaultStoreType = config["default.dsl.store"] ?? StreamsConfig.defaults["default.dsl.store"]
    const maxTaskIdleMs = config["max.task.idle.ms"] ?? StreamsConfig.defaults["max.task.idle.ms"]
    // the consumer is made last (its callbacks use everything above); commits reach it through here
    const member: { consumer: Consumer.Consumer | undefined } = { consumer: undefined }
    const outputs: Array<OutputRecord> = []
    const warnings: Array<string> = []
    let lastCommit = clock.unsafeCurrentTimeMillis()
    let lastPurge = lastCommit
    const purgeable = new Map<string, { topic: string; partition: number; offset: number }>()
    const repartitionTopics = new Set(
      [...topology.internalTopics.values()]
        .filter((t) => t.kind === "repartition")
        .map((t) => Topology.resolveTopic(topology, applicationId, t.name))
    )
    const sourceTopics = topology.subtopologies.flatMap((s) =>
      s.sourceTopics.map((t) => Topology.resolveTopic(topology, applicationId, t))
    )
    const subtopologyOfTopic = new Map<string, Topology.Subtopology>()
    for (const s of topology.subtopologies) {
      for (const t of s.sourceTopics) subtopologyOfTopic.set(Topology.resolveTopic(topology, applicationId, t), s)
    }
    const taskKey = (sub: number, partition: number) => `${sub}_${partition}`
    const standbys = new Map<string, Standby.Standby>()
    /** In-memory stores of standbys promoted by the assignment being applied, by task id. */
    const handovers = new Map<string, Standby.Handover>()
    p.localTasks.registerStandbys(p.index, function* () {
      for (const s of standbys.values())
        yield { task: { id: s.id, ...localStoresOf(s.task) }, lags: () => Standby.lags(s) }
    })
    p.localTasks.register(p.index, function* () {
      for (const [id, e] of tasks) if (e.state === "RUNNING") yield { id, ...localStoresOf(e.task) }
    })

    const runStep = (step: () => Step): Effect.Effect<void, unknown> =>
      Effect.suspend(() => {
        const s = step()
        return s === undefined ? Effect.void : (Effect.provide(s, p.context) as Effect.Effect<void, unknown>)
      })

    const logWarnings = Effect.suspend(() =>
      Effect.forEach(warnings.splice(0), (w) => Effect.logWarning(w), { discard: true })
    )

    /**
     * Sends buffered outputs, one batch per topic in the order they were produced (an uncached windowed
     * aggregation interleaves changelog and output records: runs of one record each would be a send each);
     * completes when all are acknowledged.
     */
    const sendOutputs = Effect.suspend(() => {
      const batch = outputs.splice(0)
      const byTopic = new Map<string, { topic: string; records: Array<OutputRecord> }>()
      for (const r of batch) {
        const run = byTopic.get(r.topic)
        if (run !== undefined) run.records.push(r)
        else byTopic.set(r.topic, { topic: r.topic, records: [r] })
      }
      const runs = [...byTopic.values()]
      return Effect.forEach(
        runs,
        (run) =>
          producer
            .sendBatch(
              run.topic,
              run.records.map((r) => ({
                key: r.key,
                value: r.value,
                timestamp: r.timestamp,
                headers: r.headers,
                ...(r.partition === undefined ? {} : { partition: r.partition })
              }))
            )
            .pipe(
              Effect.catchAll((cause) => {
                const error = new ProductionError({
                  topic: run.topic,
                  message: `Cannot send to ${run.topic}: ${String(cause)}`,
                  cause
                })
                return StreamsConfig.respond(config["production.exception.handler"], error) === "continue" && !eos
                  ? Effect.logWarning(`${error.message} (skipped by the production exception handler)`)
                  : Effect.fail(error)
              })
            ),
        { concurrency: "unbounded", discard: true }
      )
    })

    const pendingOffsets = () => {
      const out: Array<{ topic: string; partition: number; offset: number }> = []
      for (const e of tasks.values()) {
        for (const o of e.offsets.values()) out.push(o)
        e.offsets.clear()
      }
      return out
    }

    const purge = (offsets: ReadonlyArray<{ topic: string; partition: number; offset: number }>) =>
      Effect.suspend(() => {
        for (const o of offsets) if (repartitionTopics.has(o.topic)) purgeable.set(`${o.topic}:${o.partition}`, o)
        const now = clock.unsafeCurrentTimeMillis()
        if (purgeable.size === 0 || now - lastPurge < purgeMs) return Effect.void
        lastPurge = now
        const requests = [...purgeable.values()]
        purgeable.clear()
        return p.admin
          .deleteRecords(requests)
          .pipe(Effect.catchAll((e) => Effect.logDebug(`purging repartition topics failed: ${String(e)}`)))
      })

    /** Flushes the persistent stores of `entries` and writes their checkpoints at their changelogs' ends. */
    const checkpoint = (entries: ReadonlyArray<Entry>) =>
      Effect.gen(function* () {
        const due = entries.filter((e) => e.task.hasPersistentLoggedStore)
        if (due.length === 0) return
        const byTopic = new Map<string, Set<number>>()
        for (const e of due) {
          e.task.flushStores()
          for (const l of e.task.logged) {
            const set = byTopic.get(l.topic) ?? new Set()
            byTopic.set(l.topic, set.add(l.partition))
          }
        }
        const ends = new Map<string, number>()
        for (const [topic, partitions] of byTopic) {
          const resolved = yield* fetcher.resolveOffsets(
            topic,
            [...partitions].map((partition) => ({ partition, offset: "latest" as const }))
          )
          for (const [partition, offset] of resolved) ends.set(Checkpoints.key(topic, partition), offset)
        }
        for (const e of due) yield* Checkpoints.write(e.taskDir, e.task, ends)
      }).pipe(
        Effect.catchAll((e) => Effect.logWarning(`checkpointing failed: ${String(e)}`)),
        // a close interrupting a commit must not stop a checkpoint half-written
        Effect.uninterruptible
      )

    /** Flushes every running task's caches, sends outputs and commits offsets (in a transaction under EOS). */
    const commit: Effect.Effect<void, unknown> = Effect.gen(function* () {
      for (const e of tasks.values()) if (e.state === "RUNNING") yield* runStep(() => e.task.commit())
      const offsets = pendingOffsets()
      if (eos) {
        if (outputs.length > 0 || offsets.length > 0) {
          yield* producer
            .transaction(
              Effect.gen(function* () {
                yield* sendOutputs
                if (offsets.length > 0) {
                  yield* producer.sendOffsetsToTransaction(offsets, {
                    groupId: applicationId,
                    generationId: member.consumer!.generationId(),
                    memberId: member.consumer!.memberId(),
                    groupInstanceId: null
                  })
                }
              })
            )
            .pipe(Effect.mapError((cause) => new TaskMigrated({ cause })))
        }
      } else {
        yield* sendOutputs
        if (offsets.length > 0) {
          yield* member
            .consumer!.commitOffsets(offsets)
            .pipe(
              Effect.catchAll((e) => Effect.logWarning(`commit of ${applicationId} failed (will retry): ${String(e)}`))
            )
        }
      }
      if (!eos) yield* checkpoint([...tasks.values()].filter((e) => e.state === "RUNNING" || e.state === "SUSPENDED"))
      for (const s of standbys.values()) yield* Standby.checkpoint(s)
      lastCommit = clock.unsafeCurrentTimeMillis()
      yield* purge(offsets)
    })

    const apply = (entry: Entry, event: TaskState.TaskEvent): Effect.Effect<void, unknown> =>
      Effect.gen(function* () {
        const previous = entry.state
        const next = TaskState.step(entry.state, event)
        entry.state = next.state
        for (const action of next.actions) {
          if (action === "restore") {
            for (const { store, topic, partition } of entry.task.logged) {
              const k = Checkpoints.key(topic, partition)
              const from = store.inner.persistent ? entry.checkpoint.get(k) : entry.handedOver.get(k)
              yield* restoreStore(fetcher, topic, partition, store, p.restoreListener, from)
            }
            // exactly-once: from now on the stores run ahead of any checkpoint, so a crash must leave none
            if (eos) yield* Checkpoints.remove(entry.taskDir)
            yield* apply(entry, "restored")
          } else if (action === "closeClean" || action === "closeDirty") {
            // a suspended task was committed on revocation: its stores match the changelog, checkpoint them
            if (action === "closeClean" && previous === "SUSPENDED") yield* checkpoint([entry])
            entry.task.close()
            tasks.delete(taskKey(entry.task.id.subtopology, entry.task.id.partition))
          }
        }
      })

    /** Reads the task's checkpoint (wiping stores without one under EOS), then opens the task. */
    const newTask = (sub: Topology.Subtopology, partition: number, forStandby = false) =>
      Effect.gen(function* () {
        const id = { subtopology: sub.id, partition }
        const taskDir = Stores.taskDirectory(stateDir, applicationId, taskIdString(id))
        const logged = sub.stores
          .filter((name) => topology.stores.get(name)?.loggingEnabled === true)
          .map((store) => ({
            store,
            topic: Topology.resolveTopic(topology, applicationId, Topology.changelogTopicName(store)),
            partition
          }))
        const endOf = (topic: string, partition: number) =>
          Effect.map(
            fetcher.resolveOffsets(topic, [{ partition, offset: "latest" }]),
            (ends) => ends.get(partition) ?? 0
          )
        const checkpointed = yield* Checkpoints.prepare(taskDir, logged, eos, endOf)
        const handover = forStandby ? undefined : handovers.get(taskIdString(id))
        handovers.delete(taskIdString(id))
        return makeEntry(sub, partition, taskDir, checkpointed, forStandby, handover)
      })

    const makeEntry = (
      sub: Topology.Subtopology,
      partition: number,
      taskDir: string,
      checkpointed: Checkpoints.Offsets,
      forStandby = false,
      handover?: Standby.Handover
    ): Entry => ({
      task: new Task(
        { subtopology: sub.id, partition },
        {
          taskDir,
          defaultStoreType,
          globalStore: p.globalStore,
          applicationId,
          topology,
          nodes: sub.nodes,
          stores: sub.stores,
          cache: forStandby ? undefined : cache,
          collect: (r) => void outputs.push(r),
          now: () => clock.unsafeCurrentTimeMillis(),
          partitionsOf: (t) => p.partitions.get(t),
          onDeserializationError: (e: DeserializationError) =>
            StreamsConfig.respond(config["deserialization.exception.handler"], e),
          onProcessingError: (e: ProcessingError) => StreamsConfig.respond(config["processing.exception.handler"], e),
          warn: (m) => void warnings.push(m),
          timestampExtractor: config["default.timestamp.extractor"],
          handedOver: handover?.stores
        }
      ),
      state: "CREATED",
      taskDir,
      checkpoint: checkpointed,
      handedOver: handover?.positions ?? new Map(),
      offsets: new Map(),
      group:
        sub.sourceTopics.length > 1
          ? new PartitionGroup(
              sub.sourceTopics.map((t) => `${Topology.resolveTopic(topology, applicationId, t)}:${partition}`),
              maxTaskIdleMs
            )
          : undefined
    })

    // sources reset to "latest" (Kafka's per-source AutoOffsetReset; the consumer's own reset is earliest)
    const latestTopics = new Set<string>()
    for (const n of topology.nodes.values()) {
      if (n.kind === "source" && n.offsetReset === "latest") {
        for (const t of n.topics) latestTopics.add(Topology.resolveTopic(topology, applicationId, t))
      }
    }
    /** Seeks the partitions of "latest" sources that have no committed offset to their end. */
    const applyOffsetResets = (tps: ReadonlyArray<Consumer.TopicPartition>) =>
      Effect.gen(function* () {
        const latest = tps.filter((tp) => latestTopics.has(tp.topic))
        if (latest.length === 0) return
        for (const c of yield* member.consumer!.committed(latest)) {
          if (c.offset >= 0) continue
          // the end as of the assignment (not of the first fetch), so nothing written after it is skipped
          const ends = yield* fetcher.resolveOffsets(c.topic, [{ partition: c.partition, offset: "latest" }])
          yield* member.consumer!.seek({ topic: c.topic, partition: c.partition }, ends.get(c.partition) ?? "latest")
        }
      })

    const onAssigned = (tps: ReadonlyArray<Consumer.TopicPartition>): Effect.Effect<void, unknown> =>
      Effect.gen(function* () {
        yield* applyOffsetResets(tps)
        const wanted = new Map<string, { sub: Topology.Subtopology; partition: number }>()
        for (const tp of tps) {
          const sub = subtopologyOfTopic.get(tp.topic)
          if (sub !== undefined) wanted.set(taskKey(sub.id, tp.partition), { sub, partition: tp.partition })
        }
        for (const [key, entry] of [...tasks]) if (!wanted.has(key)) yield* apply(entry, "unassigned")
        for (const [key, { sub, partition }] of wanted) {
          const existing = tasks.get(key)
          if (existing !== undefined) yield* apply(existing, "reassigned")
          else {
            const entry = yield* newTask(sub, partition)
            tasks.set(key, entry)
            yield* apply(entry, "assigned")
          }
        }
        p.reportTasks(p.index, [...tasks.keys()].sort())
        yield* p.signal({ _tag: "ThreadRunning", thread: p.index })
      })

    let probingRebalanceAt = -1
    /** The group's assignment for this thread: a shutdown request, or its tasks (and the host map). */
    const onAssignment = (
      tps: ReadonlyArray<Consumer.TopicPartition>,
      info: Info.AssignmentInfo | undefined
    ): Effect.Effect<void, unknown> =>
      Effect.gen(function* () {
        if (info?.errorCode === Info.ErrorCode.SHUTDOWN_REQUESTED) {
          p.reportTasks(p.index, [])
          return yield* p.onShutdownRequested
        }
        p.reportAssignment(p.index, info)
        probingRebalanceAt = info?.probingRebalanceAt ?? -1
        const wantedStandbys = new Set(info?.standby ?? [])
        const active = new Set(info?.active ?? [])
        // a standby closes (checkpointed) before an active task of its id opens here, handing over its
        // in-memory stores to it
        for (const [id, standby] of [...standbys]) {
          if (wantedStandbys.has(id) && !active.has(id)) continue
          standbys.delete(id)
          if (active.has(id)) handovers.set(id, yield* Standby.promote(standby))
          else yield* Standby.close(standby)
        }
        yield* Effect.ensuring(
          onAssigned(tps),
          Effect.sync(() => {
            for (const h of handovers.values()) Standby.discard(h)
            handovers.clear()
          })
        )
        for (const id of wantedStandbys) {
          if (standbys.has(id) || tasks.has(id)) continue
          const [subId, partition] = id.split("_").map(Number) as [number, number]
          const sub = topology.subtopologies.find((x) => x.id === subId)
          if (sub === undefined) continue
          const entry = yield* newTask(sub, partition, true)
          standbys.set(id, Standby.make(id, entry.task, entry.taskDir, entry.checkpoint))
        }
      })

    /** Tails the standbys' changelogs: fetches outside the lock, applies under it. */
    const standbyLoop = Effect.gen(function* () {
      for (;;) {
        const open = [...standbys.values()]
        if (open.length === 0) {
          yield* Effect.sleep(Duration.millis(100))
          continue
        }
        const rounds = yield* Standby.fetch(fetcher, open).pipe(
          Effect.catchAll((e) =>
            Effect.as(Effect.logDebug(`standby fetch failed (will retry): ${String(e)}`), [] as const)
          )
        )
        if (rounds.length === 0) yield* Effect.sleep(Duration.millis(100))
        else {
          yield* lock.withPermits(1)(
            Effect.try(() => Standby.apply(standbys, rounds)).pipe(
              Effect.catchAll((e) => Effect.logWarning(`standby update failed: ${String(e)}`))
            )
          )
        }
      }
    })

    /** This thread's subscription: the tasks it ran and the offset sums of the state it keeps. */
    const subscription = Effect.gen(function* () {
      const prevActive = [...tasks.keys()].sort()
      const prevStandby = [...standbys.keys()].sort()
      const offsetSums: Record<string, number> = yield* checkpointedOffsetSums(
        stateDir,
        applicationId,
        new Set([...prevActive, ...prevStandby])
      )
      for (const s of standbys.values()) {
        const sum = Standby.offsetSum(s)
        if (sum !== undefined) offsetSums[s.id] = sum
      }
      for (const t of prevActive) offsetSums[t] = Info.LATEST_OFFSET
      return {
        prevActive,
        prevStandby,
        offsetSums,
        errorCode: p.shutdownRequested() ? Info.ErrorCode.SHUTDOWN_REQUESTED : Info.ErrorCode.NONE
      }
    })

    const onRevoked = (tps: ReadonlyArray<Consumer.TopicPartition>): Effect.Effect<void, unknown> =>
      Effect.gen(function* () {
        yield* p.signal({ _tag: "ThreadRebalancing", thread: p.index })
        const committed = yield* Effect.either(commit)
        if (committed._tag === "Left") {
          // the tasks' state may be ahead of the committed offsets: drop it, the next owner restores
          for (const entry of [...tasks.values()]) yield* apply(entry, "corrupted")
          p.reportTasks(p.index, [])
          return yield* Effect.fail(committed.left)
        }
        const revoked = new Set(tps.map((tp) => taskKey(subtopologyOfTopic.get(tp.topic)?.id ?? -1, tp.partition)))
        for (const [key, entry] of [...tasks]) {
          if (!revoked.has(key)) continue
          // the consumer fetches revoked partitions again from the committed offsets
          entry.group?.clear()
          yield* apply(entry, "revoked")
        }
        p.reportTasks(p.index, [])
      })

    // added before the consumer, so it runs after the consumer's close revoked (committed and suspended)
    // the tasks: a clean close checkpoints them, then closes them
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        yield* checkpoint([...tasks.values()].filter((e) => e.state === "SUSPENDED"))
        for (const e of tasks.values()) e.task.close()
        tasks.clear()
        for (const s of standbys.values()) yield* Standby.close(s)
        standbys.clear()
      })
    )
    const consumer: Consumer.Consumer = yield* Consumer.make({
      ...base,
      "group.id": applicationId,
      "enable.auto.commit": false,
      commitConsumedOnRevoke: false,
      "auto.offset.reset": "earliest",
      "isolation.level": isolation,
      "fetch.max.wait.ms": config["poll.ms"] ?? StreamsConfig.defaults["poll.ms"],
      ...(config["session.timeout.ms"] === undefined ? {} : { "session.timeout.ms": config["session.timeout.ms"] }),
      ...(config["heartbeat.interval.ms"] === undefined
        ? {}
        : { "heartbeat.interval.ms": config["heartbeat.interval.ms"] }),
      ...(config["max.poll.interval.ms"] === undefined
        ? {}
        : { "max.poll.interval.ms": config["max.poll.interval.ms"] }),
      "partition.assignment.strategy": [
        StreamAssignor.make({
          topology,
          config,
          processId: p.processId,
          subscription,
          endOffsets: (topic, partitions) =>
            fetcher.resolveOffsets(
              topic,
              partitions.map((partition) => ({ partition, offset: "latest" as const }))
            ),
          onAssignment: (tps, info) =>
            lock
              .withPermits(1)(onAssignment(tps, info))
              .pipe(Effect.catchAllCause((c) => Effect.logError("task assignment failed", c)))
        })
      ],
      onPartitionsRevoked: (tps) =>
        lock
          .withPermits(1)(onRevoked(tps))
          .pipe(Effect.catchAllCause((c) => Effect.logError("commit on revocation failed", c)))
    }).pipe(Effect.orDie)
    member.consumer = consumer

    /** Runs the wall-clock punctuations due now in every running task. */
    const punctuateWallClock = Effect.suspend(() => {
      const now = clock.unsafeCurrentTimeMillis()
      const running = [...tasks.values()].filter((e) => e.state === "RUNNING")
      return Effect.forEach(running, (e) => runStep(() => e.task.punctuateWallClock(now)), { discard: true })
    })

    const commitRequested = () => {
      for (const e of tasks.values()) if (e.state === "RUNNING" && e.task.commitRequested) return true
      return false
    }

    const processRecords = (
      entry: Entry,
      records: ReadonlyArray<Topic.ConsumerRecord<Uint8Array | null, Uint8Array | null>>,
      from: number
    ): Effect.Effect<void, unknown> =>
      Effect.suspend(() => {
        for (let i = from; i < records.length; i++) {
          const r = records[i]!
          let step: Step
          try {
            step = andThen(entry.task.process(r), () => entry.task.punctuateStreamTime())
          } catch (e) {
            return Effect.fail(e)
          }
          entry.offsets.set(`${r.topic}:${r.partition}`, {
            topic: r.topic,
            partition: r.partition,
            offset: r.offset + 1
          })
          if (step !== undefined) {
            const async = Effect.provide(step, p.context) as Effect.Effect<void, unknown>
            return Effect.zipRight(async, processRecords(entry, records, i + 1))
          }
        }
        return Effect.void
      })

    /** Processes the buffered records of a multi-partition task in event-time order until it must wait. */
    const drainGroup = (entry: Entry): Effect.Effect<void, unknown> =>
      Effect.suspend(() => {
        const group = entry.group!
        for (;;) {
          if (entry.state !== "RUNNING") return Effect.void
          const next = group.next(clock.unsafeCurrentTimeMillis())
          if (next === undefined) return Effect.void
          const r = next.record
          let step: Step
          try {
            // stream-time punctuators fire after each record, as for single-partition tasks
            step = andThen(entry.task.process(r), () => entry.task.punctuateStreamTime())
          } catch (e) {
            return Effect.fail(e)
          }
          entry.offsets.set(next.partition, { topic: r.topic, partition: r.partition, offset: r.offset + 1 })
          if (step !== undefined) {
            return Effect.zipRight(Effect.provide(step, p.context) as Effect.Effect<void, unknown>, drainGroup(entry))
          }
        }
      })

    const processBatch = (batch: Consumer.ConsumerBatch<Topic.ConsumerRecord<Uint8Array | null, Uint8Array | null>>) =>
      Effect.gen(function* () {
        const sub = subtopologyOfTopic.get(batch.topic)
        const entry = sub === undefined ? undefined : tasks.get(taskKey(sub.id, batch.partition))
        if (entry === undefined || entry.state !== "RUNNING") {
          return yield* Effect.dieMessage(`no running task for ${batch.topic}-${batch.partition}`)
        }
        if (entry.group === undefined) yield* processRecords(entry, batch.records, 0)
        else {
          entry.group.add(`${batch.topic}:${batch.partition}`, batch.records)
          yield* drainGroup(entry)
        }
        yield* punctuateWallClock
        yield* logWarnings
        const now = yield* Clock.currentTimeMillis
        const requested = commitRequested()
        if (requested || now - lastCommit >= commitMs || outputs.length >= OUTPUT_FLUSH_RECORDS) {
          if (!eos && !requested && now - lastCommit < commitMs) yield* sendOutputs
          else yield* commit
        }
      })

    // wall-clock punctuators fire while no record arrives too, every poll.ms; a commit they ask for follows
    const wallClock = lock
      .withPermits(1)(
        Effect.zipRight(
          punctuateWallClock,
          Effect.suspend(() => (commitRequested() ? commit : Effect.void))
        )
      )
      .pipe(
        Effect.repeat(
          Schedule.spaced(Duration.millis(Math.max(10, config["poll.ms"] ?? StreamsConfig.defaults["poll.ms"])))
        )
      )
    // commits also come due while no record arrives (outputs and caches wait for them)
    const committer = lock
      .withPermits(1)(
        Effect.suspend(() => {
          const now = clock.unsafeCurrentTimeMillis()
          const probe =
            probingRebalanceAt >= 0 && now >= probingRebalanceAt
              ? Effect.suspend(() => {
                  probingRebalanceAt = -1
                  return consumer.enforceRebalance
                })
              : Effect.void
          return Effect.zipRight(probe, now - lastCommit >= commitMs ? commit : Effect.void)
        })
      )
      .pipe(Effect.repeat(Schedule.spaced(Duration.millis(Math.max(10, Math.min(commitMs, 1000) / 2)))))
    // a task waiting for an empty partition (max.task.idle.ms) processes the others once its deadline passes
    const idler = lock
      .withPermits(1)(
        Effect.suspend(() =>
          Effect.forEach(
            [...tasks.values()].filter((e) => e.group !== undefined && e.group.deadline !== undefined),
            (e) => Effect.zipRight(drainGroup(e), logWarnings),
            { discard: true }
          )
        )
      )
      .pipe(Effect.repeat(Schedule.spaced(Duration.millis(Math.max(10, Math.min(maxTaskIdleMs, 100))))))
    const processing = consumer
      .batches(sourceTopics)
      .pipe(Stream.runForEach((batch) => lock.withPermits(1)(processBatch(batch))))
    const background = Effect.all(maxTaskIdleMs > 0 ? [committer, standbyLoop, idler] : [committer, standbyLoop], {
      concurrency: "unbounded",
      discard: true
    })
    yield* Effect.raceFirst(processing, Effect.raceFirst(Effect.zipRight(background, Effect.never), wallClock))
  })
