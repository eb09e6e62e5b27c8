/**
 * The actor kit's own cost (`broker/internal/actor.ts`): an `ask` round trip (one command answered by a
 * batching actor) and 64 asks in flight at once, against a hand-written queue loop (the shape the partition
 * replica had before the kit: `Queue.dropping`, `takeBetween`, `Effect.forever`). Both run in the same process,
 * interleaved ask by ask, so machine load hits them alike; the ratio is the kit's time over the loop's.
 */
import { Cause, type Chunk, Deferred, Effect } from "effect"
import * as Queue from "effect/Queue"
import * as Actor from "../src/broker/internal/actor.js"

interface Command {
  readonly reply: Deferred.Deferred<number>
}

const answer = (commands: Chunk.Chunk<Command>) =>
  Effect.forEach(commands, (c) => Deferred.succeed(c.reply, 1), { discard: true })

/** The hand-written loop: what an actor costs without the kit. */
const handWritten = Effect.gen(function* () {
  const mailbox = yield* Queue.dropping<Command>(4096)
  const loop = Effect.forever(
    Effect.flatMap(Queue.takeBetween(mailbox, 1, 256), (commands) => Effect.uninterruptible(answer(commands)))
  )
  yield* Effect.forkScoped(
    Effect.forever(
      loop.pipe(Effect.catchAllCause((c) => (Cause.isInterruptedOnly(c) ? Effect.failCause(c) : Effect.void)))
    )
  )
  const send = (command: Command) =>
    Effect.suspend(() => (mailbox.unsafeOffer(command) ? Effect.void : Effect.fail("busy" as const)))
  return {
    offer: Effect.flatMap(Deferred.make<number>(), (reply) => Effect.as(send({ reply }), reply))
  }
})

const kit = Effect.gen(function* () {
  const actor = yield* Actor.make<Command, string, string>({
    name: "bench",
    policy: Actor.bounded(4096),
    full: () => "busy",
    stopped: () => "stopped",
    onDropped: () => Effect.void
  })
  yield* Effect.forkScoped(actor.run({ receive: () => Effect.void, receiveAll: answer, maxBatch: 256 }))
  return { offer: actor.offer<number, never>((reply) => ({ reply })) }
})

const ROUNDS = 20_000

const measure = Effect.scoped(
  Effect.gen(function* () {
    const impls = [yield* handWritten, yield* kit]
    const single = [0, 0]
    const pipelined = [0, 0]
    for (let i = 0; i < ROUNDS; i++) {
      for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
        const t0 = performance.now()
        yield* Deferred.await(yield* impls[k]!.offer)
        single[k]! += performance.now() - t0
      }
    }
    for (let i = 0; i < ROUNDS / 64; i++) {
      for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
        const t0 = performance.now()
        const replies: Array<Deferred.Deferred<number>> = []
        for (let j = 0; j < 64; j++) replies.push(yield* impls[k]!.offer)
        for (const r of replies) yield* Deferred.await(r)
        pipelined[k]! += performance.now() - t0
      }
    }
    return { single, pipelined }
  })
)

/** Prints one table: microseconds per ask (round trip, and per ask with 64 in flight) and the kit's ratio. */
export const run = async (): Promise<void> => {
  const { single, pipelined } = await Effect.runPromise(measure)
  const us = (ms: number, n: number) => ((ms / n) * 1000).toFixed(2)
  console.log("| case | hand-written loop | actor kit | kit time / loop time |")
  console.log("| --- | --- | --- | --- |")
  console.log(
    `| ask round trip (µs) | ${us(single[0]!, ROUNDS)} | ${us(single[1]!, ROUNDS)} | ${(single[1]! / single[0]!).toFixed(2)}x |`
  )
  console.log(
    `| 64 asks in flight (µs per ask) | ${us(pipelined[0]!, ROUNDS)} | ${us(pipelined[1]!, ROUNDS)} | ${(pipelined[1]! / pipelined[0]!).toFixed(2)}x |`
  )
}
