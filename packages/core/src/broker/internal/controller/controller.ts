/**
 * The controller actor: every broker campaigns through the metadata store on a session lease; the winner reads the
 * cluster (brokers, topics, partition records) at one revision, follows the store's watches from there and feeds
 * every change, operator request (ElectLeaders, AlterPartitionReassignments) and rebalance tick into the pure
 * {@link step}, then writes the step's partition records with compare-and-swap.
 *
 * Invariants:
 * - At most one broker acts as controller: it acts only while its lease lives (the store holds at most one
 *   controller record, on the winner's lease); when the lease is lost (`Session.lost`) the active part is interrupted
 *   and the broker campaigns again.
 * - The state is touched only by the actor fiber, one command at a time, in mailbox order.
 * - A write that loses its compare-and-swap re-reads the record and steps again (the record as it now is wins: the
 *   partition leader's ISR changes are taken as they are); a store failure retries the partition a second later.
 * - No change is missed: the watches start at the revision after the first read.
 * - Every broker the step sees carries its registration's version (its incarnation): the step treats a broker that
 *   registered after a record's last change as lost and back, and every write compares the registrations of the
 *   brokers its record names, so a write computed before a broker's loss fails once it registered again. Such a
 *   write, failing with the record unchanged, is dropped: the watch brings the registration change, whose step
 *   writes anew.
 */
import { Cause, Data, Deferred, Duration, Effect, Option, Schedule, Scope, Stream } from "effect"
import { NotController } from "../../BrokerError.js"
import {
  type BrokerRegistration,
  type MetadataEvent,
  MetadataStoreError,
  type PartitionState,
  type Versioned
} from "../../MetadataRecords.js"
import * as MetadataStore from "../../MetadataStore.js"
import * as Actor from "../actor.js"
import {
  type ControllerEvent,
  type ControllerState,
  initial,
  type LiveBroker,
  type PartitionResult,
  step,
  type TopicPartition,
  type WritePartition
} from "./step.js"

/** Operator requests the active controller answers. */
export interface ControllerHandle {
  /** Preferred (or unclean) leader election for these partitions. */
  readonly elect: (
    partitions: ReadonlyArray<TopicPartition>,
    unclean: boolean
  ) => Effect.Effect<ReadonlyArray<PartitionResult>, NotController>
  /** Starts (target) or cancels (null) reassignments. */
  readonly reassign: (
    items: ReadonlyArray<TopicPartition & { readonly target: ReadonlyArray<number> | null }>
  ) => Effect.Effect<ReadonlyArray<PartitionResult>, NotController>
}

/** This broker's part in controller election. */
export interface ControllerRole {
  /** The elected controller's node id as last seen (-1 while there is none). */
  readonly controllerId: () => number
  /** The controller when this broker is it. */
  readonly active: () => ControllerHandle | undefined
}

/** Options of {@link start}. */
export interface ControllerOptions {
  readonly nodeId: number
  /** The lease TTL (`broker.session.timeout.ms`). */
  readonly sessionTimeoutMs: number
  /** `unclean.leader.election.enable` (broker default). */
  readonly uncleanDefault: boolean
  /** `auto.leader.rebalance.enable`. */
  readonly autoRebalance: boolean
  /** `leader.imbalance.check.interval.seconds`, in ms. */
  readonly rebalanceIntervalMs: number
  /** `leader.imbalance.per.broker.percentage`. */
  readonly imbalancePercentage: number
}

type Command = Data.TaggedEnum<{
  Event: { readonly event: ControllerEvent }
  Request: {
    readonly event: ControllerEvent
    readonly reply: Deferred.Deferred<ReadonlyArray<PartitionResult>, NotController>
  }
}>
const Command = Data.taggedEnum<Command>()

const lastSegment = (key: string) => key.slice(key.lastIndexOf("/") + 1)

