// LeaveGroup v0-5: v1 throttle; v3 batches members with group.instance.id (KIP-345); v4 flexible; v5 reason (KIP-800).
import { Effect } from "effect"
import * as LeaveGroup from "../../protocol/generated/LeaveGroup.js"
import { Codes, toWire } from "../BrokerError.js"
import { GroupCoordinator } from "../GroupCoordinator.js"
import * as Handler from "../Handler.js"

const BATCHED_VERSION = 3

export const handler = Handler.make({
  apiKey: LeaveGroup.apiKey,
  minVersion: LeaveGroup.validVersions.min,
  maxVersion: LeaveGroup.validVersions.max,
  handle: (request, context) =>
    Effect.gen(function* () {
      const groups = yield* GroupCoordinator
      const batched = context.apiVersion >= BATCHED_VERSION
      const who = batched
        ? request.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId }))
        : [{ memberId: request.memberId, groupInstanceId: null }]
      const results = yield* groups.leaveGroup(request.groupId, who)
      const members = results.map((r) =>
        LeaveGroup.makeLeaveGroupResponseMemberResponse({
          memberId: r.memberId,
          groupInstanceId: r.groupInstanceId,
          errorCode: r.error === undefined ? Codes.NONE : toWire(r.error).errorCode
        })
      )
      // before v3 the one member's outcome is the top-level error
      return LeaveGroup.makeLeaveGroupResponse({
        errorCode: batched ? Codes.NONE : (members[0]?.errorCode ?? Codes.NONE),
        members: batched ? members : []
      })
    }),
  errorResponse: (_request, error) => LeaveGroup.makeLeaveGroupResponse({ errorCode: error.errorCode })
})
