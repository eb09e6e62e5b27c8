/**
 * The servers of `broker.bench.ts`, each in its own process so that the load generator does not share
 * an event loop with them:
 * - `broker <dataDir>`: an Eddy broker on 127.0.0.1, port 0;
 * - `baseline <file>`: a plain Node.js server that appends every received frame to a file and answers
 *   each with an 8-byte frame (the raw socket-to-file floor a broker is compared with).
 * Both print `LISTENING <port>` and exit on SIGTERM.
 */
import * as fs from "node:fs"
import * as net from "node:net"
import { Context, Effect, Fiber, Layer, Logger, LogLevel } from "effect"
import * as Broker from "../src/broker/Broker.js"
import * as BrokerConfig from "../src/broker/BrokerConfig.js"

const [mode, target] = process.argv.slice(2)

if (mode === "baseline") {
  const fd = fs.openSync(target!, "a")
  const server = net.createServer({ noDelay: true }, (socket) => {
    // frames are cut without copying when a chunk holds them whole, else gathered once
    let chunks: Array<Buffer> = []
    let buffered = 0
    let need = -1
    let chain: Promise<void> = Promise.resolve()
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk)
      buffered += chunk.length
      const frames: Array<Buffer> = []
      for (;;) {
        if (need < 0) {
          if (buffered < 4) break
          const head = chunks[0]!.length >= 4 ? chunks[0]! : Buffer.concat(chunks)
          need = 4 + head.readInt32BE(0)
        }
        if (buffered < need) break
        const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, buffered)
        frames.push(all.subarray(0, need))
        const rest = all.subarray(need)
        chunks = rest.length > 0 ? [rest] : []
        buffered = rest.length
        need = -1
      }
      if (frames.length === 0) return
      chain = chain.then(
        () =>
          new Promise<void>((resolve) => {
            fs.writev(fd, frames, () => {
              const acks = Buffer.alloc(8 * frames.length)
              frames.forEach((f, i) => {
                acks.writeInt32BE(4, i * 8)
                acks.writeInt32BE(f.readInt32BE(8), i * 8 + 4) // the request's correlation id
              })
              socket.write(acks)
              resolve()
            })
          })
      )
    })
    socket.on("error", () => {})
  })
  server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`LISTENING ${(server.address() as net.AddressInfo).port}\n`)
  })
  process.on("SIGTERM", () => process.exit(0))
} else {
  const main = Effect.gen(function* () {
    const config = yield* BrokerConfig.make({ listeners: "PLAINTEXT://127.0.0.1:0", "log.dirs": target! })
    const context = yield* Layer.build(Broker.layer(config, { drainTimeoutMs: 2000 }))
    process.stdout.write(`LISTENING ${Context.get(context, Broker.Broker).address.port}\n`)
    return yield* Effect.never
  }).pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Warning))
  const fiber = Effect.runFork(main)
  process.on("SIGTERM", () => {
    Effect.runPromise(Fiber.interrupt(fiber)).then(
      () => process.exit(0),
      () => process.exit(1)
    )
  })
}
