/**
 * Helpers of the client tests: a real Eddy broker in-process on an ephemeral port, and its bootstrap address.
 */
import * as net from "node:net"
import { Effect } from "effect"
import { startBroker } from "../broker/util.js"

/** Starts a broker in the scope; returns it with its `bootstrap.servers` value. */
export const startEddy = (options: Parameters<typeof startBroker>[0] = {}) =>
  Effect.map(startBroker(options), (b) => ({
    ...b,
    bootstrap: `127.0.0.1:${b.broker.address.port}`,
    port: b.broker.address.port
  }))

/** A port nothing listens on: bound to an ephemeral port, then closed (connections to it are refused). */
export const stoppedPort: Effect.Effect<number> = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as net.AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})
