/**
 * A task: one partition's instance of a sub-topology (or of a global store's nodes). It owns its processors
 * and stores and runs one record at a time through them: the source decodes, processors forward
 * synchronously, sinks encode and hand records to the collector (the thread's producer or the test
 * driver), and logged stores hand their writes to the collector as changelog records.
 *
 * Invariants: `streamTime` is the largest timestamp processed (-1 before any), timestamps being what the
 * source's timestamp extractor (else `default.timestamp.extractor`) returns; a record whose extracted
 * timestamp is negative is skipped with a warning and changes neither stream nor partition time;
 * `currentNode` names the processor running (for error reports); a record's returned Effect completes before
 * the caller passes the next record; `commit` flushes the record caches of the task's stores (forwarding their
 * updates) before the caller commits offsets. Punctuations run between records, only from `punctuateStreamTime`
 * and `punctuateWallClock` (the callers invoke them after each record and as the clock moves), never for global
 * tasks; `commitRequested` is set by a processor's `commit()` and cleared by `commit`.
 */

import type * as Topic from "@eddy/core/client/Topic"
import { Cause, Effect } from "effect"
import type { DslStoreType } from "../../dsl/Options.js"
import { forEachStep } from "../../processor/internal/step.js"
import type {
  Cancellable,
  Processor,
  ProcessorContext,
  PunctuationType,
  RecordMetadata,
  Step,
  TaskId
} from "../../processor/Processor.js"
import { taskIdString } from "../../processor/Processor.js"
import type { StreamRecord } from "../../processor/Record.js"
import {
  type ExtractorContext,
  failOnInvalidTimestamp,
  type TimestampExtractor
} from "../../processor/TimestampExtractor.js"
import { DeserializationError, messageOf, ProcessingError } from "../../StreamsError.js"
import type { KeyValueBytesStore } from "../../state/KeyValueStore.js"
import * as Topology from "../../topology/Topology.js"
import type { CustomStore, RestorableStore } from "../store/CustomStore.js"
import { openByteStore } from "../store/openStore.js"
import type { RecordCache } from "../store/RecordCache.js"
import { TimestampedStore } from "../store/TimestampedStore.js"
import { openWindowedStore, type WindowedTaskStore } from "../store/WindowedStores.js"
import * as Punctuation from "./punctuation.js"

/** A record a task produces: to a sink topic or a changelog (partition fixed for changelogs). */
export interface OutputRecord {
  readonly topic: string
  readonly partition: number | undefined
  readonly key: Uint8Array | null
  readonly value: Uint8Array | null
  readonly timestamp: number
  readonly headers: Topic.ConsumerRecord<unknown, unknown>["headers"]
}

/** What to do with a record that failed (the exception handlers' answer). */
export type HandlerResponse = "fail" | "continue"

/** Everything a task needs from its thread or driver. */
export interface TaskParams {
  readonly applicationId: string
  readonly topology: Topology.Topology<unknown>
  /** Node names of the task's sub-topology (or global store). */
  readonly nodes: ReadonlyArray<string>
  readonly stores: ReadonlyArray<string>
  readonly cache: RecordCache | undefined
  readonly collect: (record: OutputRecord) => void
  readonly now: () => number
  /** Partition count of an output topic (for custom partitioners), if known. */
  readonly partitionsOf: (topic: string) => number | undefined
  readonly onDeserializationError: (e: DeserializationError) => HandlerResponse
  readonly onProcessingError: (e: ProcessingError) => HandlerResponse
  /** Messages of records skipped by a log-and-continue handler. */
  readonly warn: (message: string) => void
  /** The task's state directory `<state.dir>/<application.id>/<taskId>` (undefined: every store in memory). */
  readonly taskDir?: string | undefined
  /** `default.timestamp.extractor` (default `failOnInvalidTimestamp`). */
  readonly timestampExtractor?: TimestampExtractor | undefined
  /** `default.dsl.store` (default `in_memory` here; the runtime passes the config, whose default is `rocksDB`). */
  readonly defaultStoreType?: DslStoreType | undefined
  /** The global stores (loaded by the global thread), which every processor may read. */
  readonly globalStore?: ((name: string) => TimestampedStore<unknown, unknown> | undefined) | undefined
  /** A global store's task (its processors cannot schedule punctuations). */
  readonly global?: boolean | undefined
  /** In-memory byte stores by name that a standby of this task hands over on promotion (used, not opened). */
  readonly handedOver?: ReadonlyMap<string, KeyValueBytesStore> | undefined
}

