/**
 * The actor of one consumer group (classic protocol), built on the broker's actor kit (`actor.ts`): a fiber
 * that owns the group's state (members, generation, protocol, committed offsets) and reads a bounded mailbox
 * of {@link Command}s. Replies
 * travel on the command's `Deferred`; JoinGroup and SyncGroup replies are parked in the member until
 * the rebalance reaches the point where they are answered.
 *
 * States: Empty -> PreparingRebalance -> CompletingRebalance -> Stable, and Dead once deleted.
 * Timers (session, rebalance, initial delay, pending sync, offset expiry) are fibers sleeping on
 * `Clock` that post a `Timeout` command back to the mailbox; a token per timer key makes a timer
 * that was re-armed or cancelled after it fired harmless.
 *
 * Invariants:
 * - Only the actor reads or writes the state; every change that must survive a restart is written to
 *   `__consumer_offsets` before the reply that depends on it (SyncGroup assignments, commits, deletes).
 * - A member is awaiting at most one JoinGroup and one SyncGroup reply; replacing one completes the
 *   old one with an error, so no client request is left without an answer.
 * - A command that dies completes its reply with NOT_COORDINATOR, fails every parked reply the same
 *   way, and the actor restarts from what `__consumer_offsets` holds for the group.
 * - Once the group is Dead the actor ends: commands still queued fail with COORDINATOR_NOT_AVAILABLE and
 *   `send` answers false, so the coordinator starts a new actor for the next request.
 */
import * as crypto from "node:crypto"
import { Cause, Clock, Data, Deferred, Effect, Exit, FiberMap, Option } from "effect"
import * as ConsumerProtocolSubscription from "../../protocol/generated/data/ConsumerProtocolSubscription.js"
import { Reader } from "../../protocol/Reader.js"
import {
  CoordinatorNotAvailable,
  FencedInstanceId,
  type GroupError,
  GroupMaxSizeReached,
  GroupSubscribedToTopic,
  IllegalGeneration,
  InconsistentGroupProtocol,
  MemberIdRequired,
  NonEmptyGroup,
  NotCoordinator,
  RebalanceInProgress,
  type TxnOffsetCommitFenced,
  UnknownMemberId
} from "../GroupError.js"
import {
  type CommittedOffset,
  type GroupMetadata,
  type GroupRecord,
  offsetKey,
  type StoredGroup,
  type TxnProducer
} from "../GroupMetadataManager.js"
import * as Actor from "./actor.js"

/** The classic group states, named as DescribeGroups and ListGroups report them. */
export type GroupState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead"

/** A protocol a member supports, with its (opaque) metadata. */
export interface Protocol {
  readonly name: string
  readonly metadata: Uint8Array
}

/** A JoinGroup as the actor sees it. */
export interface JoinInput {
  readonly memberId: string
  readonly groupInstanceId: string | null
  readonly clientId: string
  readonly clientHost: string
  readonly sessionTimeoutMs: number
  readonly rebalanceTimeoutMs: number
  readonly protocolType: string
  readonly protocols: ReadonlyArray<Protocol>
  /** JoinGroup v4+: a member without an id first gets MEMBER_ID_REQUIRED. */
  readonly requireKnownMemberId: boolean
  /** JoinGroup v9+: the answer can tell a rejoining static leader to skip the assignment (KIP-814). */
  readonly supportsSkipAssignment: boolean
}

/**
 * A new member id: the client or instance id, a dash and a UUID, as Kafka makes them. The prefix is cut to
 * 1024 characters so that the id always fits a Kafka string (a 32 KiB client id would not leave room).
 */
export const newMemberId = (prefix: string): string => `${prefix.slice(0, 1024)}-${crypto.randomUUID()}`

/** One member in a JoinGroup answer to the leader. */
export interface JoinMember {
  readonly memberId: string
  readonly groupInstanceId: string | null
  readonly metadata: Uint8Array
}

/** A JoinGroup answer. */
export interface JoinResult {
  readonly generationId: number
  readonly protocolType: string | null
  readonly protocolName: string | null
  readonly leader: string
  readonly memberId: string
  /** A static leader rejoining a stable group: it gets the members but must not reassign (KIP-814). */
  readonly skipAssignment: boolean
  /** The members and their metadata, for the leader only. */
  readonly members: ReadonlyArray<JoinMember>
}

/** A SyncGroup as the actor sees it. */
export interface SyncInput {
  readonly generationId: number
  readonly memberId: string
  readonly groupInstanceId: string | null
  readonly protocolType: string | null
  readonly protocolName: string | null
  readonly assignments: ReadonlyArray<{ readonly memberId: string; readonly assignment: Uint8Array }>
}

/** A SyncGroup answer. */
export interface SyncResult {
  readonly protocolType: string | null
  readonly protocolName: string | null
  readonly assignment: Uint8Array
}

/** A Heartbeat, or the member part of an OffsetCommit. */
export interface MemberRef {
  readonly generationId: number
  readonly memberId: string
  readonly groupInstanceId: string | null
}

/** One member identity of a LeaveGroup. */
export interface LeaveMember {
  readonly memberId: string
  readonly groupInstanceId: string | null
}

/** The outcome for one leaving member. */
export interface LeaveResult extends LeaveMember {
  readonly error: GroupError | undefined
}

/** An offset to commit (already validated against topics and `offset.metadata.max.bytes`). */
export interface OffsetToCommit {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly leaderEpoch: number
  readonly metadata: string
}

/** An OffsetCommit as the actor sees it. */
export interface CommitInput extends MemberRef {
  /** OffsetCommit v2-4 `retention_time_ms`; -1 for the broker's retention. */
  readonly retentionTimeMs: number
  readonly offsets: ReadonlyArray<OffsetToCommit>
  /** A TxnOffsetCommit: the offsets stay pending until the producer's transaction ends. */
  readonly txn?: TxnProducer
}

/** Partitions requested by OffsetFetch or OffsetDelete. */
export interface TopicPartitions {
  readonly topic: string
  readonly partitions: ReadonlyArray<number>
}

/** One committed (or absent: offset -1) offset. */
export interface FetchedOffset {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly leaderEpoch: number
  readonly metadata: string
  /** A transactional commit of this partition awaits its transaction's marker (OffsetFetch `require_stable`). */
  readonly unstable?: boolean
}

/** The outcome for one partition of an OffsetDelete. */
export interface DeletedOffset {
  readonly topic: string
  readonly partition: number
  readonly error: GroupError | undefined
}

