// DeleteGroups v0-2: v1 throttle; v2 flexible. Only empty groups can be deleted (NON_EMPTY_GROUP otherwise, KIP-229).
import { Effect } from "effect"
import * as DeleteGroups from "../../protocol/generated/DeleteGroups.js"
import { Codes, toWire } from "../BrokerError.js"
import { GroupCoordinator } from "../GroupCoordinator.js"
import * as Handler from "../Handler.js"

export const handler = Handler.make({
  apiKey: DeleteGroups.apiKey,
  minVersion: DeleteGroups.validVersions.min,
  maxVersion: DeleteGroups.validVersions.max,
  handle: (request) =>
    Effect.gen(function* () {
      const groups = yield* GroupCoordinator
      const results = yield* Effect.forEach(request.groupsNames, (groupId) =>
        groups.deleteGroup(groupId).pipe(
          Effect.as(Codes.NONE),
          Effect.catchAll((e) => Effect.succeed(toWire(e).errorCode)),
          Effect.map((errorCode) => DeleteGroups.makeDeleteGroupsResponseDeletableGroupResult({ groupId, errorCode }))
        )
      )
      return DeleteGroups.makeDeleteGroupsResponse({ results })
    }),
  errorResponse: (request, error) =>
    DeleteGroups.makeDeleteGroupsResponse({
      results: request.groupsNames.map((groupId) =>
        DeleteGroups.makeDeleteGroupsResponseDeletableGroupResult({ groupId, errorCode: error.errorCode })
      )
    })
})
