/**
 * The HTTP client of the HTTP connectors: @effect/platform's HttpClient over undici, its connection pool
 * living in the task's scope (closed when the task stops).
 */
import { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Context, Effect, Layer, type Scope } from "effect"

/** An HTTP client whose connections are closed with `scope`. */
export const make = (scope: Scope.Scope): Effect.Effect<HttpClient.HttpClient> =>
  Effect.map(Layer.buildWithScope(NodeHttpClient.layerUndici, scope), (ctx) => Context.get(ctx, HttpClient.HttpClient))
