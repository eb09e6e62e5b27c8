/**
 * The actor of one transactional id, built on the broker's actor kit (`actor.ts`): a fiber that owns the
 * id's {@link TxnMetadata} and handles the {@link Command}s of its (unbounded: each producer has at most a
 * few requests in flight) mailbox one at a time, each uninterruptible once started. It runs Kafka's transaction state
 * machine: Empty -> Ongoing (first AddPartitionsToTxn / AddOffsetsToTxn) -> PrepareCommit / PrepareAbort
 * -> CompleteCommit / CompleteAbort, and back to Ongoing with the next transaction.
 *
 * Invariants:
 * - Only the actor reads or writes the state; every change is written to `__transaction_state` (through
 *   the store) before the state in memory changes and before the reply that depends on it.
 * - Ending a transaction writes Prepare*, then the markers (through `writeMarkers`, every partition of
 *   the transaction), then Complete*. A transaction found in Prepare* (a crash, a failed marker write)
 *   is completed first by the next job of any kind, so it ends whole or not at all, and the outcome
 *   recorded in Prepare* is the one written.
 * - An epoch bump (InitProducerId, a timeout) fences the previous producer: the partitions refuse its
 *   batches and markers, and this actor answers it PRODUCER_FENCED. An open transaction is aborted with
 *   the bumped epoch before InitProducerId answers.
 * - Transaction version 2 (EndTxn v5, KIP-890 part 2): ending a transaction bumps the epoch. Prepare* already
 *   holds the bumped epoch (and, when the epoch is exhausted, the producer id Complete* switches to, epoch 0), the
 *   markers carry it, and the reply hands it to the producer; so every request of the ended transaction (old
 *   epoch) is fenced, except a retry of that very EndTxn v5, which gets the same answer again.
 * - A command's failure or defect is its reply's; the actor itself never dies of one. Commands still
 *   queued when the coordinator shuts down fail with COORDINATOR_NOT_AVAILABLE.
 */
import { Clock, Data, Deferred, Effect } from "effect"
import {
  ConcurrentTransactions,
  InvalidProducerIdMapping,
  InvalidTransactionTimeout,
  ProducerFenced,
  type TransactionError,
  TxnCoordinatorNotAvailable,
  TxnInvalidState
} from "../TransactionError.js"
import {
  copyMetadata,
  MAX_EPOCH,
  TRANSACTION_VERSION_2,
  type TxnMetadata,
  TxnStatus
} from "../TransactionStateManager.js"
import * as Actor from "./actor.js"

/** Kafka's epoch exhaustion: from this epoch on, a bump that hands out the epoch moves to a new producer id. */
const EXHAUSTED_EPOCH = MAX_EPOCH - 1

/** A producer id and epoch handed to a client. */
export interface ProducerIdAndEpoch {
  readonly producerId: number
  readonly producerEpoch: number
}

/** What a transactional request names. */
export interface TxnRef {
  readonly transactionalId: string
  readonly producerId: number
  readonly producerEpoch: number
}

/** Partitions joining a transaction. */
export interface TopicPartitions {
  readonly topic: string
  readonly partitions: ReadonlyArray<number>
}

/** What the actor needs from the coordinator. */
export interface TxnActorOptions {
  readonly transactionalId: string
  /** The state replayed from `__transaction_state`, undefined for a new id. */
  readonly initial: TxnMetadata | undefined
  /** Largest timeout a producer may ask for (`transaction.max.timeout.ms`). */
  readonly maxTimeoutMs: number
  /** Writes the id's state durably. */
  readonly write: (m: TxnMetadata) => Effect.Effect<void, TxnCoordinatorNotAvailable>
  /** A producer id never handed out before. */
  readonly nextProducerId: Effect.Effect<number, TxnCoordinatorNotAvailable>
  /** Writes a COMMIT or ABORT marker of `m`'s producer to every partition of its transaction. */
  readonly writeMarkers: (m: TxnMetadata, commit: boolean) => Effect.Effect<void, TxnCoordinatorNotAvailable>
}

