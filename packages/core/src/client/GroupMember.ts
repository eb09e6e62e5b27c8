/**
 * A member of a classic-protocol group for any protocol type (Kafka Connect's `connect`, or your own): it
 * runs FindCoordinator, JoinGroup, SyncGroup, Heartbeat and LeaveGroup, and leaves the meaning of the
 * protocols to its caller: member metadata and assignments are opaque bytes. The elected leader's `assign`
 * callback computes every member's assignment from their metadata; every member's `onAssigned` receives its
 * own. Closing the member's scope leaves the group (a static member, with `group.instance.id`, does not).
 *
 * Invariants: one fiber (the membership loop) sends every group request and calls every callback, in order
 * (join, assign, sync, onAssigned, heartbeats until a rejoin is needed), so callbacks never overlap and must
 * return quickly (hand work to another fiber): heartbeats wait while a callback runs. Time comes from `Clock`.
 */
import { Clock, Duration, Effect, ExecutionStrategy, Exit, Option, Queue, Schema, Scope } from "effect"
import type { ApiKey, RequestTypes, ResponseTypes } from "../protocol/generated/ApiKey.js"
import { ErrorCode } from "../protocol/generated/ErrorCode.js"
import * as FindCoordinator from "../protocol/generated/FindCoordinator.js"
import * as Heartbeat from "../protocol/generated/Heartbeat.js"
import * as JoinGroup from "../protocol/generated/JoinGroup.js"
import * as LeaveGroup from "../protocol/generated/LeaveGroup.js"
import * as SyncGroup from "../protocol/generated/SyncGroup.js"
import type * as ClientConfig from "./ClientConfig.js"
import * as ClientError from "./ClientError.js"
import * as Cluster from "./Cluster.js"
import * as Connection from "./Connection.js"

/** Settings of a group member (Kafka's names). */
export interface GroupMemberConfig extends ClientConfig.ClientConfig {
  /** The group to join (required). */
  readonly "group.id": string
  /** Static membership: a restart within the session timeout keeps the member's place. */
  readonly "group.instance.id"?: string
  /** The coordinator removes a member that sends no heartbeat for this long. Default 10000 (Connect's). */
  readonly "session.timeout.ms"?: number
  /** Heartbeat period. Default 3000. */
  readonly "heartbeat.interval.ms"?: number
  /** How long the coordinator waits for every member to rejoin during a rebalance. Default 60000. */
  readonly "rebalance.timeout.ms"?: number
}

/** A group member's defaults (those of Kafka Connect's workers). */
export const defaults = {
  "session.timeout.ms": 10000,
  "heartbeat.interval.ms": 3000,
  "rebalance.timeout.ms": 60000
} as const

/** A protocol the member supports, with its metadata (in preference order in a join). */
export interface GroupProtocol {
  readonly name: string
  readonly metadata: Uint8Array
}

/** A member as the leader sees it in JoinGroup's answer. */
export interface JoinedMember {
  readonly memberId: string
  readonly groupInstanceId: string | null
  readonly metadata: Uint8Array
}

/** What the leader gets to compute assignments. */
export interface LeaderJoin {
  readonly generationId: number
  readonly memberId: string
  readonly protocol: string
  readonly members: ReadonlyArray<JoinedMember>
}

/** A member's assignment in a generation. */
export interface Assigned {
  readonly generationId: number
  readonly memberId: string
  readonly leaderId: string
  readonly protocol: string
  /** The leader's bytes for this member (empty when it gave none). */
  readonly assignment: Uint8Array
}

/** What the caller plugs into the member. */
export interface GroupMemberCallbacks<R = never> {
  /** The protocol type every member of the group must share (e.g. `connect`). */
  readonly protocolType: string
  /** The protocols and their metadata, asked again before every join. */
  readonly protocols: Effect.Effect<ReadonlyArray<GroupProtocol>, never, R>
  /** Leader only: the assignment (bytes) of every member id. Members left out get empty bytes. */
  readonly assign: (join: LeaderJoin) => Effect.Effect<ReadonlyMap<string, Uint8Array>, never, R>
  /** The member's assignment after each successful SyncGroup. */
  readonly onAssigned: (assigned: Assigned) => Effect.Effect<void, never, R>
  /** The membership was lost (session expired, fenced, generation gone); the member rejoins next. */
  readonly onLost?: (reason: string) => Effect.Effect<void, never, R>
}

/** A running group member. */
export interface GroupMember {
  /** The member id ("" while not in the group). */
  readonly memberId: Effect.Effect<string>
  /** The current generation (-1 while not in the group). */
  readonly generationId: Effect.Effect<number>
  /** Asks for a rebalance (the member rejoins at once; the others follow when the coordinator tells them). */
  readonly rejoin: Effect.Effect<void>
}

/** The member's configuration is invalid. */
export class GroupMemberConfigError extends Schema.TaggedError<GroupMemberConfigError>()("GroupMemberConfigError", {
  message: Schema.String
}) {}

const isCoordinatorError = (code: number) =>
  code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS ||
  code === ErrorCode.COORDINATOR_NOT_AVAILABLE ||
  code === ErrorCode.NOT_COORDINATOR