/** One member in a DescribeGroups answer. */
export interface DescribedMember {
  readonly memberId: string
  readonly groupInstanceId: string | null
  readonly clientId: string
  readonly clientHost: string
  readonly metadata: Uint8Array
  readonly assignment: Uint8Array
}

/** A DescribeGroups answer. */
export interface GroupDescription {
  readonly groupId: string
  readonly state: GroupState
  readonly protocolType: string
  /** The chosen protocol when Stable, else "". */
  readonly protocolData: string
  readonly members: ReadonlyArray<DescribedMember>
}

/** What the actor publishes for ListGroups (read without a round trip). */
export interface GroupSummary {
  readonly groupId: string
  readonly state: GroupState
  readonly protocolType: string
  readonly generationId: number
  readonly members: number
}

/** The commands a group's mailbox carries. */
export type Command = Data.TaggedEnum<{
  Join: { readonly input: JoinInput; readonly reply: Deferred.Deferred<JoinResult, GroupError> }
  Sync: { readonly input: SyncInput; readonly reply: Deferred.Deferred<SyncResult, GroupError> }
  Heartbeat: { readonly input: MemberRef; readonly reply: Deferred.Deferred<void, GroupError> }
  Leave: {
    readonly members: ReadonlyArray<LeaveMember>
    readonly reply: Deferred.Deferred<ReadonlyArray<LeaveResult>, GroupError>
  }
  Commit: { readonly input: CommitInput; readonly reply: Deferred.Deferred<void, GroupError> }
  FetchOffsets: {
    readonly topics: ReadonlyArray<TopicPartitions> | null
    readonly reply: Deferred.Deferred<ReadonlyArray<FetchedOffset>, GroupError>
  }
  DeleteOffsets: {
    readonly topics: ReadonlyArray<TopicPartitions>
    readonly reply: Deferred.Deferred<ReadonlyArray<DeletedOffset>, GroupError>
  }
  Describe: { readonly reply: Deferred.Deferred<GroupDescription, GroupError> }
  Delete: { readonly reply: Deferred.Deferred<void, GroupError> }
  Timeout: { readonly key: string; readonly token: number }
  /** The producer's transaction ended (its marker is on the group's partition): apply or drop its offsets. */
  CompleteTxn: { readonly producerId: number; readonly commit: boolean; readonly reply: Deferred.Deferred<void> }
}>

/** Constructors and matchers of {@link Command}. */
export const Command = Data.taggedEnum<Command>()

/** Group settings (Kafka's broker keys). */
export interface GroupSettings {
  /** `group.initial.rebalance.delay.ms` */
  readonly initialRebalanceDelayMs: number
  /** `group.max.size` */
  readonly maxSize: number
  /** `offsets.retention.minutes`, in ms */
  readonly offsetsRetentionMs: number
  /** `offsets.retention.check.interval.ms` */
  readonly offsetsRetentionCheckIntervalMs: number
}

/** The persistence an actor needs (a {@link GroupMetadataManager} for one group). */
export interface GroupStore {
  readonly write: (
    records: ReadonlyArray<GroupRecord>,
    txn?: TxnProducer
  ) => Effect.Effect<void, CoordinatorNotAvailable | NotCoordinator | TxnOffsetCommitFenced>
  readonly load: Effect.Effect<StoredGroup | undefined, CoordinatorNotAvailable>
}

/** Options of {@link make}. */
export interface ActorOptions {
  readonly groupId: string
  readonly settings: GroupSettings
  readonly store: GroupStore
  /** The state replayed from the log, when the group already exists. */
  readonly initial: StoredGroup | undefined
  /** Called after every command with the group's summary. */
  readonly publish: (summary: GroupSummary) => void
  /** Called once when the group becomes Dead (deleted, or expired with nothing left). */
  readonly onDead: () => void
  readonly mailboxCapacity?: number
  /** Runs before each command (tests inject failures here). */
  readonly beforeCommand?: (command: Command) => Effect.Effect<void>
}

/** A running group actor. */
export interface GroupActor {
  /** Posts a command; false when the actor is gone (Dead), a failure when its mailbox is full. */
  readonly send: (command: Command) => Effect.Effect<boolean, CoordinatorNotAvailable>
  /** The actor's loop, to fork under a supervisor; it ends when the group is Dead. */
  readonly run: Effect.Effect<void>
}

interface Member {
  readonly memberId: string
  readonly groupInstanceId: string | null
  clientId: string
  clientHost: string
  rebalanceTimeoutMs: number
  sessionTimeoutMs: number
  protocols: ReadonlyArray<Protocol>
  assignment: Uint8Array
  awaitingJoin: Deferred.Deferred<JoinResult, GroupError> | undefined
  awaitingSync: Deferred.Deferred<SyncResult, GroupError> | undefined
}

interface State {
  state: GroupState
  generationId: number
  protocolType: string | null
  protocolName: string | null
  leaderId: string | null
  readonly members: Map<string, Member>
  /** group.instance.id -> member id */
  readonly staticMembers: Map<string, string>
  /** Member ids handed out with MEMBER_ID_REQUIRED, not yet joined. */
  readonly pendingMembers: Set<string>
  readonly offsets: Map<string, CommittedOffset>
  /** Transactional offsets awaiting their transaction's marker, by producer id. */
  readonly pendingTxn: Map<number, Map<string, CommittedOffset>>
  /** When the state last changed (GroupMetadataValue `current_state_timestamp`), -1 unknown. */
  stateTimestamp: number
  /** Set while the first rebalance of an empty group waits for more members. */
  initialDelay: { remainingMs: number; newMemberAdded: boolean } | undefined
}

const EMPTY = new Uint8Array(0)

const emptyState = (): State => ({
  state: "Empty",
  generationId: 0,
  protocolType: null,
  protocolName: null,
  leaderId: null,
  members: new Map(),
  staticMembers: new Map(),
  pendingMembers: new Set(),
  offsets: new Map(),
  pendingTxn: new Map(),
  stateTimestamp: -1,
  initialDelay: undefined
})

