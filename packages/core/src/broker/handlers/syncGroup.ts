// SyncGroup v0-5: v1 throttle; v3 group.instance.id (KIP-345); v4 flexible; v5 protocol type/name (KIP-559).
import { Effect } from "effect"
import * as SyncGroup from "../../protocol/generated/SyncGroup.js"
import { Codes } from "../BrokerError.js"
import { GroupCoordinator } from "../GroupCoordinator.js"
import * as Handler from "../Handler.js"

export const handler = Handler.make({
  apiKey: SyncGroup.apiKey,
  minVersion: SyncGroup.validVersions.min,
  maxVersion: SyncGroup.validVersions.max,
  handle: (request) =>
    Effect.gen(function* () {
      const groups = yield* GroupCoordinator
      const result = yield* groups.syncGroup(request.groupId, {
        generationId: request.generationId,
        memberId: request.memberId,
        groupInstanceId: request.groupInstanceId,
        protocolType: request.protocolType,
        protocolName: request.protocolName,
        assignments: request.assignments
      })
      return SyncGroup.makeSyncGroupResponse({
        errorCode: Codes.NONE,
        protocolType: result.protocolType,
        protocolName: result.protocolName,
        assignment: result.assignment
      })
    }),
  errorResponse: (_request, error) =>
    SyncGroup.makeSyncGroupResponse({ errorCode: error.errorCode, assignment: new Uint8Array(0) })
})
