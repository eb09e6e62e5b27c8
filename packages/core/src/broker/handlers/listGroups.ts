// ListGroups v0-5: v1 throttle; v3 flexible; v4 states filter (KIP-518); v5 types filter and group type (KIP-848; every group here is "classic").
import { Effect } from "effect"
import * as ListGroups from "../../protocol/generated/ListGroups.js"
import { Codes } from "../BrokerError.js"
import { GroupCoordinator } from "../GroupCoordinator.js"
import * as Handler from "../Handler.js"

export const handler = Handler.make({
  apiKey: ListGroups.apiKey,
  minVersion: ListGroups.validVersions.min,
  maxVersion: ListGroups.validVersions.max,
  handle: (request, context) =>
    Effect.gen(function* () {
      const groups = yield* GroupCoordinator
      const states = context.apiVersion >= 4 ? new Set(request.statesFilter.map((s) => s.toLowerCase())) : new Set()
      const types = context.apiVersion >= 5 ? new Set(request.typesFilter.map((s) => s.toLowerCase())) : new Set()
      const listed = (yield* groups.listGroups)
        .filter((g) => states.size === 0 || states.has(g.state.toLowerCase()))
        .filter(() => types.size === 0 || types.has("classic"))
        .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0))
      return ListGroups.makeListGroupsResponse({
        errorCode: Codes.NONE,
        groups: listed.map((g) =>
          ListGroups.makeListGroupsResponseListedGroup({
            groupId: g.groupId,
            protocolType: g.protocolType,
            groupState: g.state,
            groupType: "classic"
          })
        )
      })
    }),
  errorResponse: (_request, error) => ListGroups.makeListGroupsResponse({ errorCode: error.errorCode, groups: [] })
})
