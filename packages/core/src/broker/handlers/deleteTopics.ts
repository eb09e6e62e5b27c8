// DeleteTopics v0-6: v1 throttle time; v4 flexible; v5 error messages and quota errors (KIP-599); v6 delete by topic id (KIP-516).
import { Effect } from "effect"
import * as DeleteTopics from "../../protocol/generated/DeleteTopics.js"
import * as BrokerConfig from "../BrokerConfig.js"
import { Codes, InvalidRequest, none, toWire, type WireError, wireMessage } from "../BrokerError.js"
import * as Handler from "../Handler.js"
import * as Uuid from "../internal/uuid.js"
import { isInternal, TopicRegistry } from "../TopicRegistry.js"

type Result = DeleteTopics.DeleteTopicsResponseDeletableTopicResult

const result = (name: string | null, topicId: Uint8Array, error: WireError): Result => ({
  name,
  topicId,
  errorCode: error.errorCode,
  errorMessage: wireMessage(error.errorMessage)
})

/** The topics a request names, as (name, id) pairs whatever its version. */
const requested = (
  request: DeleteTopics.DeleteTopicsRequest,
  version: number
): Array<{ readonly name: string | null; readonly topicId: Uint8Array }> =>
  version >= 6
    ? request.topics.map((t) => ({ name: t.name, topicId: t.topicId }))
    : request.topicNames.map((name) => ({ name, topicId: Uuid.ZERO }))

export const handler = Handler.make({
  apiKey: DeleteTopics.apiKey,
  minVersion: DeleteTopics.validVersions.min,
  maxVersion: DeleteTopics.validVersions.max,
  handle: (request, context) =>
    Effect.gen(function* () {
      const registry = yield* TopicRegistry
      const enabled = BrokerConfig.getBoolean(context.broker.config, "delete.topic.enable")
      const responses: Array<Result> = []
      for (const { name, topicId } of requested(request, context.apiVersion)) {
        if (!enabled) {
          responses.push(
            result(name, topicId, {
              errorCode: Codes.TOPIC_DELETION_DISABLED,
              errorMessage: "Topic deletion is disabled."
            })
          )
          continue
        }
        const byId = name === null
        if (!byId && !Uuid.isZero(topicId)) {
          responses.push(
            result(
              name,
              topicId,
              toWire(new InvalidRequest({ message: "You may not specify both topic name and topic id." }))
            )
          )
          continue
        }
        if (name !== null && isInternal(name)) {
          responses.push(
            result(name, topicId, toWire(new InvalidRequest({ message: `Cannot delete internal topic ${name}` })))
          )
          continue
        }
        const outcome = yield* Effect.either(byId ? registry.deleteById(Uuid.format(topicId)) : registry.delete(name))
        if (outcome._tag === "Left") {
          responses.push(result(name, topicId, toWire(outcome.left)))
        } else {
          yield* Effect.logInfo(`Deleted topic ${outcome.right.name}`)
          responses.push(result(outcome.right.name, Uuid.fromString(outcome.right.topicId) ?? Uuid.ZERO, none))
        }
      }
      return DeleteTopics.makeDeleteTopicsResponse({ responses })
    }),
  errorResponse: (request, error, context) =>
    DeleteTopics.makeDeleteTopicsResponse({
      responses: requested(request, context.apiVersion).map((t) => result(t.name, t.topicId, error))
    })
})