/** Rebuilds a group's state from what the log holds (members come back Stable, as in Kafka). */
const fromStored = (stored: StoredGroup | undefined): State => {
  const s = emptyState()
  if (stored === undefined) return s
  for (const [k, v] of stored.offsets) s.offsets.set(k, v)
  for (const [pid, offsets] of stored.pending ?? []) s.pendingTxn.set(pid, new Map(offsets))
  const md = stored.metadata
  if (md === undefined) return s
  s.generationId = md.generation
  s.protocolType = md.protocolType === "" ? null : md.protocolType
  s.stateTimestamp = Number(md.currentStateTimestamp)
  if (md.members.length === 0) return s
  s.protocolName = md.protocol
  s.leaderId = md.leader
  s.state = "Stable"
  for (const m of md.members) {
    s.members.set(m.memberId, {
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      rebalanceTimeoutMs: m.rebalanceTimeout,
      sessionTimeoutMs: m.sessionTimeout,
      protocols: [{ name: md.protocol ?? "", metadata: m.subscription }],
      assignment: m.assignment,
      awaitingJoin: undefined,
      awaitingSync: undefined
    })
    if (m.groupInstanceId !== null) s.staticMembers.set(m.groupInstanceId, m.memberId)
  }
  if (s.leaderId === null || !s.members.has(s.leaderId)) s.leaderId = s.members.keys().next().value ?? null
  return s
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0

const sameProtocols = (a: ReadonlyArray<Protocol>, b: ReadonlyArray<Protocol>): boolean =>
  a.length === b.length && a.every((p, i) => p.name === b[i]!.name && sameBytes(p.metadata, b[i]!.metadata))

/** The topics a member subscribes to, when its metadata is a consumer subscription. */
export const subscribedTopics = (metadata: Uint8Array): ReadonlyArray<string> => {
  try {
    const r = new Reader(metadata)
    const version = r.int16()
    return ConsumerProtocolSubscription.decodeConsumerProtocolSubscription(
      r,
      Math.min(version, ConsumerProtocolSubscription.validVersions.max)
    ).topics
  } catch {
    return []
  }
}

/** Builds a group actor. Returns its handle; the caller forks `run` under its supervisor. */
export const make = (options: ActorOptions): Effect.Effect<GroupActor> =>
  Effect.gen(function* () {
    const { groupId, settings, store } = options
    const gone = () => new CoordinatorNotAvailable({ message: `Group ${groupId} was deleted.` })
    const actor = yield* Actor.make<Command, CoordinatorNotAvailable, CoordinatorNotAvailable>({
      name: `Group ${groupId} coordinator`,
      policy: Actor.bounded(options.mailboxCapacity ?? 1024, "fail"),
      full: () => new CoordinatorNotAvailable({ message: `Group ${groupId} has too many pending requests.` }),
      stopped: gone,
      onDropped: (c, reason) =>
        c._tag === "Timeout"
          ? Effect.void
          : Deferred.fail(
              c.reply as Deferred.Deferred<unknown, GroupError>,
              reason === "done"
                ? gone()
                : new NotCoordinator({ message: `The coordinator of group ${groupId} is shutting down or moved.` })
            )
    })
    let g = fromStored(options.initial)
    let tokenCounter = 0
    const tokens = new Map<string, number>()

    const send = (command: Command): Effect.Effect<boolean, CoordinatorNotAvailable> =>
      Effect.suspend(() => (actor.isStopped() ? Effect.succeed(false) : Effect.as(actor.tell(command), true)))

    const publish = () =>
      options.publish({
        groupId,
        state: g.state,
        protocolType: g.protocolType ?? "",
        generationId: g.generationId,
        members: g.members.size
      })

    const behavior = (timers: FiberMap.FiberMap<string>): Actor.Behavior<Command> => {
      // ---- timers ---------------------------------------------------------------------------------
      const schedule = (key: string, delayMs: number): Effect.Effect<void> => {
        const token = ++tokenCounter
        tokens.set(key, token)
        return FiberMap.run(
          timers,
          key,
          Effect.zipRight(Effect.sleep(Math.max(0, delayMs)), send(Command.Timeout({ key, token })))
        ).pipe(Effect.asVoid)
      }
      const cancel = (key: string): Effect.Effect<void> =>
        Effect.suspend(() => {
          if (!tokens.delete(key)) return Effect.void
          return FiberMap.remove(timers, key)
        })
      const sessionKey = (memberId: string) => `session:${memberId}`
      const pendingKey = (memberId: string) => `pending:${memberId}`
      const heartbeat = (m: Member) => schedule(sessionKey(m.memberId), m.sessionTimeoutMs)

      const now = Clock.currentTimeMillis

      const setState = (state: GroupState) =>
        Effect.map(now, (t) => {
          g.state = state
          g.stateTimestamp = t
        })

      // ---- persistence ----------------------------------------------------------------------------
      const metadataFor = (m: Member): Uint8Array =>
        m.protocols.find((p) => p.name === g.protocolName)?.metadata ?? m.protocols[0]?.metadata ?? EMPTY

      const groupMetadata = (): GroupMetadata => ({
        protocolType: g.protocolType ?? "",
        generation: g.generationId,
        protocol: g.protocolName,
        leader: g.leaderId,
        currentStateTimestamp: BigInt(g.stateTimestamp),
        members: [...g.members.values()].map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          rebalanceTimeout: m.rebalanceTimeoutMs,
          sessionTimeout: m.sessionTimeoutMs,
          subscription: metadataFor(m),
          assignment: m.assignment
        }))
      })
      const persistGroup = () => store.write([{ _tag: "Group", value: groupMetadata() }])

      // ---- members --------------------------------------------------------------------------------
      const maxRebalanceTimeout = () => {
        let max = 0
        for (const m of g.members.values()) max = Math.max(max, m.rebalanceTimeoutMs)
        return max
      }

      const allJoined = () => {
        if (g.pendingMembers.size > 0) return false
        for (const m of g.members.values()) if (m.awaitingJoin === undefined) return false
        return true
      }

      /** Protocols every member supports. */
      const candidates = (): Set<string> => {
        let common: Set<string> | undefined
        for (const m of g.members.values()) {
          const names = new Set(m.protocols.map((p) => p.name))
          common = common === undefined ? names : new Set([...common].filter((n) => names.has(n)))
        }
        return common ?? new Set()
      }

      /** Each member votes for its most preferred candidate; the most votes win (ties: first seen). */
      const vote = (): string | null => {
        const common = candidates()
        const votes = new Map<string, number>()
        for (const m of g.members.values()) {
          const choice = m.protocols.find((p) => common.has(p.name))
          if (choice !== undefined) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1)
        }
        let best: string | null = null
        let bestVotes = 0
        for (const [name, n] of votes) {
          if (n > bestVotes) {
            best = name
            bestVotes = n
          }
        }
        return best
      }

      const supportsProtocols = (protocolType: string, protocols: ReadonlyArray<Protocol>, except?: string) => {
        if (protocolType === "" || protocols.length === 0) return false
        const others = [...g.members.values()].filter((m) => m.memberId !== except)
        if (others.length === 0) return true
        if (protocolType !== g.protocolType) return false
        let common: Set<string> | undefined
        for (const m of others) {
          const names = new Set(m.protocols.map((p) => p.name))
          common = common === undefined ? names : new Set([...common].filter((n) => names.has(n)))
        }
        return protocols.some((p) => common!.has(p.name))
      }

      const joinResult = (m: Member, forLeader: boolean, skipAssignment: boolean): JoinResult => ({
        generationId: g.generationId,
        protocolType: g.protocolType,
        protocolName: g.protocolName,
        leader: g.leaderId ?? "",
        memberId: m.memberId,
        skipAssignment,
        members: forLeader
          ? [...g.members.values()].map((x) => ({
              memberId: x.memberId,
              groupInstanceId: x.groupInstanceId,
              metadata: metadataFor(x)
            }))
          : []
      })

      /** Drops a member: its timer, its static id, its parked replies (completed with `error`). */
      const removeMember = (m: Member, error: GroupError) =>
        Effect.gen(function* () {
          g.members.delete(m.memberId)
          if (m.groupInstanceId !== null && g.staticMembers.get(m.groupInstanceId) === m.memberId) {
            g.staticMembers.delete(m.groupInstanceId)
          }
          yield* cancel(sessionKey(m.memberId))
          if (m.awaitingJoin !== undefined) yield* Deferred.fail(m.awaitingJoin, error)
          if (m.awaitingSync !== undefined) yield* Deferred.fail(m.awaitingSync, error)
          m.awaitingJoin = undefined
          m.awaitingSync = undefined
          if (g.leaderId === m.memberId) g.leaderId = g.members.keys().next().value ?? null
        })

      const prepareRebalance = (reason: string): Effect.Effect<void> =>
        Effect.gen(function* () {
          if (g.state === "CompletingRebalance") {
            const error = new RebalanceInProgress({ message: `Group ${groupId} is rebalancing: ${reason}` })
            for (const m of g.members.values()) {
              m.assignment = EMPTY
              if (m.awaitingSync !== undefined) yield* Deferred.fail(m.awaitingSync, error)
              m.awaitingSync = undefined
            }
          }
          yield* cancel("sync")
          const rebalanceTimeout = maxRebalanceTimeout()
          if (g.state === "Empty" && settings.initialRebalanceDelayMs > 0) {
            const delay = Math.min(settings.initialRebalanceDelayMs, rebalanceTimeout)
            g.initialDelay = { remainingMs: Math.max(0, rebalanceTimeout - delay), newMemberAdded: false }
            yield* schedule("join", delay)
          } else {
            yield* schedule("join", rebalanceTimeout)
          }
          yield* setState("PreparingRebalance")
          yield* Effect.logDebug(`Group ${groupId} preparing rebalance (generation ${g.generationId}): ${reason}`)
        })

      const maybePrepareRebalance = (reason: string) =>
        g.state === "Stable" || g.state === "CompletingRebalance" || g.state === "Empty"
          ? prepareRebalance(reason)
          : Effect.void

      const completeJoin: Effect.Effect<void> = Effect.gen(function* () {
        yield* cancel("join")
        g.initialDelay = undefined
        const gone = new UnknownMemberId({ message: `The member did not rejoin group ${groupId} in time.` })
        for (const m of [...g.members.values()]) {
          if (m.awaitingJoin === undefined) yield* removeMember(m, gone)
        }
        g.generationId++
        if (g.members.size === 0) {
          g.protocolName = null
          g.leaderId = null
          yield* setState("Empty")
          yield* persistGroup().pipe(
            Effect.catchAll((e) => Effect.logWarning(`Group ${groupId}: cannot persist the empty group`, e))
          )
          yield* Effect.logDebug(`Group ${groupId} is empty at generation ${g.generationId}`)
          return
        }
        g.protocolName = vote()
        if (g.leaderId === null || !g.members.has(g.leaderId)) g.leaderId = g.members.keys().next().value ?? null
        yield* setState("CompletingRebalance")
        for (const m of g.members.values()) {
          const reply = m.awaitingJoin!
          m.awaitingJoin = undefined
          yield* Deferred.succeed(reply, joinResult(m, m.memberId === g.leaderId, false))
          yield* heartbeat(m)
        }
        yield* schedule("sync", maxRebalanceTimeout())
        yield* Effect.logDebug(
          `Group ${groupId} generation ${g.generationId}: ${g.members.size} member(s), protocol ${g.protocolName}`
        )
      })

      const maybeCompleteJoin = Effect.suspend(() =>
        g.state === "PreparingRebalance" && g.initialDelay === undefined && allJoined() ? completeJoin : Effect.void
      )

      const removeMemberAndRebalance = (m: Member, error: GroupError, reason: string) =>
        Effect.gen(function* () {
          yield* removeMember(m, error)
          if (g.state === "Stable" || g.state === "CompletingRebalance") yield* prepareRebalance(reason)
          yield* maybeCompleteJoin
        })

      const addMemberAndRebalance = (
        memberId: string,
        input: JoinInput,
        reply: Deferred.Deferred<JoinResult, GroupError>
      ) =>
        Effect.gen(function* () {
          if (g.members.size === 0) g.protocolType = input.protocolType
          const m: Member = {
            memberId,
            groupInstanceId: input.groupInstanceId,
            clientId: input.clientId,
            clientHost: input.clientHost,
            rebalanceTimeoutMs: input.rebalanceTimeoutMs,
            sessionTimeoutMs: input.sessionTimeoutMs,
            protocols: input.protocols,
            assignment: EMPTY,
            awaitingJoin: reply,
            awaitingSync: undefined
          }
          g.members.set(memberId, m)
          if (input.groupInstanceId !== null) g.staticMembers.set(input.groupInstanceId, memberId)
          if (g.leaderId === null) g.leaderId = memberId
          if (g.initialDelay !== undefined) g.initialDelay.newMemberAdded = true
          yield* maybePrepareRebalance(`Adding member ${memberId}`)
          yield* maybeCompleteJoin
        })

      const updateMemberAndRebalance = (
        m: Member,
        input: JoinInput,
        reply: Deferred.Deferred<JoinResult, GroupError>,
        reason: string
      ) =>
        Effect.gen(function* () {
          if (m.awaitingJoin !== undefined) {
            yield* Deferred.fail(
              m.awaitingJoin,
              new RebalanceInProgress({ message: "Superseded by a newer JoinGroup." })
            )
          }
          m.protocols = input.protocols
          m.rebalanceTimeoutMs = input.rebalanceTimeoutMs
          m.sessionTimeoutMs = input.sessionTimeoutMs
          m.clientId = input.clientId
          m.clientHost = input.clientHost
          m.awaitingJoin = reply
          yield* maybePrepareRebalance(reason)
          yield* maybeCompleteJoin
        })

      /** A static member rejoining without its member id: it takes a new id, the old one is fenced. */
      const replaceStaticMember = (old: Member, input: JoinInput, reply: Deferred.Deferred<JoinResult, GroupError>) =>
        Effect.gen(function* () {
          const instanceId = input.groupInstanceId!
          const newId = newMemberId(instanceId)
          const fenced = new FencedInstanceId({ message: `Instance ${instanceId} rejoined with a new member id.` })
          if (old.awaitingJoin !== undefined) yield* Deferred.fail(old.awaitingJoin, fenced)
          if (old.awaitingSync !== undefined) yield* Deferred.fail(old.awaitingSync, fenced)
          yield* cancel(sessionKey(old.memberId))
          const m: Member = { ...old, memberId: newId, awaitingJoin: undefined, awaitingSync: undefined }
          m.clientId = input.clientId
          m.clientHost = input.clientHost
          m.sessionTimeoutMs = input.sessionTimeoutMs
          m.rebalanceTimeoutMs = input.rebalanceTimeoutMs
          const wasLeader = g.leaderId === old.memberId
          g.members.delete(old.memberId)
          g.members.set(newId, m)
          g.staticMembers.set(instanceId, newId)
          if (wasLeader) g.leaderId = newId

          if (g.state === "Stable" && sameProtocols(old.protocols, input.protocols)) {
            // nothing changed: no rebalance; persist the new member id first
            const written = yield* Effect.exit(persistGroup())
            if (Exit.isFailure(written)) {
              g.members.delete(newId)
              g.members.set(old.memberId, old)
              g.staticMembers.set(instanceId, old.memberId)
              if (wasLeader) g.leaderId = old.memberId
              old.awaitingJoin = undefined
              old.awaitingSync = undefined
              yield* heartbeat(old)
              const error = Option.getOrElse(
                Cause.failureOption(written.cause),
                () => new CoordinatorNotAvailable({ message: "Cannot persist the group." })
              )
              yield* Deferred.fail(reply, error)
              return
            }
            yield* heartbeat(m)
            yield* Deferred.succeed(reply, joinResult(m, wasLeader, wasLeader && input.supportsSkipAssignment))
            return
          }
          m.protocols = input.protocols
          m.awaitingJoin = reply
          yield* maybePrepareRebalance(`Static member ${instanceId} rejoined with new metadata`)
          yield* maybeCompleteJoin
        })

      /** Checks a member reference the way Heartbeat, SyncGroup and OffsetCommit do. */
      const validateMember = (memberId: string, groupInstanceId: string | null): Member | GroupError => {
        if (groupInstanceId !== null) {
          const current = g.staticMembers.get(groupInstanceId)
          if (current !== undefined && current !== memberId) {
            return new FencedInstanceId({ message: `Member ${memberId} of instance ${groupInstanceId} was fenced.` })
          }
        }
        const m = g.members.get(memberId)
        return m ?? new UnknownMemberId({ message: `Member ${memberId} is not in group ${groupId}.` })
      }

      const isMember = (x: Member | GroupError): x is Member => "protocols" in x

      // ---- commands -------------------------------------------------------------------------------
      const join = (input: JoinInput, reply: Deferred.Deferred<JoinResult, GroupError>): Effect.Effect<void> =>
        Effect.gen(function* () {
          const failWith = (e: GroupError) => Effect.asVoid(Deferred.fail(reply, e))
          const known = input.memberId === "" ? undefined : g.members.get(input.memberId)
          if (!supportsProtocols(input.protocolType, input.protocols, known?.memberId)) {
            return yield* failWith(
              new InconsistentGroupProtocol({
                message: `Protocol type ${input.protocolType} or protocols [${input.protocols.map((p) => p.name).join(", ")}] do not match group ${groupId}.`
              })
            )
          }
          if (input.memberId === "") {
            if (input.groupInstanceId !== null) {
              const oldId = g.staticMembers.get(input.groupInstanceId)
              const old = oldId === undefined ? undefined : g.members.get(oldId)
              if (old !== undefined) return yield* replaceStaticMember(old, input, reply)
            }
            if (g.members.size + g.pendingMembers.size >= settings.maxSize) {
              return yield* failWith(
                new GroupMaxSizeReached({
                  message: `Group ${groupId} has reached group.max.size (${settings.maxSize}).`
                })
              )
            }
            const newId = newMemberId(input.groupInstanceId ?? input.clientId)
            if (input.groupInstanceId === null && input.requireKnownMemberId) {
              g.pendingMembers.add(newId)
              yield* schedule(pendingKey(newId), input.sessionTimeoutMs)
              return yield* failWith(
                new MemberIdRequired({ message: "Join again with the given member id.", memberId: newId })
              )
            }
            return yield* addMemberAndRebalance(newId, input, reply)
          }
          if (g.pendingMembers.delete(input.memberId)) {
            yield* cancel(pendingKey(input.memberId))
            return yield* addMemberAndRebalance(input.memberId, input, reply)
          }
          const m = validateMember(input.memberId, input.groupInstanceId)
          if (!isMember(m)) return yield* failWith(m)
          switch (g.state) {
            case "PreparingRebalance":
              return yield* updateMemberAndRebalance(m, input, reply, `Member ${m.memberId} rejoined`)
            case "CompletingRebalance":
              if (sameProtocols(m.protocols, input.protocols)) {
                // the member lost its JoinGroup answer: send it again
                return yield* Deferred.succeed(reply, joinResult(m, m.memberId === g.leaderId, false))
              }
              return yield* updateMemberAndRebalance(m, input, reply, `Member ${m.memberId} changed its metadata`)
            case "Stable":
              if (m.memberId === g.leaderId || !sameProtocols(m.protocols, input.protocols)) {
                return yield* updateMemberAndRebalance(m, input, reply, `Member ${m.memberId} rejoined`)
              }
              yield* heartbeat(m)
              return yield* Deferred.succeed(reply, joinResult(m, false, false))
            default:
              return yield* failWith(
                new UnknownMemberId({ message: `Member ${m.memberId} is not in group ${groupId}.` })
              )
          }
        })

      const sync = (input: SyncInput, reply: Deferred.Deferred<SyncResult, GroupError>): Effect.Effect<void> =>
        Effect.gen(function* () {
          const failWith = (e: GroupError) => Effect.asVoid(Deferred.fail(reply, e))
          const m = validateMember(input.memberId, input.groupInstanceId)
          if (!isMember(m)) return yield* failWith(m)
          if (input.generationId !== g.generationId) {
            return yield* failWith(
              new IllegalGeneration({ message: `Generation ${input.generationId} is not ${g.generationId}.` })
            )
          }
          if (
            (input.protocolType !== null && input.protocolType !== g.protocolType) ||
            (input.protocolName !== null && input.protocolName !== g.protocolName)
          ) {
            return yield* failWith(new InconsistentGroupProtocol({ message: "Protocol does not match the group's." }))
          }
          switch (g.state) {
            case "PreparingRebalance":
              return yield* failWith(new RebalanceInProgress({ message: `Group ${groupId} is rebalancing.` }))
            case "Stable":
              yield* heartbeat(m)
              return yield* Deferred.succeed(reply, {
                protocolType: g.protocolType,
                protocolName: g.protocolName,
                assignment: m.assignment
              })
            case "CompletingRebalance": {
              if (m.awaitingSync !== undefined) {
                yield* Deferred.fail(
                  m.awaitingSync,
                  new RebalanceInProgress({ message: "Superseded by a newer SyncGroup." })
                )
              }
              m.awaitingSync = reply
              yield* heartbeat(m)
              if (m.memberId !== g.leaderId) return
              const assignments = new Map(input.assignments.map((a) => [a.memberId, a.assignment]))
              for (const x of g.members.values()) x.assignment = assignments.get(x.memberId) ?? EMPTY
              const written = yield* Effect.exit(persistGroup())
              if (Exit.isFailure(written)) {
                const error = Option.getOrElse(
                  Cause.failureOption(written.cause),
                  () => new CoordinatorNotAvailable({ message: "Cannot persist the group." })
                )
                for (const x of g.members.values()) {
                  x.assignment = EMPTY
                  if (x.awaitingSync !== undefined) yield* Deferred.fail(x.awaitingSync, error)
                  x.awaitingSync = undefined
                }
                return yield* prepareRebalance("The assignment could not be persisted")
              }
              for (const x of g.members.values()) {
                if (x.awaitingSync !== undefined) {
                  yield* Deferred.succeed(x.awaitingSync, {
                    protocolType: g.protocolType,
                    protocolName: g.protocolName,
                    assignment: x.assignment
                  })
                  x.awaitingSync = undefined
                }
              }
              yield* cancel("sync")
              yield* setState("Stable")
              return
            }
            default:
              return yield* failWith(
                new UnknownMemberId({ message: `Member ${m.memberId} is not in group ${groupId}.` })
              )
          }
        })

      const heartbeatCommand = (input: MemberRef, reply: Deferred.Deferred<void, GroupError>): Effect.Effect<void> =>
        Effect.gen(function* () {
          const m = validateMember(input.memberId, input.groupInstanceId)
          if (!isMember(m)) return yield* Deferred.fail(reply, m)
          if (input.generationId !== g.generationId) {
            return yield* Deferred.fail(
              reply,
              new IllegalGeneration({ message: `Generation ${input.generationId} is not ${g.generationId}.` })
            )
          }
          yield* heartbeat(m)
          if (g.state === "PreparingRebalance") {
            return yield* Deferred.fail(reply, new RebalanceInProgress({ message: `Group ${groupId} is rebalancing.` }))
          }
          yield* Deferred.succeed(reply, undefined)
        })

      const leave = (members: ReadonlyArray<LeaveMember>): Effect.Effect<ReadonlyArray<LeaveResult>> =>
        Effect.forEach(members, (who) =>
          Effect.gen(function* () {
            const result = (error: GroupError | undefined): LeaveResult => ({ ...who, error })
            let memberId = who.memberId
            if (who.groupInstanceId !== null) {
              const current = g.staticMembers.get(who.groupInstanceId)
              if (current === undefined) {
                return result(new UnknownMemberId({ message: `Instance ${who.groupInstanceId} is not in the group.` }))
              }
              if (memberId !== "" && memberId !== current) {
                return result(
                  new FencedInstanceId({ message: `Member ${memberId} of ${who.groupInstanceId} was fenced.` })
                )
              }
              memberId = current
            } else if (g.pendingMembers.delete(memberId)) {
              yield* cancel(pendingKey(memberId))
              yield* maybeCompleteJoin
              return result(undefined)
            }
            const m = g.members.get(memberId)
            if (m === undefined)
              return result(new UnknownMemberId({ message: `Member ${memberId} is not in the group.` }))
            yield* removeMemberAndRebalance(
              m,
              new UnknownMemberId({ message: `Member ${memberId} left the group.` }),
              `Member ${memberId} left the group`
            )
            return result(undefined)
          })
        )

      const commit = (input: CommitInput): Effect.Effect<void, GroupError> =>
        Effect.gen(function* () {
          const txnWithoutMember = input.txn !== undefined && input.generationId < 0 && input.memberId === ""
          if (txnWithoutMember) {
            // TxnOffsetCommit v0-2 (or without group metadata): the transaction coordinator vouches for it
          } else if (input.generationId >= 0 || input.memberId !== "" || input.groupInstanceId !== null) {
            const m = validateMember(input.memberId, input.groupInstanceId)
            if (!isMember(m)) return yield* Effect.fail(m)
            if (input.generationId !== g.generationId) {
              return yield* new IllegalGeneration({
                message: `Generation ${input.generationId} is not ${g.generationId}.`
              })
            }
            if (g.state === "CompletingRebalance") {
              return yield* new RebalanceInProgress({ message: `Group ${groupId} is completing a rebalance.` })
            }
            yield* heartbeat(m)
          } else if (g.members.size > 0) {
            return yield* new UnknownMemberId({
              message: `Group ${groupId} has members: commits need a member id and generation.`
            })
          }
          const t = yield* now
          const values = input.offsets.map(
            (o): CommittedOffset => ({
              topic: o.topic,
              partition: o.partition,
              offset: o.offset,
              leaderEpoch: o.leaderEpoch,
              metadata: o.metadata,
              commitTimestamp: t,
              expireTimestamp: input.retentionTimeMs >= 0 ? t + input.retentionTimeMs : -1
            })
          )
          yield* store.write(
            values.map((value) => ({ _tag: "Offset", topic: value.topic, partition: value.partition, value })),
            input.txn
          )
          if (input.txn === undefined) {
            for (const v of values) g.offsets.set(offsetKey(v.topic, v.partition), v)
            return
          }
          let pending = g.pendingTxn.get(input.txn.producerId)
          if (pending === undefined) {
            pending = new Map()
            g.pendingTxn.set(input.txn.producerId, pending)
          }
          for (const v of values) pending.set(offsetKey(v.topic, v.partition), v)
        })

      const completeTxn = (producerId: number, committed: boolean): void => {
        const pending = g.pendingTxn.get(producerId)
        if (pending === undefined) return
        g.pendingTxn.delete(producerId)
        if (committed) for (const [k, v] of pending) g.offsets.set(k, v)
      }

      const fetchOffsets = (topics: ReadonlyArray<TopicPartitions> | null): ReadonlyArray<FetchedOffset> => {
        if (topics === null) {
          return [...g.offsets.values()]
            .map((o) => ({
              topic: o.topic,
              partition: o.partition,
              offset: o.offset,
              leaderEpoch: o.leaderEpoch,
              metadata: o.metadata
            }))
            .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
        }
        const pending = (key: string) => {
          for (const offsets of g.pendingTxn.values()) if (offsets.has(key)) return true
          return false
        }
        return topics.flatMap((t) =>
          t.partitions.map((partition) => {
            const key = offsetKey(t.topic, partition)
            const o = g.offsets.get(key)
            const found =
              o === undefined
                ? { topic: t.topic, partition, offset: -1, leaderEpoch: -1, metadata: "" }
                : { topic: t.topic, partition, offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata }
            return g.pendingTxn.size > 0 && pending(key) ? { ...found, unstable: true } : found
          })
        )
      }

      const subscribed = (): Set<string> => {
        const topics = new Set<string>()
        if (g.protocolType !== "consumer") return topics
        for (const m of g.members.values()) for (const t of subscribedTopics(metadataFor(m))) topics.add(t)
        return topics
      }

      const deleteOffsets = (
        topics: ReadonlyArray<TopicPartitions>
      ): Effect.Effect<ReadonlyArray<DeletedOffset>, GroupError> =>
        Effect.gen(function* () {
          if (g.members.size > 0 && g.protocolType !== "consumer") {
            return yield* new NonEmptyGroup({ message: `Group ${groupId} is not empty.` })
          }
          const inUse = g.members.size > 0 ? subscribed() : new Set<string>()
          const results: Array<DeletedOffset> = []
          const records: Array<GroupRecord> = []
          for (const t of topics) {
            for (const partition of t.partitions) {
              if (inUse.has(t.topic)) {
                results.push({
                  topic: t.topic,
                  partition,
                  error: new GroupSubscribedToTopic({ message: `Group ${groupId} subscribes to ${t.topic}.` })
                })
                continue
              }
              if (g.offsets.has(offsetKey(t.topic, partition))) {
                records.push({ _tag: "Offset", topic: t.topic, partition, value: null })
              }
              results.push({ topic: t.topic, partition, error: undefined })
            }
          }
          yield* store.write(records)
          for (const r of records) if (r._tag === "Offset") g.offsets.delete(offsetKey(r.topic, r.partition))
          return results
        })

      const describe = (): GroupDescription => ({
        groupId,
        state: g.state,
        protocolType: g.protocolType ?? "",
        protocolData: g.state === "Stable" ? (g.protocolName ?? "") : "",
        members: [...g.members.values()].map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          metadata: g.state === "Stable" ? metadataFor(m) : EMPTY,
          assignment: g.state === "Stable" ? m.assignment : EMPTY
        }))
      })

      /** Writes tombstones for the whole group and marks it Dead. */
      const removeGroup = Effect.gen(function* () {
        const records: Array<GroupRecord> = [...g.offsets.values()].map((o) => ({
          _tag: "Offset",
          topic: o.topic,
          partition: o.partition,
          value: null
        }))
        records.push({ _tag: "Group", value: null })
        yield* store.write(records)
        g.offsets.clear()
        yield* setState("Dead")
      })

      const deleteGroup: Effect.Effect<void, GroupError> = Effect.gen(function* () {
        if (g.state !== "Empty") return yield* new NonEmptyGroup({ message: `Group ${groupId} is not empty.` })
        yield* removeGroup
      })

      /** Expires offsets per `offsets.retention.minutes` (KIP-211); an empty group left with none goes Dead. */
      const expireOffsets = Effect.gen(function* () {
        const t = yield* now
        const inUse = g.state === "Stable" ? subscribed() : new Set<string>()
        const expired: Array<CommittedOffset> = []
        for (const o of g.offsets.values()) {
          let deadline: number | undefined
          if (o.expireTimestamp >= 0) deadline = o.expireTimestamp
          else if (g.protocolType === null) deadline = o.commitTimestamp + settings.offsetsRetentionMs
          else if (g.state === "Empty") {
            deadline = (g.stateTimestamp >= 0 ? g.stateTimestamp : o.commitTimestamp) + settings.offsetsRetentionMs
          } else if (g.state === "Stable" && g.protocolType === "consumer" && !inUse.has(o.topic)) {
            deadline = o.commitTimestamp + settings.offsetsRetentionMs
          }
          if (deadline !== undefined && deadline <= t) expired.push(o)
        }
        if (expired.length > 0) {
          yield* store.write(
            expired.map((o) => ({ _tag: "Offset", topic: o.topic, partition: o.partition, value: null }))
          )
          for (const o of expired) g.offsets.delete(offsetKey(o.topic, o.partition))
          yield* Effect.logInfo(`Group ${groupId}: expired ${expired.length} committed offset(s)`)
        }
        if (g.state === "Empty" && g.offsets.size === 0 && g.pendingMembers.size === 0) yield* removeGroup
      }).pipe(Effect.catchAll((e) => Effect.logWarning(`Group ${groupId}: offset expiry failed`, e)))

      const timeout = (key: string): Effect.Effect<void> =>
        Effect.gen(function* () {
          tokens.delete(key)
          if (key === "join") {
            if (g.state !== "PreparingRebalance") return
            const delay = g.initialDelay
            if (delay?.newMemberAdded && delay.remainingMs > 0) {
              const next = Math.min(settings.initialRebalanceDelayMs, delay.remainingMs)
              g.initialDelay = { remainingMs: delay.remainingMs - next, newMemberAdded: false }
              return yield* schedule("join", next)
            }
            return yield* completeJoin
          }
          if (key === "sync") {
            if (g.state !== "CompletingRebalance") return
            const gone = new UnknownMemberId({ message: "The member did not send SyncGroup in time." })
            for (const m of [...g.members.values()]) if (m.awaitingSync === undefined) yield* removeMember(m, gone)
            yield* prepareRebalance("Members did not send SyncGroup in time")
            return yield* maybeCompleteJoin
          }
          if (key === "expire") {
            yield* expireOffsets
            if (g.state !== "Dead") yield* schedule("expire", settings.offsetsRetentionCheckIntervalMs)
            return
          }
          if (key.startsWith("pending:")) {
            g.pendingMembers.delete(key.slice("pending:".length))
            return yield* maybeCompleteJoin
          }
          if (key.startsWith("session:")) {
            const m = g.members.get(key.slice("session:".length))
            if (m === undefined) return
            if (m.awaitingJoin !== undefined || m.awaitingSync !== undefined) return yield* heartbeat(m)
            yield* Effect.logDebug(`Group ${groupId}: member ${m.memberId} session expired`)
            return yield* removeMemberAndRebalance(
              m,
              new UnknownMemberId({ message: `Member ${m.memberId}'s session expired.` }),
              `Member ${m.memberId}'s session expired`
            )
          }
        })

      const reply = <A>(d: Deferred.Deferred<A, GroupError>, effect: Effect.Effect<A, GroupError>) =>
        Effect.flatMap(Effect.exit(effect), (exit) => Deferred.done(d, exit))

      const handle = (command: Command): Effect.Effect<void> => {
        if (g.state === "Dead" && command._tag !== "Timeout") {
          if (command._tag === "CompleteTxn") return Effect.asVoid(Deferred.succeed(command.reply, undefined))
          return Effect.asVoid(
            Deferred.fail(
              command.reply as Deferred.Deferred<unknown, GroupError>,
              new CoordinatorNotAvailable({ message: `Group ${groupId} is being deleted.` })
            )
          )
        }
        return Command.$match(command, {
          Join: ({ input, reply: r }) => join(input, r),
          Sync: ({ input, reply: r }) => sync(input, r),
          Heartbeat: ({ input, reply: r }) => heartbeatCommand(input, r),
          Leave: ({ members, reply: r }) => reply(r, leave(members)),
          Commit: ({ input, reply: r }) => reply(r, commit(input)),
          FetchOffsets: ({ topics, reply: r }) =>
            reply(
              r,
              Effect.sync(() => fetchOffsets(topics))
            ),
          DeleteOffsets: ({ topics, reply: r }) => reply(r, deleteOffsets(topics)),
          Describe: ({ reply: r }) => reply(r, Effect.sync(describe)),
          Delete: ({ reply: r }) => reply(r, deleteGroup),
          Timeout: ({ key, token }) => (tokens.get(key) === token ? timeout(key) : Effect.void),
          CompleteTxn: ({ producerId, commit: committed, reply: r }) =>
            Effect.zipRight(
              Effect.sync(() => completeTxn(producerId, committed)),
              Deferred.succeed(r, undefined)
            )
        }).pipe(Effect.asVoid)
      }

      /** Fails every parked reply (the actor is restarting or stopping). */
      const abortParked = (error: GroupError) =>
        Effect.forEach(
          [...g.members.values()],
          (m) =>
            Effect.gen(function* () {
              if (m.awaitingJoin !== undefined) yield* Deferred.fail(m.awaitingJoin, error)
              if (m.awaitingSync !== undefined) yield* Deferred.fail(m.awaitingSync, error)
              m.awaitingJoin = undefined
              m.awaitingSync = undefined
            }),
          { discard: true }
        )

      /** Arms the timers of a freshly loaded state. */
      const arm = Effect.gen(function* () {
        for (const m of g.members.values()) yield* heartbeat(m)
        yield* schedule("expire", settings.offsetsRetentionCheckIntervalMs)
        publish()
      })

      /** After a defect (the kit logged it): parked replies fail, timers stop, the state is reloaded. */
      const recover = Effect.gen(function* () {
        yield* abortParked(new NotCoordinator({ message: `The coordinator of group ${groupId} restarted.` }))
        yield* FiberMap.clear(timers)
        tokens.clear()
        const stored = yield* store.load.pipe(
          Effect.retry({ times: 3 }),
          Effect.catchAll((e) =>
            Effect.as(Effect.logError(`Group ${groupId}: cannot reload its state; starting empty`, e), undefined)
          )
        )
        g = fromStored(stored)
        yield* arm
      })

      return {
        start: arm,
        receive: (command) =>
          (options.beforeCommand === undefined
            ? handle(command)
            : Effect.zipRight(options.beforeCommand(command), handle(command))
          ).pipe(Effect.zipRight(Effect.sync(publish))),
        onDefect: (commands) =>
          Effect.forEach(
            commands,
            (command) =>
              command._tag === "Timeout"
                ? Effect.void
                : Deferred.fail(
                    command.reply as Deferred.Deferred<unknown, GroupError>,
                    new NotCoordinator({ message: `The coordinator of group ${groupId} failed; retry.` })
                  ),
            { discard: true }
          ),
        recover,
        isDone: () => g.state === "Dead",
        onExit: Effect.suspend(() =>
          g.state === "Dead"
            ? Effect.sync(options.onDead)
            : abortParked(new NotCoordinator({ message: `The coordinator of group ${groupId} is shutting down.` }))
        )
      }
    }

    const run: Effect.Effect<void> = Effect.scoped(
      Effect.flatMap(FiberMap.make<string>(), (timers) => actor.run(behavior(timers)))
    ).pipe(Effect.annotateLogs("group", groupId))

    return { send, run }
  })
