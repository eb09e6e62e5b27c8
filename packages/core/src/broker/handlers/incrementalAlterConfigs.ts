// IncrementalAlterConfigs v0-1: SET/DELETE/APPEND/SUBTRACT per key (KIP-339); v1 flexible.
import { Effect } from "effect"
import * as IncrementalAlterConfigs from "../../protocol/generated/IncrementalAlterConfigs.js"
import { Codes, none, toWire, type WireError, wireMessage } from "../BrokerError.js"
import * as Handler from "../Handler.js"
import * as Configs from "../internal/configs.js"
import { type AlterOp, TopicRegistry, validateName } from "../TopicRegistry.js"
import { brokerAlterError } from "./alterConfigs.js"

type Result = IncrementalAlterConfigs.IncrementalAlterConfigsResponseAlterConfigsResourceResponse

const result = (
  resource: IncrementalAlterConfigs.IncrementalAlterConfigsRequestAlterConfigsResource,
  error: WireError
): Result => ({
  errorCode: error.errorCode,
  errorMessage: wireMessage(error.errorMessage),
  resourceType: resource.resourceType,
  resourceName: resource.resourceName
})

export const handler = Handler.make({
  apiKey: IncrementalAlterConfigs.apiKey,
  minVersion: IncrementalAlterConfigs.validVersions.min,
  maxVersion: IncrementalAlterConfigs.validVersions.max,
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
          const badOp = resource.configs.find((c) => c.configOperation < 0 || c.configOperation > 3)
          if (badOp !== undefined) {
            responses.push(
              result(resource, {
                errorCode: Codes.INVALID_REQUEST,
                errorMessage: `Unknown config operation ${badOp.configOperation} for ${badOp.name}`
              })
            )
            continue
          }
          const ops: Array<AlterOp> = resource.configs.map((c) => ({
            name: c.name,
            op: c.configOperation as AlterOp["op"],
            value: c.value
          }))
          const outcome = yield* Effect.either(
            registry.incrementalAlterConfigs(resource.resourceName, ops, { validateOnly: request.validateOnly })
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
      return IncrementalAlterConfigs.makeIncrementalAlterConfigsResponse({ responses })
    }),
  errorResponse: (request, error) =>
    IncrementalAlterConfigs.makeIncrementalAlterConfigsResponse({
      responses: request.resources.map((r) => result(r, error))
    })
})