/** One transactional id's actor. */
export interface TxnActor {
  readonly transactionalId: string
  /** A copy of the state as last written; undefined before the id's first InitProducerId. */
  readonly current: () => TxnMetadata | undefined
  /**
   * InitProducerId: the id's producer id with the epoch bumped (a new producer id for a new id or once the epoch
   * is exhausted, 32766). `expected` is the caller's id and epoch (v3+, KIP-360), -1/-1 when none.
   */
  readonly initProducerId: (
    timeoutMs: number,
    expected: ProducerIdAndEpoch
  ) => Effect.Effect<ProducerIdAndEpoch, TransactionError>
  /** AddPartitionsToTxn / AddOffsetsToTxn: the partitions join the (possibly new) transaction. */
  readonly addPartitions: (ref: TxnRef, add: ReadonlyArray<TopicPartitions>) => Effect.Effect<void, TransactionError>
  /**
   * EndTxn: completes once every marker is written; the producer id and epoch to use next (with `bumpEpoch`,
   * EndTxn v5: bumped, or a new producer id at epoch 0 once the epoch is exhausted; else unchanged).
   */
  readonly endTxn: (
    ref: TxnRef,
    commit: boolean,
    bumpEpoch: boolean
  ) => Effect.Effect<ProducerIdAndEpoch, TransactionError>
  /** Completes a transaction left in Prepare* (nothing else). */
  readonly settle: Effect.Effect<void, TxnCoordinatorNotAvailable>
  /** Aborts the open transaction, with a bumped epoch, when it started more than its timeout before `now`. */
  readonly abortIfTimedOut: (now: number) => Effect.Effect<void, TxnCoordinatorNotAvailable>
  /** The mailbox loop (the coordinator runs it in its FiberMap). */
  readonly run: Effect.Effect<void>
}

/** The commands of a transactional id's mailbox (each first completes a transaction left in Prepare*). */
export type Command = Data.TaggedEnum<{
  InitProducerId: {
    readonly timeoutMs: number
    readonly expected: ProducerIdAndEpoch
    readonly reply: Deferred.Deferred<ProducerIdAndEpoch, TransactionError>
  }
  AddPartitions: {
    readonly ref: TxnRef
    readonly add: ReadonlyArray<TopicPartitions>
    readonly reply: Deferred.Deferred<void, TransactionError>
  }
  EndTxn: {
    readonly ref: TxnRef
    readonly commit: boolean
    readonly bumpEpoch: boolean
    readonly reply: Deferred.Deferred<ProducerIdAndEpoch, TransactionError>
  }
  /** Only the completion of a transaction left in Prepare*. */
  Settle: { readonly reply: Deferred.Deferred<void, TxnCoordinatorNotAvailable> }
  AbortIfTimedOut: { readonly now: number; readonly reply: Deferred.Deferred<void, TxnCoordinatorNotAvailable> }
}>

/** Constructors and matchers of {@link Command}. */
export const Command = Data.taggedEnum<Command>()

/** A transaction in PrepareCommit or PrepareAbort: its markers may be missing. */
export const isPrepare = (status: number): boolean =>
  status === TxnStatus.PrepareCommit || status === TxnStatus.PrepareAbort

/** The producer id and epoch of a state. */
const idOf = (m: TxnMetadata): ProducerIdAndEpoch => ({ producerId: m.producerId, producerEpoch: m.producerEpoch })

/**
 * Prepare* of a transaction version 2 end: the epoch bumped (capped at {@link MAX_EPOCH}: epochs handed to producers
 * stop at 32766, so only a state the coordinator's own bump left at 32767 stays there), and `nextProducerId` set
 * when the epoch is exhausted.
 */
export const bumpForEnd = (m: TxnMetadata, commit: boolean, nextProducerId: number, now: number): TxnMetadata => ({
  ...m,
  status: commit ? TxnStatus.PrepareCommit : TxnStatus.PrepareAbort,
  producerEpoch: Math.min(m.producerEpoch + 1, MAX_EPOCH),
  lastProducerEpoch: m.producerEpoch,
  previousProducerId: -1,
  nextProducerId,
  clientTransactionVersion: TRANSACTION_VERSION_2,
  lastUpdateTimestamp: now
})

/** Whether a transaction version 2 end of `m` moves to a new producer id (the epoch is exhausted). */
export const needsNewProducerId = (m: TxnMetadata): boolean => m.producerEpoch >= EXHAUSTED_EPOCH

