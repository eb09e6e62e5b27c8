import { assert, describe, it } from "@effect/vitest"
import { Cause, Chunk, Data, Deferred, Effect, Exit, Fiber, FiberMap, TestClock } from "effect"
import * as Actor from "../../src/broker/internal/actor.js"

class Full extends Data.TaggedError("Full")<{}> {}
class Stopped extends Data.TaggedError("Stopped")<{}> {}

type Command = Data.TaggedEnum<{
  Add: { readonly n: number; readonly reply: Deferred.Deferred<number, Stopped> }
  Boom: { readonly reply: Deferred.Deferred<number, Stopped> }
  Slow: { readonly gate: Deferred.Deferred<void>; readonly reply: Deferred.Deferred<number, Stopped> }
}>
const Command = Data.taggedEnum<Command>()

/** A counter actor: the sum is its state, rebuilt as 0 on restart; `seen` records the order of commands. */
const counter = (policy: Actor.MailboxPolicy, restart?: Actor.RestartPolicy) =>
  Effect.gen(function* () {
    const actor = yield* Actor.make<Command, Full, Stopped>({
      name: "Counter",
      policy,
      full: () => new Full(),
      stopped: () => new Stopped(),
      onDropped: (c) => Deferred.fail(c.reply, new Stopped())
    })
    let sum = 0
    const seen: Array<number> = []
    let recovered = 0
    const behavior: Actor.Behavior<Command> = {
      receive: Command.$match({
        Add: ({ n, reply }) =>
          Effect.suspend(() => {
            seen.push(n)
            sum += n
            return Deferred.succeed(reply, sum)
          }),
        Boom: () => Effect.die(new Error("boom")),
        Slow: ({ gate, reply }) => Effect.zipRight(Deferred.await(gate), Deferred.succeed(reply, sum))
      }),
      onDefect: (commands, cause) =>
        Effect.forEach(commands, (c) => Deferred.failCause(c.reply, cause), { discard: true }),
      recover: Effect.sync(() => {
        recovered++
        sum = 0
      }),
      ...(restart === undefined ? {} : { restart })
    }
    const add = (n: number) => actor.ask<number, Stopped>((reply) => Command.Add({ n, reply }))
    return { actor, behavior, add, seen: () => seen, recovered: () => recovered }
  })

