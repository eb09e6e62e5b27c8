// DescribeGroups v0-5: v1 throttle; v3 authorized operations (KIP-430); v4 group.instance.id (KIP-345); v5 flexible.
import { Effect } from "effect"
import * as DescribeGroups from "../../protocol/generated/DescribeGroups.js"
import { Codes, toWire } from "../BrokerError.js"
import { GroupCoordinator } from "../GroupCoordinator.js"
import * as Handler from "../Handler.js"

/** `authorized_operations` when not requested. */
const OPERATIONS_OMITTED = -2147483648
/** Every group operation (no ACLs yet): READ, DELETE, DESCRIBE. */
const GROUP_OPERATIONS = [3, 6, 8].reduce((a, b) => a | (1 << b), 0)

export const handler = Handler.make({
  apiKey: DescribeGroups.apiKey,
  minVersion: DescribeGroups.validVersions.min,
  maxVersion: DescribeGroups.validVersions.max,
  handle: (request) =>
    Effect.gen(function* () {
      const groups = yield* GroupCoordinator
      const operations = request.includeAuthorizedOperations ? GROUP_OPERATIONS : OPERATIONS_OMITTED
      const described = yield* Effect.forEach(request.groups, (groupId) =>
        groups.describeGroup(groupId).pipe(
          Effect.map((d) =>
            DescribeGroups.makeDescribeGroupsResponseDescribedGroup({
              errorCode: Codes.NONE,
              groupId,
              groupState: d.state,
              protocolType: d.protocolType,
              protocolData: d.protocolData,
              members: d.members.map((m) =>
                DescribeGroups.makeDescribeGroupsResponseDescribedGroupMember({
                  memberId: m.memberId,
                  groupInstanceId: m.groupInstanceId,
                  clientId: m.clientId,
                  clientHost: m.clientHost,
                  memberMetadata: m.metadata,
                  memberAssignment: m.assignment
                })
              ),
              authorizedOperations: operations
            })
          ),
          Effect.catchAll((e) =>
            Effect.succeed(
              DescribeGroups.makeDescribeGroupsResponseDescribedGroup({ errorCode: toWire(e).errorCode, groupId })
            )
          )
        )
      )
      return DescribeGroups.makeDescribeGroupsResponse({ groups: described })
    }),
  errorResponse: (request, error) =>
    DescribeGroups.makeDescribeGroupsResponse({
      groups: request.groups.map((groupId) =>
        DescribeGroups.makeDescribeGroupsResponseDescribedGroup({ errorCode: error.errorCode, groupId })
      )
    })
})