/** Complete* of a transaction in Prepare*: no partitions, and the new producer id at epoch 0 when it rotates. */
export const completed = (m: TxnMetadata, now: number): TxnMetadata => ({
  ...m,
  status: m.status === TxnStatus.PrepareCommit ? TxnStatus.CompleteCommit : TxnStatus.CompleteAbort,
  partitions: new Map(),
  lastUpdateTimestamp: now,
  ...(m.nextProducerId >= 0
    ? { producerId: m.nextProducerId, producerEpoch: 0, previousProducerId: m.producerId, nextProducerId: -1 }
    : {})
})

/**
 * Whether an EndTxn is the retry of the one that ended `m` (its answer lost): Complete* with the same outcome,
 * and the request names the id and epoch that end had (transaction version 2: the ones before the bump;
 * version 1: the current ones, which the end did not change).
 */
export const isRetriedEnd = (m: TxnMetadata, ref: TxnRef, commit: boolean, bumpEpoch: boolean): boolean => {
  if (m.status !== (commit ? TxnStatus.CompleteCommit : TxnStatus.CompleteAbort)) return false
  const bumped = m.clientTransactionVersion >= TRANSACTION_VERSION_2
  if (bumped !== bumpEpoch) return false
  if (!bumped) return m.producerId === ref.producerId && m.producerEpoch === ref.producerEpoch
  const endedId = m.previousProducerId >= 0 ? m.previousProducerId : m.producerId
  return endedId === ref.producerId && m.lastProducerEpoch === ref.producerEpoch
}

/** A transaction open longer than its timeout at `now`. */
export const isTimedOut = (m: TxnMetadata, now: number): boolean =>
  m.status === TxnStatus.Ongoing && now - m.startTimestamp > m.timeoutMs

