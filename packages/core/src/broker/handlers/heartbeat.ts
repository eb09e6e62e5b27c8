// Heartbeat v0-4: v1 throttle; v3 group.instance.id (KIP-345); v4 flexible (KIP-511).
import { Effect } from "effect"
import * as Heartbeat from "../../protocol/generated/Heartbeat.js"
import { Codes } from "../BrokerError.js"
import { GroupCoordinator } from "../GroupCoordinator.js"
import * as Handler from "../Handler.js"

export const handler = Handler.make({
  apiKey: Heartbeat.apiKey,
  minVersion: Heartbeat.validVersions.min,
  maxVersion: Heartbeat.validVersions.max,
  handle: (request) =>
    Effect.gen(function* () {
      const groups = yield* GroupCoordinator
      yield* groups.heartbeat(request.groupId, {
        generationId: request.generationId,
        memberId: request.memberId,
        groupInstanceId: request.groupInstanceId
      })
      return Heartbeat.makeHeartbeatResponse({ errorCode: Codes.NONE })
    }),
  errorResponse: (_request, error) => Heartbeat.makeHeartbeatResponse({ errorCode: error.errorCode })
})
