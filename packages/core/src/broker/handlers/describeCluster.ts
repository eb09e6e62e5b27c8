// DescribeCluster v0-1: cluster id, controller and brokers (KIP-700); v1 endpoint_type (KIP-919).
import { Effect } from "effect"
import * as DescribeCluster from "../../protocol/generated/DescribeCluster.js"
import { Codes, wireMessage } from "../BrokerError.js"
import * as Handler from "../Handler.js"
import { AUTHORIZED_OPERATIONS_OMITTED, CLUSTER_OPERATIONS, controllerIdOf } from "./metadata.js"

const BROKER_ENDPOINT = 1

export const handler = Handler.make({
  apiKey: DescribeCluster.apiKey,
  minVersion: DescribeCluster.validVersions.min,
  maxVersion: DescribeCluster.validVersions.max,
  handle: (request, context) =>
    Effect.sync(() => {
      const { broker } = context
      if (context.apiVersion >= 1 && request.endpointType !== BROKER_ENDPOINT) {
        return DescribeCluster.makeDescribeClusterResponse({
          errorCode: Codes.MISMATCHED_ENDPOINT_TYPE,
          errorMessage: "The request was sent to an endpoint of type BROKER",
          endpointType: BROKER_ENDPOINT,
          clusterId: broker.clusterId,
          controllerId: -1
        })
      }
      return DescribeCluster.makeDescribeClusterResponse({
        endpointType: BROKER_ENDPOINT,
        clusterId: broker.clusterId,
        controllerId: controllerIdOf(broker),
        brokers: broker.brokers().map((b) => ({ brokerId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
        clusterAuthorizedOperations: request.includeClusterAuthorizedOperations
          ? CLUSTER_OPERATIONS
          : AUTHORIZED_OPERATIONS_OMITTED
      })
    }),
  errorResponse: (_request, error, context) =>
    DescribeCluster.makeDescribeClusterResponse({
      errorCode: error.errorCode,
      errorMessage: wireMessage(error.errorMessage),
      clusterId: context.broker.clusterId
    })
})