/** Creates the actor; its loop starts when `run` does. */
export const make = (options: TxnActorOptions): Effect.Effect<TxnActor> =>
  Effect.gen(function* () {
    const { transactionalId, write, writeMarkers, nextProducerId } = options
    let state: TxnMetadata | undefined = options.initial
    const unavailable = () =>
      new TxnCoordinatorNotAvailable({ message: `The coordinator of ${transactionalId} is shutting down.` })
    const actor = yield* Actor.make<Command, TxnCoordinatorNotAvailable, TxnCoordinatorNotAvailable>({
      name: `Transactional id ${transactionalId} coordinator`,
      policy: Actor.unbounded,
      // never used: an unbounded mailbox is never full
      full: unavailable,
      stopped: unavailable,
      onDropped: (c) => Deferred.fail(c.reply as Deferred.Deferred<unknown, TransactionError>, unavailable())
    })

    /** Writes `next` and, once acknowledged, makes it the state. */
    const commitState = (next: TxnMetadata) =>
      Effect.map(write(next), () => {
        state = next
      })

    /** Writes the markers of a transaction in Prepare* (with its epoch, bumped for version 2), then Complete*. */
    const complete = (m: TxnMetadata): Effect.Effect<void, TxnCoordinatorNotAvailable> =>
      Effect.gen(function* () {
        yield* writeMarkers(m, m.status === TxnStatus.PrepareCommit)
        yield* commitState(completed(m, yield* Clock.currentTimeMillis))
      })

    /** Moves a transaction to Prepare* (transaction version 1: same epoch, `clientTransactionVersion` 0) and completes it. */
    const end = (m: TxnMetadata, commit: boolean): Effect.Effect<void, TxnCoordinatorNotAvailable> =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const prepared: TxnMetadata = {
          ...m,
          status: commit ? TxnStatus.PrepareCommit : TxnStatus.PrepareAbort,
          previousProducerId: -1,
          nextProducerId: -1,
          clientTransactionVersion: 0,
          lastUpdateTimestamp: now
        }
        yield* commitState(prepared)
        yield* complete(prepared)
      })

    /** Ends a transaction with the epoch bumped (transaction version 2): Prepare*, markers, Complete*. */
    const endBumped = (m: TxnMetadata, commit: boolean): Effect.Effect<void, TxnCoordinatorNotAvailable> =>
      Effect.gen(function* () {
        const next = needsNewProducerId(m) ? yield* nextProducerId : -1
        const prepared = bumpForEnd(m, commit, next, yield* Clock.currentTimeMillis)
        yield* commitState(prepared)
        yield* complete(prepared)
      })

    /** Aborts an open transaction with a bumped epoch (fencing its producer). */
    const fenceAndAbort = (m: TxnMetadata): Effect.Effect<void, TxnCoordinatorNotAvailable> =>
      end(
        m.producerEpoch < MAX_EPOCH
          ? { ...m, lastProducerEpoch: m.producerEpoch, producerEpoch: m.producerEpoch + 1 }
          : m,
        false
      )

    const settleNow: Effect.Effect<void, TxnCoordinatorNotAvailable> = Effect.suspend(() =>
      state !== undefined && isPrepare(state.status) ? complete(state) : Effect.void
    )

    /** Runs `f` in the actor after completing any transaction left in Prepare*, and answers with its exit. */
    const answer = <A, E>(
      reply: Deferred.Deferred<A, E | TxnCoordinatorNotAvailable>,
      f: () => Effect.Effect<NoInfer<A>, NoInfer<E | TxnCoordinatorNotAvailable>>
    ): Effect.Effect<void> =>
      Effect.zipRight(settleNow, Effect.suspend(f)).pipe(
        Effect.exit,
        Effect.flatMap((exit) => Deferred.done(reply, exit)),
        Effect.asVoid
      )

    /** Checks a request's producer id and epoch against the state. */
    const check = (ref: TxnRef): Effect.Effect<TxnMetadata, InvalidProducerIdMapping | ProducerFenced> => {
      const m = state
      if (m === undefined || m.producerId !== ref.producerId) {
        return Effect.fail(
          new InvalidProducerIdMapping({
            message: `Producer id ${ref.producerId} is not the one of transactional id ${ref.transactionalId}.`
          })
        )
      }
      if (m.producerEpoch !== ref.producerEpoch) {
        return Effect.fail(
          new ProducerFenced({
            message: `Epoch ${ref.producerEpoch} of ${ref.transactionalId} is fenced by epoch ${m.producerEpoch}.`
          })
        )
      }
      return Effect.succeed(m)
    }

    const initProducerId = (timeoutMs: number, expected: ProducerIdAndEpoch) =>
      Effect.gen(function* () {
        if (timeoutMs <= 0 || timeoutMs > options.maxTimeoutMs) {
          return yield* new InvalidTransactionTimeout({
            message: `Transaction timeout ${timeoutMs} ms is outside (0, ${options.maxTimeoutMs}] (transaction.max.timeout.ms).`
          })
        }
        const now = yield* Clock.currentTimeMillis
        const m = state
        if (m === undefined) {
          const producerId = yield* nextProducerId
          yield* commitState({
            transactionalId,
            producerId,
            producerEpoch: 0,
            lastProducerEpoch: -1,
            previousProducerId: -1,
            nextProducerId: -1,
            clientTransactionVersion: 0,
            timeoutMs,
            status: TxnStatus.Empty,
            partitions: new Map(),
            startTimestamp: -1,
            lastUpdateTimestamp: now
          })
          return { producerId, producerEpoch: 0 }
        }
        if (expected.producerId >= 0) {
          // KIP-360: a producer recovering with its current id and epoch (or retrying a bump it missed)
          const retried = expected.producerId === m.producerId && expected.producerEpoch === m.lastProducerEpoch
          if (retried && m.status !== TxnStatus.Ongoing) {
            return { producerId: m.producerId, producerEpoch: m.producerEpoch }
          }
          if (expected.producerId !== m.producerId || expected.producerEpoch !== m.producerEpoch) {
            return yield* new ProducerFenced({
              message: `Producer ${expected.producerId} epoch ${expected.producerEpoch} is not the current one of ${transactionalId}.`
            })
          }
        }
        if (m.status === TxnStatus.Ongoing) yield* fenceAndAbort(m)
        const before = state!
        let producerId = before.producerId
        let producerEpoch = before.producerEpoch + 1
        // Kafka keeps the last epoch (32767) for the coordinator's own bumps (a timeout, a version 2 end)
        if (producerEpoch >= MAX_EPOCH) {
          producerId = yield* nextProducerId
          producerEpoch = 0
        }
        yield* commitState({
          ...before,
          producerId,
          producerEpoch,
          lastProducerEpoch: producerId === before.producerId ? before.producerEpoch : -1,
          previousProducerId: -1,
          timeoutMs,
          status: TxnStatus.Empty,
          partitions: new Map(),
          startTimestamp: -1,
          lastUpdateTimestamp: now
        })
        return { producerId, producerEpoch }
      })

    const addPartitions = (ref: TxnRef, add: ReadonlyArray<TopicPartitions>) =>
      Effect.gen(function* () {
        const m = yield* check(ref)
        if (isPrepare(m.status)) {
          return yield* new ConcurrentTransactions({ message: `${transactionalId} is completing a transaction.` })
        }
        const now = yield* Clock.currentTimeMillis
        const ongoing = m.status === TxnStatus.Ongoing
        const partitions = new Map<string, Set<number>>(
          ongoing ? [...m.partitions].map(([t, ps]) => [t, new Set(ps)]) : []
        )
        let added = false
        for (const t of add) {
          let set = partitions.get(t.topic)
          if (set === undefined) {
            set = new Set()
            partitions.set(t.topic, set)
          }
          for (const p of t.partitions) {
            if (!set.has(p)) {
              set.add(p)
              added = true
            }
          }
        }
        if (ongoing && !added) return
        yield* commitState({
          ...m,
          status: TxnStatus.Ongoing,
          partitions,
          startTimestamp: ongoing ? m.startTimestamp : now,
          lastUpdateTimestamp: now
        })
      })

    const endTxn = (ref: TxnRef, commit: boolean, bumpEpoch: boolean) =>
      Effect.gen(function* () {
        const m = state
        // a retried EndTxn whose first attempt completed (the answer got lost): the same answer again
        if (m !== undefined && isRetriedEnd(m, ref, commit, bumpEpoch)) return idOf(m)
        const current = yield* check(ref)
        const ongoing = current.status === TxnStatus.Ongoing
        // version 2 also aborts with no transaction open (Kafka's epoch bump for a producer's abortable error)
        const emptyAbort = bumpEpoch && !commit && !isPrepare(current.status)
        if (!ongoing && !emptyAbort) {
          return yield* new TxnInvalidState({
            message: `${transactionalId} has no transaction open to ${commit ? "commit" : "abort"}.`
          })
        }
        if (bumpEpoch) yield* endBumped(ongoing ? current : { ...current, partitions: new Map() }, commit)
        else yield* end(current, commit)
        return idOf(state!)
      })

    const abortIfTimedOut = (now: number) =>
      Effect.suspend(() => {
        const m = state
        if (m === undefined || !isTimedOut(m, now)) return Effect.void
        return Effect.zipRight(
          Effect.logInfo(`Aborting ${transactionalId}: open longer than ${m.timeoutMs} ms`),
          fenceAndAbort(m)
        )
      })

    const receive = Command.$match({
      InitProducerId: ({ timeoutMs, expected, reply }) => answer(reply, () => initProducerId(timeoutMs, expected)),
      AddPartitions: ({ ref, add, reply }) => answer(reply, () => addPartitions(ref, add)),
      EndTxn: ({ ref, commit, bumpEpoch, reply }) => answer(reply, () => endTxn(ref, commit, bumpEpoch)),
      Settle: ({ reply }) => answer(reply, () => Effect.void),
      AbortIfTimedOut: ({ now, reply }) => answer(reply, () => abortIfTimedOut(now))
    })

    return {
      transactionalId,
      current: () => (state === undefined ? undefined : copyMetadata(state)),
      initProducerId: (timeoutMs, expected) =>
        actor.ask<ProducerIdAndEpoch, TransactionError>((reply) =>
          Command.InitProducerId({ timeoutMs, expected, reply })
        ),
      addPartitions: (ref, add) =>
        actor.ask<void, TransactionError>((reply) => Command.AddPartitions({ ref, add, reply })),
      endTxn: (ref, commit, bumpEpoch) =>
        actor.ask<ProducerIdAndEpoch, TransactionError>((reply) => Command.EndTxn({ ref, commit, bumpEpoch, reply })),
      settle: actor.ask<void, TxnCoordinatorNotAvailable>((reply) => Command.Settle({ reply })),
      abortIfTimedOut: (now) =>
        actor.ask<void, TxnCoordinatorNotAvailable>((reply) => Command.AbortIfTimedOut({ now, reply })),
      run: actor.run({ receive })
    }
  })