/** Starts a group member in the current scope; closing the scope leaves the group. */
export const make = <R = never>(
  config: GroupMemberConfig,
  callbacks: GroupMemberCallbacks<R>
): Effect.Effect<GroupMember, GroupMemberConfigError, Scope.Scope | R> =>
  Effect.gen(function* () {
    const groupId = config["group.id"]
    if (!groupId) return yield* new GroupMemberConfigError({ message: "group.id is required for a group member" })
    const sessionTimeoutMs = config["session.timeout.ms"] ?? defaults["session.timeout.ms"]
    const heartbeatMs = config["heartbeat.interval.ms"] ?? defaults["heartbeat.interval.ms"]
    const rebalanceTimeoutMs = config["rebalance.timeout.ms"] ?? defaults["rebalance.timeout.ms"]
    if (heartbeatMs >= sessionTimeoutMs)
      return yield* new GroupMemberConfigError({ message: "heartbeat.interval.ms must be below session.timeout.ms" })
    const groupInstanceId = config["group.instance.id"] ?? null
    const cluster = yield* Cluster.make({ ...config, "allow.auto.create.topics": false })
    const resolved = cluster.config
    // the coordinator connection closes after the member's finalizer (which sends LeaveGroup through it)
    const coordParent = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    const context = yield* Effect.context<R>()
    const withR = <A>(e: Effect.Effect<A, never, R>) => Effect.provide(e, context)

    let memberId = ""
    let generationId = -1
    const signal = yield* Queue.sliding<void>(1)

    let coordinator: { readonly conn: Connection.Connection; readonly scope: Scope.CloseableScope } | undefined
    const dropCoordinator = Effect.suspend(() => {
      const c = coordinator
      coordinator = undefined
      return c === undefined ? Effect.void : Scope.close(c.scope, Exit.void)
    })
    const findCoordinator: Effect.Effect<Connection.Connection, Cluster.Error> = Effect.suspend(() => {
      if (coordinator?.conn.isOpen() === true) return Effect.succeed(coordinator.conn)
      return Effect.gen(function* () {
        yield* dropCoordinator
        const res = yield* cluster.send(undefined, 10, (v) =>
          FindCoordinator.makeFindCoordinatorRequest(
            v >= 4 ? { keyType: 0, coordinatorKeys: [groupId] } : { key: groupId, keyType: 0 }
          )
        )
        const c = res.coordinators[0] ?? res
        if (c.errorCode !== ErrorCode.NONE)
          return yield* ClientError.fromCode(c.errorCode, { message: `group ${groupId}` })
        const scope = yield* Scope.fork(coordParent, ExecutionStrategy.sequential)
        const conn = yield* Connection.make({
          host: c.host,
          port: c.port,
          clientId: resolved["client.id"],
          // a JoinGroup waits up to the rebalance timeout
          requestTimeoutMs: Math.max(resolved["request.timeout.ms"], rebalanceTimeoutMs + 5000),
          connectTimeoutMs: resolved["socket.connection.setup.timeout.ms"]
        }).pipe(
          Scope.extend(scope),
          Effect.tapError(() => Scope.close(scope, Exit.void))
        )
        coordinator = { conn, scope }
        return conn
      })
    })
    const coordSend = <K extends ApiKey>(
      apiKey: K,
      body: (version: number) => RequestTypes[K]
    ): Effect.Effect<ResponseTypes[K], Cluster.Error> =>
      Effect.flatMap(findCoordinator, (conn) =>
        conn.sendNegotiated(apiKey, body).pipe(Effect.tapError(() => dropCoordinator))
      )
    const failCode = (code: number) =>
      Effect.zipRight(
        isCoordinatorError(code) ? dropCoordinator : Effect.void,
        Effect.fail(ClientError.fromCode(code, { message: `group ${groupId}` }))
      )
    const lose = (reason: string, code: number) =>
      Effect.gen(function* () {
        if (code === ErrorCode.UNKNOWN_MEMBER_ID) memberId = ""
        generationId = -1
        yield* Effect.logInfo(`member ${memberId || "-"} of group ${groupId} lost its membership: ${reason}`)
        if (callbacks.onLost) yield* withR(callbacks.onLost(reason))
      })

    /** JoinGroup until the coordinator accepts the member (retrying the codes that ask for it). */
    const join = Effect.gen(function* () {
      const protocols = yield* withR(callbacks.protocols)
      for (;;) {
        const res = yield* coordSend(11, () =>
          JoinGroup.makeJoinGroupRequest({
            groupId,
            sessionTimeoutMs,
            rebalanceTimeoutMs,
            memberId,
            groupInstanceId,
            protocolType: callbacks.protocolType,
            protocols: protocols.map((p) =>
              JoinGroup.makeJoinGroupRequestProtocol({ name: p.name, metadata: p.metadata })
            ),
            reason: null
          })
        )
        if (res.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
          memberId = res.memberId
          continue
        }
        if (res.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
          memberId = ""
          continue
        }
        if (res.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) {
          yield* Effect.sleep(Duration.millis(resolved["retry.backoff.ms"]))
          continue
        }
        if (res.errorCode !== ErrorCode.NONE) return yield* failCode(res.errorCode)
        return res
      }
    })

    /** One rebalance: join, assign when leader, sync, hand over the assignment. False: rejoin at once. */
    const rebalance = Effect.gen(function* () {
      yield* Queue.takeAll(signal)
      const joined = yield* join
      memberId = joined.memberId
      generationId = joined.generationId
      const protocol = joined.protocolName ?? ""
      let assignments: Array<SyncGroup.SyncGroupRequestAssignment> = []
      if (joined.leader === memberId && !joined.skipAssignment) {
        const byMember = yield* withR(
          callbacks.assign({
            generationId,
            memberId,
            protocol,
            members: joined.members.map((m) => ({
              memberId: m.memberId,
              groupInstanceId: m.groupInstanceId,
              metadata: m.metadata
            }))
          })
        )
        assignments = joined.members.map((m) =>
          SyncGroup.makeSyncGroupRequestAssignment({
            memberId: m.memberId,
            assignment: byMember.get(m.memberId) ?? new Uint8Array(0)
          })
        )
      }
      const sync = yield* coordSend(14, () =>
        SyncGroup.makeSyncGroupRequest({
          groupId,
          generationId,
          memberId,
          groupInstanceId,
          protocolType: callbacks.protocolType,
          protocolName: protocol,
          assignments
        })
      )
      if (sync.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) return false
      if (sync.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || sync.errorCode === ErrorCode.ILLEGAL_GENERATION) {
        yield* lose(`SyncGroup: ${ClientError.fromCode(sync.errorCode).errorName}`, sync.errorCode)
        return false
      }
      if (sync.errorCode !== ErrorCode.NONE) return yield* failCode(sync.errorCode)
      yield* withR(
        callbacks.onAssigned({ generationId, memberId, leaderId: joined.leader, protocol, assignment: sync.assignment })
      )
      return true
    })

    /** Heartbeats until a rejoin is needed (asked for, or said by the coordinator, or the session is lost). */
    const heartbeats = Effect.gen(function* () {
      let lastOk = yield* Clock.currentTimeMillis
      for (;;) {
        const woke = yield* Queue.take(signal).pipe(Effect.timeout(Duration.millis(heartbeatMs)), Effect.option)
        if (Option.isSome(woke)) return
        const res = yield* coordSend(12, () =>
          Heartbeat.makeHeartbeatRequest({ groupId, generationId, memberId, groupInstanceId })
        ).pipe(Effect.either)
        const now = yield* Clock.currentTimeMillis
        if (res._tag === "Left" || isCoordinatorError(res.right.errorCode)) {
          if (res._tag === "Right") yield* dropCoordinator
          if (now - lastOk >= sessionTimeoutMs) return yield* lose("no heartbeat reached the coordinator", 0)
          continue
        }
        const code = res.right.errorCode
        if (code === ErrorCode.NONE) {
          lastOk = now
          continue
        }
        if (code === ErrorCode.REBALANCE_IN_PROGRESS) return
        if (code === ErrorCode.UNKNOWN_MEMBER_ID || code === ErrorCode.ILLEGAL_GENERATION)
          return yield* lose(`Heartbeat: ${ClientError.fromCode(code).errorName}`, code)
        return yield* failCode(code)
      }
    })

    const membership = Effect.forever(
      Effect.gen(function* () {
        if (yield* rebalance) yield* heartbeats
      }).pipe(
        Effect.catchAll((e) =>
          Effect.zipRight(
            ClientError.isRetriable(e)
              ? Effect.logDebug(`group ${groupId}: ${String(e)}; retrying`)
              : Effect.logWarning(`group ${groupId}: ${String(e)}; retrying`),
            Effect.sleep(Duration.millis(resolved["retry.backoff.ms"]))
          )
        )
      )
    )

    const leave = Effect.suspend(() => {
      if (memberId === "" || groupInstanceId !== null) return Effect.void
      const id = memberId
      memberId = ""
      generationId = -1
      return coordSend(13, (v) =>
        v >= 3
          ? LeaveGroup.makeLeaveGroupRequest({
              groupId,
              members: [LeaveGroup.makeLeaveGroupRequestMemberIdentity({ memberId: id, groupInstanceId, reason: null })]
            })
          : LeaveGroup.makeLeaveGroupRequest({ groupId, memberId: id })
      ).pipe(
        Effect.timeout(Duration.millis(resolved["request.timeout.ms"])),
        Effect.catchAll((e) => Effect.logDebug(`LeaveGroup failed: ${String(e)}`))
      )
    })
    // finalizers run last-in first-out: the loop stops first, then the member leaves
    yield* Effect.addFinalizer(() => leave)
    yield* Effect.forkScoped(membership)
    return {
      memberId: Effect.sync(() => memberId),
      generationId: Effect.sync(() => generationId),
      rejoin: Effect.asVoid(Queue.offer(signal, undefined))
    }
  })