/** A logged store of a task and where its changelog partition is. */
export interface LoggedStore {
  readonly store: RestorableStore
  readonly topic: string
  readonly partition: number
}

interface RuntimeNode {
  readonly name: string
  processor: Processor
}

/** A running task. */
export class Task {
  streamTime = -1
  currentNode = ""
  private current: RecordMetadata | undefined = undefined
  private readonly nodes = new Map<string, RuntimeNode>()
  readonly stores = new Map<string, TimestampedStore<unknown, unknown>>()
  /** Stores of other kinds (join windows, versioned), opened through their spec's opener. */
  readonly customStores = new Map<string, CustomStore>()
  /** The task's window and session stores. */
  readonly windowedStores = new Map<string, WindowedTaskStore>()
  /** The stores with a changelog, with their changelog partition. */
  readonly logged: Array<LoggedStore> = []
  private readonly sourcesByTopic = new Map<string, Topology.SourceNode>()
  private readonly patternSources: Array<Topology.SourceNode> = []
  private readonly idString: string
  private punctuation = Punctuation.initial
  private readonly punctuators = new Map<number, (timestamp: number) => Step>()
  /** A processor asked for a commit (`ProcessorContext.commit`) since the last one. */
  commitRequested = false
  /** Per input partition (`topic:partition`), the largest timestamp extracted from it. */
  private readonly partitionTimes = new Map<string, number>()
  private readonly extractorContext: ExtractorContext = { currentSystemTimeMs: () => this.params.now() }

  constructor(
    readonly id: TaskId,
    private readonly params: TaskParams
  ) {
    this.idString = taskIdString(id)
    const { topology, applicationId } = params
    for (const name of params.stores) {
      const spec = topology.stores.get(name)!
      const topic = spec.loggingEnabled
        ? Topology.resolveTopic(topology, applicationId, Topology.changelogTopicName(name))
        : undefined
      const changelog = topic === undefined ? undefined : this.changelogWriter(topic)
      if (spec.open !== undefined) {
        const custom = spec.open({
          name,
          keySerde: spec.keySerde,
          valueSerde: spec.valueSerde,
          taskDir: params.taskDir,
          defaultStoreType: params.defaultStoreType ?? "in_memory",
          changelog
        })
        this.customStores.set(name, custom)
        if (topic !== undefined) this.logged.push({ store: custom, topic, partition: id.partition })
        continue
      }
      const cache = spec.cachingEnabled ? params.cache : undefined
      const storeType = params.defaultStoreType ?? "in_memory"
      let store: RestorableStore
      if (spec.windowed !== undefined) {
        const windowed = openWindowedStore(spec, spec.windowed, params.taskDir, storeType, changelog, cache)
        this.windowedStores.set(name, windowed)
        store = windowed
      } else {
        const inner = params.handedOver?.get(name) ?? openByteStore(spec, params.taskDir, storeType)
        const kv = new TimestampedStore(name, inner, spec.keySerde, spec.valueSerde, changelog, cache)
        this.stores.set(name, kv)
        store = kv
      }
      if (topic !== undefined) this.logged.push({ store, topic, partition: id.partition })
      else if (spec.restoreFrom !== undefined) {
        // a read-only store: its source topic is its changelog (restored from, never written to)
        const source = Topology.resolveTopic(topology, applicationId, spec.restoreFrom)
        this.logged.push({ store, topic: source, partition: id.partition })
      }
    }
    for (const name of params.nodes) this.nodes.set(name, { name, processor: { process: () => undefined } })
    for (const name of params.nodes) {
      const node = topology.nodes.get(name)!
      const runtime = this.nodes.get(name)!
      if (node.kind === "source") {
        for (const t of node.topics) this.sourcesByTopic.set(Topology.resolveTopic(topology, applicationId, t), node)
        if (node.pattern !== undefined) this.patternSources.push(node)
        runtime.processor = { process: (r) => this.forward(node.children, r) }
      } else if (node.kind === "sink") runtime.processor = this.sinkProcessor(node)
      else runtime.processor = node.supplier(this.contextFor(node))
    }
  }

