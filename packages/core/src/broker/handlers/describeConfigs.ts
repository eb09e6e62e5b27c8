// DescribeConfigs v0-4: v1 config_source and synonyms (KIP-226); v3 config_type and documentation (KIP-569); v4 flexible.
import { Effect } from "effect"
import * as DescribeConfigs from "../../protocol/generated/DescribeConfigs.js"
import { Codes, none, type WireError, wireMessage } from "../BrokerError.js"
import * as Handler from "../Handler.js"
import * as Configs from "../internal/configs.js"
import { TopicRegistry, validateName } from "../TopicRegistry.js"

type Result = DescribeConfigs.DescribeConfigsResponseDescribeConfigsResult

const result = (
  resource: DescribeConfigs.DescribeConfigsRequestDescribeConfigsResource,
  error: WireError,
  configs: Array<DescribeConfigs.DescribeConfigsResponseDescribeConfigsResourceResult> = []
): Result => ({
  errorCode: error.errorCode,
  errorMessage: wireMessage(error.errorMessage),
  resourceType: resource.resourceType,
  resourceName: resource.resourceName,
  configs
})

const toWire = (
  entries: ReadonlyArray<Configs.Entry>,
  request: DescribeConfigs.DescribeConfigsRequest,
  version: number
): Array<DescribeConfigs.DescribeConfigsResponseDescribeConfigsResourceResult> =>
  entries.map((e) => ({
    name: e.name,
    value: e.value,
    readOnly: e.readOnly,
    isDefault: version === 0 && e.source === Configs.Source.DEFAULT_CONFIG,
    configSource: e.source,
    isSensitive: e.isSensitive,
    synonyms: version >= 1 && request.includeSynonyms ? e.synonyms.map((s) => ({ ...s })) : [],
    configType: version >= 3 ? e.configType : 0,
    documentation: version >= 3 && request.includeDocumentation ? e.documentation : null
  }))

export const handler = Handler.make({
  apiKey: DescribeConfigs.apiKey,
  minVersion: DescribeConfigs.validVersions.min,
  maxVersion: DescribeConfigs.validVersions.max,
  handle: (request, context) =>
    Effect.gen(function* () {
      const registry = yield* TopicRegistry
      const { broker, apiVersion } = context
      const results: Array<Result> = []
      for (const resource of request.resources) {
        switch (resource.resourceType) {
          case Configs.ResourceType.TOPIC: {
            const name = resource.resourceName
            const problem = validateName(name)
            if (problem !== undefined) {
              results.push(result(resource, { errorCode: Codes.INVALID_TOPIC_EXCEPTION, errorMessage: problem }))
              break
            }
            const topic = yield* registry.get(name)
            if (topic === undefined) {
              results.push(
                result(resource, {
                  errorCode: Codes.UNKNOWN_TOPIC_OR_PARTITION,
                  errorMessage: `Topic ${name} does not exist.`
                })
              )
              break
            }
            const entries = Configs.topicEntries(broker.config, topic.configs, resource.configurationKeys)
            results.push(result(resource, none, toWire(entries, request, apiVersion)))
            break
          }
          case Configs.ResourceType.BROKER: {
            if (resource.resourceName === "") {
              // cluster-wide dynamic defaults: Eddy has none
              results.push(result(resource, none))
            } else if (resource.resourceName !== String(broker.nodeId)) {
              results.push(
                result(resource, {
                  errorCode: Codes.INVALID_REQUEST,
                  errorMessage: `Unexpected broker id, expected ${broker.nodeId} or empty string, but received ${resource.resourceName}`
                })
              )
            } else {
              const entries = Configs.brokerEntries(broker.config, resource.configurationKeys)
              results.push(result(resource, none, toWire(entries, request, apiVersion)))
            }
            break
          }
          case Configs.ResourceType.BROKER_LOGGER:
            results.push(result(resource, none))
            break
          default:
            results.push(
              result(resource, {
                errorCode: Codes.INVALID_REQUEST,
                errorMessage: `Unsupported resource type ${resource.resourceType}`
              })
            )
        }
      }
      return DescribeConfigs.makeDescribeConfigsResponse({ results })
    }),
  errorResponse: (request, error) =>
    DescribeConfigs.makeDescribeConfigsResponse({ results: request.resources.map((r) => result(r, error)) })
})
