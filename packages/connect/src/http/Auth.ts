/**
 * Authentication of the HTTP connectors' requests: none, HTTP Basic, a bearer token, a static
 * `Authorization` header, or OAuth2 client credentials (RFC 6749 section 4.4) whose access token is fetched
 * from the token endpoint, cached until shortly before it expires and fetched again after a 401.
 *
 * Invariants: at most one token request is in flight (a one-permit semaphore); a cached token is used only
 * while `Clock` is before its expiry minus a safety margin; a request is retried at most once after a 401.
 */
import { type HttpClient, HttpClientRequest } from "@effect/platform"
import { Clock, Effect, Schema } from "effect"

/** A token request that failed or answered without a token. */
export class AuthError extends Schema.TaggedError<AuthError>()("AuthError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Unknown)
}) {}

/** How requests are authenticated. */
export type AuthSettings =
  | { readonly type: "none" }
  | { readonly type: "basic"; readonly user: string; readonly password: string }
  | { readonly type: "bearer"; readonly token: string }
  | { readonly type: "static"; readonly header: string }
  | {
      readonly type: "oauth2"
      readonly tokenUrl: string
      readonly clientId: string
      readonly clientSecret: string
      readonly scope: string | null
      /** `header`: client id and secret as HTTP Basic; `url`: in the form body. */
      readonly mode: "header" | "url"
      readonly tokenProperty: string
    }

/** Adds credentials to requests. */
export interface Auth {
  readonly authorize: (
    request: HttpClientRequest.HttpClientRequest
  ) => Effect.Effect<HttpClientRequest.HttpClientRequest, AuthError>
  /** Whether a 401 is worth one retry with fresh credentials. */
  readonly refreshable: boolean
  /** Drops a cached token. */
  readonly invalidate: Effect.Effect<void>
}

const EXPIRY_MARGIN_MS = 10_000
const DEFAULT_LIFETIME_MS = 3_600_000

const fetchToken = (client: HttpClient.HttpClient, s: Extract<AuthSettings, { type: "oauth2" }>) =>
  Effect.gen(function* () {
    const form: Record<string, string> = { grant_type: "client_credentials" }
    if (s.scope !== null && s.scope !== "") form.scope = s.scope
    let request = HttpClientRequest.post(s.tokenUrl).pipe(HttpClientRequest.acceptJson)
    if (s.mode === "header") request = HttpClientRequest.basicAuth(request, s.clientId, s.clientSecret)
    else {
      form.client_id = s.clientId
      form.client_secret = s.clientSecret
    }
    const response = yield* client.execute(HttpClientRequest.bodyUrlParams(request, form))
    if (response.status < 200 || response.status > 299)
      return yield* new AuthError({ message: `The token endpoint ${s.tokenUrl} answered ${response.status}` })
    const body = (yield* response.json) as Record<string, unknown>
    const token = body?.[s.tokenProperty]
    if (typeof token !== "string")
      return yield* new AuthError({ message: `The token endpoint's answer has no string '${s.tokenProperty}'` })
    const expiresIn = typeof body.expires_in === "number" ? body.expires_in * 1000 : DEFAULT_LIFETIME_MS
    return { token, lifetimeMs: expiresIn }
  }).pipe(
    Effect.catchIf(
      (e) => !(e instanceof AuthError),
      (e) => Effect.fail(new AuthError({ message: `Fetching an OAuth2 token from ${s.tokenUrl} failed`, cause: e }))
    )
  )

/** Builds the authenticator of `settings`; OAuth2 tokens are fetched with `client`. */
export const make = (settings: AuthSettings, client: HttpClient.HttpClient): Effect.Effect<Auth> =>
  Effect.gen(function* () {
    switch (settings.type) {
      case "none":
        return { authorize: Effect.succeed, refreshable: false, invalidate: Effect.void }
      case "basic":
        return {
          authorize: (r) => Effect.succeed(HttpClientRequest.basicAuth(r, settings.user, settings.password)),
          refreshable: false,
          invalidate: Effect.void
        }
      case "bearer":
        return {
          authorize: (r) => Effect.succeed(HttpClientRequest.bearerToken(r, settings.token)),
          refreshable: false,
          invalidate: Effect.void
        }
      case "static":
        return {
          authorize: (r) => Effect.succeed(HttpClientRequest.setHeader(r, "Authorization", settings.header)),
          refreshable: false,
          invalidate: Effect.void
        }
      case "oauth2": {
        const lock = yield* Effect.makeSemaphore(1)
        let cached: { token: string; expiresAt: number } | null = null
        const token = lock.withPermits(1)(
          Effect.gen(function* () {
            const now = yield* Clock.currentTimeMillis
            if (cached !== null && now < cached.expiresAt - EXPIRY_MARGIN_MS) return cached.token
            const fresh = yield* fetchToken(client, settings)
            cached = { token: fresh.token, expiresAt: now + fresh.lifetimeMs }
            return fresh.token
          })
        )
        return {
          authorize: (r) => Effect.map(token, (t) => HttpClientRequest.bearerToken(r, t)),
          refreshable: true,
          invalidate: Effect.sync(() => {
            cached = null
          })
        }
      }
    }
  })

/** Sends `request` with credentials; after a 401 with refreshable credentials, once more with fresh ones. */
export const execute = (client: HttpClient.HttpClient, auth: Auth, request: HttpClientRequest.HttpClientRequest) => {
  const once = Effect.flatMap(auth.authorize(request), (r) => client.execute(r))
  return Effect.flatMap(once, (response) =>
    response.status === 401 && auth.refreshable ? Effect.zipRight(auth.invalidate, once) : Effect.succeed(response)
  )
}
