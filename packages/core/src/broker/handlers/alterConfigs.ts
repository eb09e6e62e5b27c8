// AlterConfigs v0-2: v1 same as v0; v2 flexible. Replaces all of a resource's dynamic configs (KIP-133).
import { Effect } from "effect"
import * as AlterConfigs from "../../protocol/generated/AlterConfigs.js"
import { Codes, none, toWire, type WireError, wireMessage } from "../BrokerError.js"
import * as Handler from "../Handler.js"
import * as Configs from "../internal/configs.js"
import { TopicRegistry, validateName } from "../TopicRegistry.js"

type Result = AlterConfigs.AlterConfigsResponseAlterConfigsResourceResponse

const result = (resource: AlterConfigs.AlterConfigsRequestAlterConfigsResource, error: WireError): Result => ({
  errorCode: error.errorCode,
  errorMessage: wireMessage(error.errorMessage),
  resourceType: resource.resourceType,
  resourceName: resource.resourceName
})

/** The answer for a broker resource: Eddy has no dynamic broker configs yet. */
export const brokerAlterError = (resourceName: string, nodeId: number): WireError =>
  resourceName !== "" && resourceName !== String(nodeId)
    ? { errorCode: Codes.INVALID_REQUEST, errorMessage: `Unexpected broker id ${resourceName}` }
    : {
        errorCode: Codes.INVALID_REQUEST,
        errorMessage: "Cannot update broker configs dynamically: set them in server.properties and restart"
      }

export const handler = Handler.make({
  apiKey: AlterConfigs.apiKey,
  minVersion: AlterConfigs.validVersions.min,
  maxVersion: AlterConfigs.validVersions.max,
  handle: (request, context) =>
    Effect.gen(function* () {
      const registry = yield* TopicRegistry
      const responses: Array<Result> = []
      for (const resource of request.resources) {
        if (resource.resourceType === Configs.ResourceType.TOPIC) {
          const problem = validateName(resource.resourceName)
          if (problem !== undefined) {
            responses.push(result(resource, { errorCode: Codes.INVALID_TOPIC_EXCEPTION, errorMessage: problem }))
            continue
          }
          const outcome = yield* Effect.either(
            registry.alterConfigs(resource.resourceName, resource.configs, { validateOnly: request.validateOnly })
          )
          responses.push(result(resource, outcome._tag === "Left" ? toWire(outcome.left) : none))
        } else if (resource.resourceType === Configs.ResourceType.BROKER) {
          responses.push(result(resource, brokerAlterError(resource.resourceName, context.broker.nodeId)))
        } else {
          responses.push(
            result(resource, {
              errorCode: Codes.INVALID_REQUEST,
              errorMessage: `Unsupported resource type ${resource.resourceType}`
            })
          )
        }
      }
      return AlterConfigs.makeAlterConfigsResponse({ responses })
    }),
  errorResponse: (request, error) =>
    AlterConfigs.makeAlterConfigsResponse({ responses: request.resources.map((r) => result(r, error)) })
})