/** A store change as a controller event. */
export const toEvent = (e: MetadataEvent): ControllerEvent | undefined => {
  switch (e.kind) {
    case "broker":
      return e.value === undefined
        ? { _tag: "BrokerLost", brokerId: Number(lastSegment(e.key)) }
        : {
            _tag: "BrokerChanged",
            broker: {
              id: e.value.brokerId,
              rack: e.value.rack ?? null,
              shuttingDown: e.value.shuttingDown,
              registration: e.revision
            }
          }
    case "topic":
      return e.value === undefined
        ? { _tag: "TopicDeleted", name: lastSegment(e.key) }
        : {
            _tag: "TopicChanged",
            topic: { name: e.value.name, partitions: e.value.partitions, configs: e.value.configs }
          }
    case "partition": {
      if (e.value !== undefined) return { _tag: "PartitionChanged", record: { state: e.value, version: e.revision } }
      const parts = e.key.split("/")
      return { _tag: "PartitionDeleted", topic: parts[parts.length - 2] ?? "", partition: Number(lastSegment(e.key)) }
    }
    case "controller":
      return undefined
  }
}

const liveBroker = (b: Versioned<BrokerRegistration>): LiveBroker => ({
  id: b.value.brokerId,
  rack: b.value.rack ?? null,
  shuttingDown: b.value.shuttingDown,
  registration: b.version
})

