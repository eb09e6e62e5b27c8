// JoinGroup v0-9: v1 rebalance timeout; v2 throttle; v4 MEMBER_ID_REQUIRED (KIP-394); v5 group.instance.id (KIP-345); v6 flexible; v7 protocol type/name in the answer (KIP-559); v8 reason (KIP-800); v9 skip_assignment (KIP-814).
import { Effect } from "effect"
import * as JoinGroup from "../../protocol/generated/JoinGroup.js"
import { Codes, toWire } from "../BrokerError.js"
import { GroupCoordinator } from "../GroupCoordinator.js"
import * as Handler from "../Handler.js"
import { clientHost } from "../internal/groupHandlers.js"

export const handler = Handler.make({
  apiKey: JoinGroup.apiKey,
  minVersion: JoinGroup.validVersions.min,
  maxVersion: JoinGroup.validVersions.max,
  handle: (request, context) =>
    Effect.gen(function* () {
      const groups = yield* GroupCoordinator
      const result = yield* groups.joinGroup(request.groupId, {
        memberId: request.memberId,
        groupInstanceId: request.groupInstanceId,
        clientId: context.clientId ?? "",
        clientHost: clientHost(context),
        sessionTimeoutMs: request.sessionTimeoutMs,
        // v0 has no rebalance timeout: Kafka uses the session timeout
        rebalanceTimeoutMs: context.apiVersion === 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs,
        protocolType: request.protocolType,
        protocols: request.protocols,
        requireKnownMemberId: context.apiVersion >= 4,
        supportsSkipAssignment: context.apiVersion >= 9
      })
      return JoinGroup.makeJoinGroupResponse({
        errorCode: Codes.NONE,
        generationId: result.generationId,
        protocolType: result.protocolType,
        protocolName: context.apiVersion >= 7 ? result.protocolName : (result.protocolName ?? ""),
        leader: result.leader,
        skipAssignment: result.skipAssignment,
        memberId: result.memberId,
        members: result.members.map((m) =>
          JoinGroup.makeJoinGroupResponseMember({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            metadata: m.metadata
          })
        )
      })
    }).pipe(
      Effect.catchTag("MemberIdRequired", (e) =>
        Effect.succeed(
          JoinGroup.makeJoinGroupResponse({
            errorCode: toWire(e).errorCode,
            generationId: -1,
            protocolType: null,
            protocolName: context.apiVersion >= 7 ? null : "",
            memberId: e.memberId
          })
        )
      )
    ),
  errorResponse: (request, error, context) =>
    JoinGroup.makeJoinGroupResponse({
      errorCode: error.errorCode,
      generationId: -1,
      protocolType: null,
      protocolName: context.apiVersion >= 7 ? null : "",
      memberId: request.memberId
    })
})
