// ApiVersions v0-4: v1 throttle time; v3 flexible + client software name/version (KIP-482, KIP-511); v4 KAFKA-17011.
import { Effect } from "effect"
import * as ApiVersions from "../../protocol/generated/ApiVersions.js"
import * as Handler from "../Handler.js"

/** Serves ApiVersions from the registered handlers' ranges (never a hand-written list). */
export const handler = Handler.make({
  apiKey: ApiVersions.apiKey,
  minVersion: ApiVersions.validVersions.min,
  maxVersion: ApiVersions.validVersions.max,
  handle: (request, context) =>
    Effect.gen(function* () {
      if (context.apiVersion >= 3) {
        context.setClientSoftware(request.clientSoftwareName, request.clientSoftwareVersion)
        yield* Effect.logDebug(
          `Client ${context.connectionId} (${context.clientId ?? "-"}) is ${request.clientSoftwareName} ${request.clientSoftwareVersion}`
        )
      }
      return ApiVersions.makeApiVersionsResponse({ apiKeys: apiKeys(context.apis) })
    }),
  errorResponse: (_request, error, context) =>
    ApiVersions.makeApiVersionsResponse({ errorCode: error.errorCode, apiKeys: apiKeys(context.apis) })
})

/** The response's api key list. */
export const apiKeys = (
  apis: ReadonlyArray<Handler.ApiVersionRange>
): Array<ApiVersions.ApiVersionsResponseApiVersion> =>
  apis.map((a) => ({ apiKey: a.apiKey, minVersion: a.minVersion, maxVersion: a.maxVersion }))