/** Runs the controller until interrupted (the lease was lost or the broker stops). */
const runActive = (
  options: ControllerOptions,
  epoch: number,
  publish: (handle: ControllerHandle) => Effect.Effect<void>
): Effect.Effect<never, MetadataStoreError, MetadataStore.MetadataStore | Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* MetadataStore.MetadataStore
    const notController = () => new NotController({ message: `Broker ${options.nodeId} is no longer the controller.` })
    // the actor kit's mailbox: commands queued when the term ends are answered NOT_CONTROLLER
    const actor = yield* Actor.make<Command, never, NotController>({
      name: `controller ${options.nodeId}`,
      policy: Actor.unbounded,
      full: () => undefined as never,
      stopped: notController,
      onDropped: (command) => (command._tag === "Request" ? Deferred.fail(command.reply, notController()) : Effect.void)
    })
    /** Hands the actor an event (a watch change, a retry, a tick); dropped once the term ends. */
    const tell = (event: ControllerEvent) => Effect.ignore(actor.tell(Command.Event({ event })))
    // completed when this term ends: the request in progress, if any, is answered NOT_CONTROLLER
    const ended = yield* Deferred.make<void>()
    yield* Effect.addFinalizer(() => Deferred.succeed(ended, undefined))
    let state: ControllerState = initial({
      uncleanDefault: options.uncleanDefault,
      imbalancePercentage: options.imbalancePercentage
    })

    const write = (w: WritePartition): Effect.Effect<ReadonlyArray<ControllerEvent>, never, Scope.Scope> =>
      store.putPartition(w.state, w.expectedVersion, w.registrations).pipe(
        Effect.map(
          (written): ReadonlyArray<ControllerEvent> => [
            { _tag: "PartitionChanged", record: { state: written.value, version: written.version } }
          ]
        ),
        Effect.catchTag("MetadataConflict", () =>
          Effect.map(
            store.partition(w.state.topic, w.state.partition),
            Option.match({
              onNone: (): ReadonlyArray<ControllerEvent> => [
                { _tag: "PartitionDeleted", topic: w.state.topic, partition: w.state.partition }
              ],
              // the record unchanged: a registration the write relied on changed; the watch brings that change
              onSome: (r: Versioned<PartitionState>): ReadonlyArray<ControllerEvent> =>
                r.version === w.expectedVersion
                  ? []
                  : [{ _tag: "PartitionChanged", record: { state: r.value, version: r.version } }]
            })
          )
        ),
        Effect.catchAll((e) =>
          Effect.zipRight(
            Effect.logWarning(`Controller: writing ${w.state.topic}-${w.state.partition} failed; retrying`, e),
            Effect.as(retryLater(w), [] as ReadonlyArray<ControllerEvent>)
          )
        )
      )

    const retryLater = (w: WritePartition) =>
      Effect.forkScoped(
        Effect.sleep(Duration.seconds(1)).pipe(
          Effect.zipRight(store.partition(w.state.topic, w.state.partition)),
          Effect.flatMap(
            Option.match({
              onNone: () => Effect.void,
              onSome: (r) => tell({ _tag: "PartitionChanged", record: { state: r.value, version: r.version } })
            })
          ),
          Effect.ignore
        )
      )

    /** Steps `event`, writes the effects and steps what the writes return, until nothing is left to do. */
    const handle = (event: ControllerEvent) =>
      Effect.gen(function* () {
        const first = step(state, event)
        state = first.state
        const pending = [...first.effects]
        for (let rounds = 0; pending.length > 0 && rounds < 10_000; rounds++) {
          for (const next of yield* write(pending.shift()!)) {
            const out = step(state, next)
            state = out.state
            pending.push(...out.effects)
          }
        }
        return first.results
      })

    /** Reads the records a request names, so that it sees every change the store took before it (linearizable). */
    const refresh = (event: ControllerEvent) =>
      Effect.forEach(
        event._tag === "ElectionRequested"
          ? event.partitions
          : event._tag === "ReassignmentRequested"
            ? [{ topic: event.topic, partition: event.partition }]
            : [],
        (tp) =>
          Effect.flatMap(
            store.partition(tp.topic, tp.partition),
            Option.match({
              onNone: () => Effect.void,
              onSome: (r) => handle({ _tag: "PartitionChanged", record: { state: r.value, version: r.version } })
            })
          ),
        { discard: true }
      ).pipe(
        Effect.zipRight(event._tag === "ReassignmentRequested" ? refreshBrokers : Effect.void),
        Effect.catchAll((e) => Effect.logWarning("Controller: reading the requested partitions failed", e))
      )

    /** Takes brokers registered since the last watch event (a reassignment may name one). */
    const refreshBrokers = Effect.flatMap(store.brokers, (brokers) =>
      Effect.forEach(
        brokers.filter((b) => !state.brokers.has(b.value.brokerId)),
        (b) =>
          handle({
            _tag: "BrokerChanged",
            broker: liveBroker(b)
          }),
        { discard: true }
      )
    )

    // the cluster at one revision: brokers, then topics, then partitions (so each partition sees every broker)
    const revision = yield* store.revision
    for (const b of yield* store.brokers) {
      state = step(state, {
        _tag: "BrokerChanged",
        broker: liveBroker(b)
      }).state
    }
    const topics = yield* store.topics
    for (const t of topics) {
      state = step(state, {
        _tag: "TopicChanged",
        topic: { name: t.value.name, partitions: t.value.partitions, configs: t.value.configs }
      }).state
    }
    for (const t of topics) {
      for (const p of yield* store.partitions(t.value.name)) {
        yield* handle({ _tag: "PartitionChanged", record: { state: p.value, version: p.version } })
      }
    }

    // the controller cannot go on blind: a watch that ends or fails ends the term (the caller campaigns again)
    const follow = Stream.mergeAll(
      [store.watch("broker", revision + 1), store.watch("topic", revision + 1), store.watch("partition", revision + 1)],
      { concurrency: 3 }
    ).pipe(
      Stream.runForEach((e) => {
        const event = toEvent(e)
        return event === undefined ? Effect.void : tell(event)
      }),
      Effect.zipRight(Effect.fail(new MetadataStoreError({ message: "the metadata store's watch ended" })))
    )
    if (options.autoRebalance) {
      yield* tell({ _tag: "RebalanceTick" }).pipe(
        Effect.repeat(Schedule.spaced(Duration.millis(options.rebalanceIntervalMs))),
        Effect.delay(Duration.millis(options.rebalanceIntervalMs)),
        Effect.forkScoped
      )
    }

    const ask = (event: ControllerEvent) =>
      Effect.raceFirst(
        actor.ask((reply: Deferred.Deferred<ReadonlyArray<PartitionResult>, NotController>) =>
          Command.Request({ event, reply })
        ),
        Effect.zipRight(Deferred.await(ended), Effect.fail(notController()))
      )
    yield* publish({
      elect: (partitions, unclean) => ask({ _tag: "ElectionRequested", partitions, unclean }),
      reassign: (items) =>
        Effect.map(
          Effect.forEach(items, (i) =>
            ask({ _tag: "ReassignmentRequested", topic: i.topic, partition: i.partition, target: i.target })
          ),
          (rs) => rs.flat()
        )
    })
    yield* Effect.logInfo(`Broker ${options.nodeId} is the controller (epoch ${epoch})`)

    // the term's scope: the retries a command forks live as long as the term
    const term = yield* Effect.scope
    // one command at a time; handling stays interruptible (store writes may wait on the store) so that a lost lease
    // ends the term at once: the compare-and-swap writes make a write cut short harmless
    const receive = (command: Command): Effect.Effect<void> =>
      Effect.interruptible(
        Command.$match(command, {
          Event: ({ event }) => Effect.asVoid(Scope.extend(handle(event), term)),
          Request: ({ event, reply }) =>
            Scope.extend(refresh(event).pipe(Effect.zipRight(handle(event))), term).pipe(
              Effect.flatMap((results) => Deferred.succeed(reply, results))
            )
        })
      )
    const loop = Effect.zipRight(actor.run({ receive }), Effect.never)
    return yield* Effect.raceFirst(loop, follow)
  })