describe("Actor kit", () => {
  it.scoped("handles commands in the order they were accepted, one at a time", () =>
    Effect.gen(function* () {
      const { actor, behavior, add, seen } = yield* counter(Actor.bounded(64))
      const fibers = yield* FiberMap.make<string>()
      yield* FiberMap.run(fibers, "counter", actor.run(behavior))
      const replies = yield* Effect.forEach([1, 2, 3, 4, 5], (n) =>
        actor.offer<number, Stopped>((reply) => Command.Add({ n, reply }))
      )
      const sums = yield* Effect.forEach(replies, Deferred.await)
      assert.deepStrictEqual(sums, [1, 3, 6, 10, 15])
      assert.deepStrictEqual(seen(), [1, 2, 3, 4, 5])
      assert.strictEqual(yield* add(10), 25)
    })
  )

  it.scoped("a full fail-mailbox refuses at once with its typed error", () =>
    Effect.gen(function* () {
      const { actor } = yield* counter(Actor.bounded(2, "fail"))
      // the loop is not running: nothing drains the mailbox
      yield* actor.offer<number, Stopped>((reply) => Command.Add({ n: 1, reply }))
      yield* actor.offer<number, Stopped>((reply) => Command.Add({ n: 2, reply }))
      const third = yield* Effect.exit(actor.offer<number, Stopped>((reply) => Command.Add({ n: 3, reply })))
      assert.deepStrictEqual(third, Exit.fail(new Full()))
    })
  )

  it.scoped("a full wait-mailbox holds the sender back until the actor takes a command (backpressure)", () =>
    Effect.gen(function* () {
      const { actor, behavior, seen } = yield* counter(Actor.bounded(1, "wait"))
      const gate = yield* Deferred.make<void>()
      const slow = yield* actor.offer<number, Stopped>((reply) => Command.Slow({ gate, reply }))
      yield* Effect.forkScoped(actor.run(behavior))
      yield* Effect.yieldNow()
      // the actor is inside Slow: one command fits, the next sender waits
      yield* actor.offer<number, Stopped>((reply) => Command.Add({ n: 1, reply }))
      const sender = yield* Effect.fork(actor.ask<number, Stopped>((reply) => Command.Add({ n: 2, reply })))
      yield* Effect.yieldNow()
      assert.isTrue((yield* Fiber.poll(sender))._tag === "None", "the sender waits for room")
      assert.strictEqual(yield* actor.size, 2)
      yield* Deferred.succeed(gate, undefined)
      assert.strictEqual(yield* Deferred.await(slow), 0)
      assert.strictEqual(yield* Fiber.join(sender), 3)
      assert.deepStrictEqual(seen(), [1, 2])
    })
  )

  it.scoped("an ask after stop fails with the stopped error; queued asks fail on an interrupting stop", () =>
    Effect.gen(function* () {
      const { actor, behavior, add, seen } = yield* counter(Actor.bounded(16))
      const gate = yield* Deferred.make<void>()
      const slow = yield* actor.offer<number, Stopped>((reply) => Command.Slow({ gate, reply }))
      const queued = yield* actor.offer<number, Stopped>((reply) => Command.Add({ n: 1, reply }))
      yield* Effect.forkScoped(actor.run(behavior))
      yield* Effect.yieldNow()
      const stopping = yield* Effect.fork(actor.stop("interrupt"))
      yield* Effect.yieldNow()
      assert.isTrue(actor.isStopped())
      assert.deepStrictEqual(yield* Effect.exit(add(5)), Exit.fail(new Stopped()))
      // the command in progress finishes; the one queued behind it is dropped, never handled
      assert.deepStrictEqual(yield* Effect.exit(Deferred.await(queued)), Exit.fail(new Stopped()))
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(stopping)
      assert.strictEqual(yield* Deferred.await(slow), 0)
      assert.deepStrictEqual(seen(), [])
    })
  )

  it.scoped("an interrupting stop also answers senders that were waiting for room", () =>
    Effect.gen(function* () {
      const { actor, behavior } = yield* counter(Actor.bounded(1, "wait"))
      const gate = yield* Deferred.make<void>()
      yield* actor.offer<number, Stopped>((reply) => Command.Slow({ gate, reply }))
      yield* Effect.forkScoped(actor.run(behavior))
      yield* Effect.yieldNow()
      yield* actor.offer<number, Stopped>((reply) => Command.Add({ n: 1, reply }))
      const waiting = yield* Effect.forEach([2, 3, 4], (n) =>
        Effect.fork(actor.ask<number, Stopped>((reply) => Command.Add({ n, reply })))
      )
      yield* Effect.yieldNow()
      const stopping = yield* Effect.fork(actor.stop("interrupt"))
      yield* Effect.yieldNow()
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(stopping)
      for (const w of waiting) assert.deepStrictEqual(yield* Fiber.await(w), Exit.fail(new Stopped()))
    })
  )

  it.scoped("a draining stop handles what was accepted, then ends the loop", () =>
    Effect.gen(function* () {
      const { actor, behavior, add, seen } = yield* counter(Actor.bounded(16))
      const replies = yield* Effect.forEach([1, 2, 3], (n) =>
        actor.offer<number, Stopped>((reply) => Command.Add({ n, reply }))
      )
      const loop = yield* Effect.forkScoped(actor.run(behavior))
      yield* actor.stop("drain")
      assert.deepStrictEqual(yield* Effect.forEach(replies, Deferred.await), [1, 3, 6])
      assert.deepStrictEqual(seen(), [1, 2, 3])
      assert.isTrue(Exit.isSuccess(yield* Fiber.await(loop)))
      assert.deepStrictEqual(yield* Effect.exit(add(1)), Exit.fail(new Stopped()))
    })
  )

  it.scoped("a stop before the loop ever ran drops the queue and returns", () =>
    Effect.gen(function* () {
      const { actor } = yield* counter(Actor.bounded(16))
      const queued = yield* actor.offer<number, Stopped>((reply) => Command.Add({ n: 1, reply }))
      yield* actor.stop("drain")
      assert.deepStrictEqual(yield* Effect.exit(Deferred.await(queued)), Exit.fail(new Stopped()))
    })
  )

  it.scoped("interrupting the loop (the owner's scope closing) fails what is queued", () =>
    Effect.gen(function* () {
      const { actor, behavior } = yield* counter(Actor.unbounded)
      const gate = yield* Deferred.make<void>()
      yield* actor.offer<number, Stopped>((reply) => Command.Slow({ gate, reply }))
      const queued = yield* actor.offer<number, Stopped>((reply) => Command.Add({ n: 1, reply }))
      const loop = yield* Effect.fork(actor.run(behavior))
      yield* Effect.yieldNow()
      const interrupting = yield* Effect.fork(Fiber.interrupt(loop))
      yield* Effect.yieldNow()
      // the command in progress is not interrupted: the loop ends only after it
      assert.isTrue((yield* Fiber.poll(interrupting))._tag === "None")
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(interrupting)
      assert.deepStrictEqual(yield* Effect.exit(Deferred.await(queued)), Exit.fail(new Stopped()))
      assert.isTrue(actor.isStopped())
    })
  )

  it.scoped("a defect fails its own reply, is logged, and the actor restarts from its recoverable state", () =>
    Effect.gen(function* () {
      const { actor, behavior, add, recovered } = yield* counter(Actor.bounded(16))
      const loop = yield* Effect.forkScoped(actor.run(behavior))
      assert.strictEqual(yield* add(5), 5)
      const boom = yield* Effect.exit(actor.ask<number, Stopped>((reply) => Command.Boom({ reply })))
      assert.isTrue(Exit.isFailure(boom) && Cause.isDie(boom.cause))
      assert.strictEqual(recovered(), 1)
      // recovered: the state was rebuilt (0), and the actor goes on serving
      assert.strictEqual(yield* add(2), 2)
      assert.isTrue((yield* Fiber.poll(loop))._tag === "None")
    })
  )

  it.scoped("past its restart policy the actor stops and its loop dies with the cause", () =>
    Effect.gen(function* () {
      const { actor, behavior, add } = yield* counter(Actor.bounded(16), { maxRestarts: 2, withinMs: 1000 })
      const loop = yield* Effect.forkScoped(actor.run(behavior))
      const boom = () => Effect.exit(actor.ask<number, Stopped>((reply) => Command.Boom({ reply })))
      yield* boom()
      yield* boom()
      // restarts spread over more than the window are forgiven
      yield* TestClock.adjust(1500)
      yield* boom()
      yield* boom()
      assert.isTrue((yield* Fiber.poll(loop))._tag === "None", "two restarts within the window are allowed")
      const queued = yield* actor.offer<number, Stopped>((reply) => Command.Add({ n: 1, reply }))
      yield* boom()
      const exit = yield* Fiber.await(loop)
      assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause), "the loop dies with the defect")
      assert.isTrue(actor.isStopped())
      assert.isTrue(Exit.isFailure(yield* Effect.exit(add(1))))
      // a command already queued behind the last defect is either handled or answered: never left waiting
      assert.isTrue(yield* Deferred.isDone(queued))
    })
  )

  it.scoped("commands taken together reach receiveAll as one batch", () =>
    Effect.gen(function* () {
      const actor = yield* Actor.make<number, Full, Stopped>({
        name: "Batcher",
        policy: Actor.unbounded,
        full: () => new Full(),
        stopped: () => new Stopped(),
        onDropped: () => Effect.void
      })
      const batches: Array<ReadonlyArray<number>> = []
      const seen = yield* Deferred.make<void>()
      yield* Effect.forEach([1, 2, 3], actor.tell)
      yield* Effect.forkScoped(
        actor.run({
          receive: () => Effect.void,
          receiveAll: (cs) =>
            Effect.suspend(() => {
              batches.push(Chunk.toReadonlyArray(cs))
              return Deferred.succeed(seen, undefined)
            }),
          maxBatch: 2
        })
      )
      yield* Deferred.await(seen)
      yield* actor.stop("drain")
      assert.deepStrictEqual(batches, [[1, 2], [3]])
    })
  )

  it.scoped("isDone ends the actor by itself and answers what is left as done", () =>
    Effect.gen(function* () {
      const dropped: Array<Actor.DropReason> = []
      const actor = yield* Actor.make<number, Full, Stopped>({
        name: "Once",
        policy: Actor.unbounded,
        full: () => new Full(),
        stopped: () => new Stopped(),
        onDropped: (_, reason) => Effect.sync(() => dropped.push(reason))
      })
      yield* Effect.forEach([1, 2, 3], actor.tell)
      let handled = 0
      let exited = false
      yield* actor.run({
        receive: () => Effect.sync(() => handled++),
        isDone: () => handled === 1,
        onExit: Effect.sync(() => {
          exited = true
        })
      })
      assert.strictEqual(handled, 1)
      assert.deepStrictEqual(dropped, ["done", "done"])
      assert.isTrue(exited)
      assert.deepStrictEqual(yield* Effect.exit(actor.tell(4)), Exit.fail(new Stopped()))
    })
  )
})