  private changelogWriter(topic: string) {
    const partition = this.id.partition
    return (key: Uint8Array, value: Uint8Array | null, timestamp: number) =>
      this.params.collect({ topic, partition, key, value, timestamp, headers: [] })
  }

  private forward(children: ReadonlyArray<string>, record: StreamRecord<unknown, unknown>): Step {
    if (children.length === 1) {
      const child = this.nodes.get(children[0]!)!
      this.currentNode = child.name
      return child.processor.process(record)
    }
    return forEachStep(children, (name) => {
      const child = this.nodes.get(name)!
      this.currentNode = child.name
      return child.processor.process(record)
    })
  }

  private contextFor(node: Topology.ProcessorNode): ProcessorContext {
    return {
      taskId: this.id,
      applicationId: this.params.applicationId,
      forward: (record, childName) => {
        if (childName === undefined) return this.forward(node.children, record)
        if (!node.children.includes(childName)) throw new Error(`${node.name} has no child ${childName}`)
        return this.forward([childName], record)
      },
      getStateStore: <S>(name: string) => {
        const global = node.stores.includes(name) ? undefined : this.params.globalStore?.(name)
        if (global !== undefined) return global as S
        if (!node.stores.includes(name)) throw new Error(`Processor ${node.name} has no access to state store ${name}`)
        return (this.stores.get(name) ?? this.customStores.get(name) ?? this.windowedStores.get(name)) as S
      },
      recordMetadata: () => this.current,
      currentStreamTimeMs: () => this.streamTime,
      currentSystemTimeMs: () => this.params.now(),
      schedule: (intervalMs, type, punctuator) => this.schedule(node.name, intervalMs, type, punctuator),
      commit: () => {
        this.commitRequested = true
      }
    }
  }

  private schedule(
    node: string,
    interval: number,
    type: PunctuationType,
    punctuator: (timestamp: number) => Step
  ): Cancellable {
    if (this.params.global === true) throw new Error(`Processor ${node} of a global store cannot schedule punctuations`)
    const result = Punctuation.step(
      this.punctuation,
      Punctuation.Event.Schedule({ node, type, interval, now: this.params.now() })
    )
    this.punctuation = result.state
    const id = result.scheduled!
    this.punctuators.set(id, punctuator)
    return {
      cancel: () => {
        this.punctuation = Punctuation.step(this.punctuation, Punctuation.Event.Cancel({ id })).state
        this.punctuators.delete(id)
      }
    }
  }

  /** Runs the stream-time punctuations due at the task's stream time (call after each record). */
  punctuateStreamTime(): Step {
    return this.punctuate(Punctuation.Event.StreamTime({ time: this.streamTime }))
  }

  /** Runs the wall-clock punctuations due at `now`. */
  punctuateWallClock(now: number): Step {
    return this.punctuate(Punctuation.Event.WallClock({ time: now }))
  }