/** Campaigns for the controller role for the life of the scope; returns once the first election is decided. */
export const start = (
  options: ControllerOptions
): Effect.Effect<ControllerRole, MetadataStoreError, MetadataStore.MetadataStore | Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* MetadataStore.MetadataStore
    let controllerId = -1
    let active: ControllerHandle | undefined
    const decided = yield* Deferred.make<void>()

    // who the controller is, as the store says
    const revision = yield* store.revision
    const current = yield* store.controller
    if (Option.isSome(current)) controllerId = current.value.value.brokerId
    yield* store.watch("controller", revision + 1).pipe(
      Stream.runForEach((e) =>
        Effect.sync(() => {
          controllerId = e.kind === "controller" && e.value !== undefined ? e.value.brokerId : -1
        })
      ),
      Effect.catchAll((e) => Effect.logError("The controller watch failed", e)),
      Effect.forkScoped
    )

    /** One term: a session, the election (waiting for it), the active controller until the lease is lost. */
    const term = Effect.scoped(
      Effect.gen(function* () {
        const session = yield* MetadataStore.session(options.sessionTimeoutMs)
        const now = yield* store.tryCampaign(options.nodeId, session.lease)
        if (Option.isNone(now)) yield* Deferred.succeed(decided, undefined)
        const won = Option.isSome(now) ? now.value : yield* store.campaign(options.nodeId, session.lease)
        controllerId = options.nodeId
        const ready = (handle: ControllerHandle) =>
          Effect.zipRight(
            Effect.sync(() => {
              active = handle
            }),
            Deferred.succeed(decided, undefined)
          )
        yield* Effect.raceFirst(
          Effect.zipRight(session.lost, Effect.logWarning(`Broker ${options.nodeId} lost the controller lease`)),
          runActive(options, won.value.epoch, ready)
        )
      }).pipe(
        Effect.ensuring(
          Effect.sync(() => {
            active = undefined
          })
        )
      )
    )
    yield* term.pipe(
      // a failure or a defect ends the term, never the campaign (only the broker's scope interrupts it)
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.failCause(cause)
          : Effect.logError("The controller term ended; campaigning again", cause)
      ),
      Effect.zipRight(Effect.sleep(Duration.millis(100))),
      Effect.forever,
      Effect.forkScoped
    )
    yield* Deferred.await(decided).pipe(Effect.timeout(Duration.millis(options.sessionTimeoutMs)), Effect.ignore)
    return { controllerId: () => controllerId, active: () => active }
  })