  private punctuate(event: Punctuation.Event): Step {
    if (this.punctuators.size === 0) return undefined
    const result = Punctuation.step(this.punctuation, event)
    this.punctuation = result.state
    return forEachStep(result.due, (due) => {
      // an earlier punctuator of this round may have cancelled this one
      const punctuator = Punctuation.isLive(this.punctuation, due.id) ? this.punctuators.get(due.id) : undefined
      if (punctuator === undefined) return undefined
      this.current = undefined
      this.currentNode = due.node
      let step: Step
      try {
        step = punctuator(due.timestamp)
      } catch (cause) {
        this.onPunctuationFailure(cause, due)
        return undefined
      }
      if (step === undefined) return undefined
      return Effect.catchAllCause(step, (cause) =>
        Effect.try({ try: () => this.onPunctuationFailure(Cause.squash(cause), due), catch: (e) => e })
      )
    })
  }

  private onPunctuationFailure(cause: unknown, due: Punctuation.Due): void {
    const error = new ProcessingError({
      taskId: this.idString,
      topic: "",
      partition: this.id.partition,
      offset: -1,
      processor: due.node,
      message: `Punctuator of ${due.node} failed at ${due.timestamp} in task ${this.idString}: ${messageOf(cause)}`,
      cause
    })
    if (this.params.onProcessingError(error) === "fail") throw error
    this.params.warn(`${error.message} (skipped by the processing exception handler)`)
  }

  private sinkProcessor(node: Topology.SinkNode): Processor {
    const { topology, applicationId } = this.params
    const fixed =
      typeof node.topic === "string" ? Topology.resolveTopic(topology, applicationId, node.topic) : undefined
    return {
      process: (r) => {
        const topic =
          fixed ??
          (node.topic as Topology.TopicNameExtractor<unknown, unknown>)(r.key, r.value, {
            topic: this.current?.topic
          })
        let partition: number | undefined
        if (node.partitioner !== undefined) {
          const n = this.params.partitionsOf(topic)
          if (n !== undefined) partition = node.partitioner(topic, r.key, r.value, n)
        }
        this.params.collect({
          topic,
          partition,
          key: r.key === null ? null : node.keySerde.encode(r.key),
          value: r.value === null ? null : node.valueSerde.encode(r.value),
          timestamp: r.timestamp,
          headers: r.headers
        })
        return undefined
      }
    }
  }

  /** The pattern source reading `topic` (topics the start-up resolution did not list, e.g. in the driver). */
  patternSourceOf(topic: string): Topology.SourceNode | undefined {
    const source = this.patternSources.find((s) => Topology.matchesPattern(s.pattern!, topic))
    if (source !== undefined) this.sourcesByTopic.set(topic, source)
    return source
  }

  /** Topics (full names) this task's sources read. */
  get sourceTopics(): ReadonlyArray<string> {
    return [...this.sourcesByTopic.keys()]
  }

  private processingError(cause: unknown, meta: RecordMetadata): ProcessingError {
    return new ProcessingError({
      taskId: this.idString,
      topic: meta.topic,
      partition: meta.partition,
      offset: meta.offset,
      processor: this.currentNode,
      message: `Processor ${this.currentNode} failed on ${meta.topic}-${meta.partition}@${meta.offset}: ${messageOf(cause)}`,
      cause
    })
  }

  private onProcessingFailure(cause: unknown, meta: RecordMetadata): void {
    const error = this.processingError(cause, meta)
    if (this.params.onProcessingError(error) === "fail") throw error
    this.params.warn(`${error.message} (skipped by the processing exception handler)`)
  }

  /**
   * Processes one input record. Throws (synchronously) or fails (the returned Effect) with a
   * `DeserializationError` or `ProcessingError` when the handler answers "fail".
   */
  process(record: Topic.ConsumerRecord<Uint8Array | null, Uint8Array | null>): Step {
    const source = this.sourcesByTopic.get(record.topic) ?? this.patternSourceOf(record.topic)
    if (source === undefined) throw new Error(`Task ${this.idString} has no source for topic ${record.topic}`)
    const meta: RecordMetadata = { topic: record.topic, partition: record.partition, offset: record.offset }
    let key: unknown
    let value: unknown
    try {
      key = record.key === null ? null : source.keySerde.decode(record.key)
      value = record.value === null ? null : source.valueSerde.decode(record.value)
    } catch (cause) {
      const error = new DeserializationError({
        taskId: this.idString,
        ...meta,
        message: `Cannot deserialize ${record.topic}-${record.partition}@${record.offset}: ${messageOf(cause)}`
      })
      if (this.params.onDeserializationError(error) === "fail") throw error
      this.params.warn(`${error.message} (skipped by the deserialization exception handler)`)
      return undefined
    }
    const timestamp = this.extractTimestamp(source, record, key, value)
    if (timestamp < 0) {
      this.params.warn(
        `Skipping ${record.topic}-${record.partition}@${record.offset}: its extracted timestamp ${timestamp} is negative`
      )
      return undefined
    }
    this.current = meta
    if (timestamp > this.streamTime) this.streamTime = timestamp
    this.currentNode = source.name
    const input: StreamRecord<unknown, unknown> = { key, value, timestamp, headers: record.headers }
    let step: Step
    try {
      step = this.forward(source.children, input)
    } catch (cause) {
      this.onProcessingFailure(cause, meta)
      return undefined
    }
    if (step === undefined) return undefined
    return Effect.catchAllCause(step, (cause) =>
      Effect.try({
        try: () => this.onProcessingFailure(Cause.squash(cause), meta),
        catch: (e) => e
      })
    )
  }

  /** The record's event time from the source's extractor (else the configured one); updates the partition time. */
  private extractTimestamp(
    source: Topology.SourceNode,
    record: Topic.ConsumerRecord<Uint8Array | null, Uint8Array | null>,
    key: unknown,
    value: unknown
  ): number {
    const extractor = source.timestampExtractor ?? this.params.timestampExtractor ?? failOnInvalidTimestamp
    const partition = `${record.topic}:${record.partition}`
    const partitionTime = this.partitionTimes.get(partition) ?? -1
    let timestamp: number
    try {
      timestamp = extractor({ ...record, key, value }, partitionTime, this.extractorContext)
    } catch (cause) {
      throw new ProcessingError({
        taskId: this.idString,
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        processor: source.name,
        message: `Timestamp extractor of ${source.name} failed: ${messageOf(cause)}`,
        cause
      })
    }
    if (timestamp > partitionTime) this.partitionTimes.set(partition, timestamp)
    return timestamp
  }

  /** Flushes the task's record caches (their updates go downstream) and stores: the first half of a commit. */
  commit(): Step {
    this.commitRequested = false
    return forEachStep([...this.stores.values(), ...this.customStores.values(), ...this.windowedStores.values()], (s) =>
      s.flush()
    )
  }

  /** True when a logged store keeps its contents on disk (the task then checkpoints). */
  get hasPersistentLoggedStore(): boolean {
    return this.logged.some((l) => l.store.inner.persistent)
  }

  /** Makes every store write so far durable (before a checkpoint is written). */
  flushStores(): void {
    for (const s of this.stores.values()) s.inner.flush()
    for (const s of this.customStores.values()) s.inner.flush()
    for (const s of this.windowedStores.values()) s.inner.flush()
  }

  /** The in-memory byte stores of the task's logged key-value stores, by store name (a standby hands them over). */
  inMemoryLoggedStores(): Map<string, { readonly inner: KeyValueBytesStore; readonly topic: string }> {
    const found = new Map<string, { readonly inner: KeyValueBytesStore; readonly topic: string }>()
    for (const l of this.logged) {
      const kv = this.stores.get(l.store.name)
      if (kv !== undefined && kv === l.store && !kv.inner.persistent)
        found.set(kv.name, { inner: kv.inner, topic: l.topic })
    }
    return found
  }

  /** Closes processors and stores, except the key-value stores named in `keep` (handed over, left open). */
  close(keep: ReadonlySet<string> = new Set()): void {
    for (const n of this.nodes.values()) n.processor.close?.()
    for (const [name, s] of this.stores) if (!keep.has(name)) s.close()
    for (const s of this.customStores.values()) s.close()
    for (const s of this.windowedStores.values()) s.close()
  }
}
