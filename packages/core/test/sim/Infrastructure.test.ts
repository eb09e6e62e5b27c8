import { assert, describe, it } from "@effect/vitest"
import { Disk } from "./Disk.js"
import type { Message } from "./Network.js"
import { Network } from "./Network.js"
import { Prng } from "./Prng.js"
import { Scheduler } from "./Scheduler.js"

const draws = (rng: Prng, n = 8) => Array.from({ length: n }, () => rng.next())

describe("simulation infrastructure", () => {
  it("a seed fixes the stream; splits are independent of the parent's draws", () => {
    assert.deepStrictEqual(draws(new Prng(42)), draws(new Prng(42)))
    assert.notDeepEqual(draws(new Prng(42)), draws(new Prng(43)))
    const a = new Prng(7)
    const b = new Prng(7)
    draws(b, 100)
    assert.deepStrictEqual(draws(a.split("net")), draws(b.split("net")))
    assert.notDeepEqual(draws(a.split("net")), draws(a.split("disk")))
    const rng = new Prng(1)
    for (let i = 0; i < 1000; i++) {
      const x = rng.int(3, 9)
      assert.isTrue(x >= 3 && x <= 9 && Number.isInteger(x))
    }
  })

  it("events run in time order, ties in scheduling order, and the trace hash follows them", () => {
    const order: Array<string> = []
    const schedule = () => {
      const s = new Scheduler()
      s.after(10, "b", () => order.push("b"))
      s.after(5, "a", () => {
        order.push("a")
        s.after(5, "c", () => order.push("c"))
      })
      s.after(10, "d", () => order.push("d"))
      s.runUntil(100)
      return s
    }
    const s1 = schedule()
    assert.deepStrictEqual(order, ["a", "b", "d", "c"])
    assert.strictEqual(s1.now, 100)
    assert.strictEqual(schedule().traceHash, s1.traceHash)
    const other = new Scheduler()
    other.after(10, "b", () => {})
    other.runUntil(100)
    assert.notStrictEqual(other.traceHash, s1.traceHash)
  })

  it("the network delays within bounds, cuts links both ways or one way, and heals", () => {
    const s = new Scheduler()
    const net = new Network(s, new Prng(3), { minDelayMs: 2, maxDelayMs: 9, dropRate: 0 })
    const a = net.node(1)
    const b = net.node(2)
    const got: Array<readonly [number, string, number]> = []
    a.handler = (from, m) => got.push([from, m._tag, s.now])
    b.handler = (from, m) => got.push([from, m._tag, s.now])
    const ping: Message = { _tag: "ping" }
    for (let i = 0; i < 20; i++) a.send(2, ping)
    s.runUntil(100)
    assert.strictEqual(got.length, 20)
    assert.isTrue(got.every(([, , at]) => at >= 2 && at <= 9))
    got.length = 0
    net.partition([1], [2], true)
    a.send(2, ping)
    b.send(1, ping)
    s.runUntil(200)
    assert.deepStrictEqual(
      got.map(([from]) => from),
      [2]
    )
    got.length = 0
    net.partition([1], [2])
    b.send(1, ping)
    s.runUntil(300)
    assert.strictEqual(got.length, 0)
    net.unpartition([1], [2])
    b.send(1, ping)
    a.send(2, ping)
    s.runUntil(400)
    assert.deepStrictEqual(got.map(([from]) => from).sort(), [2])
    net.heal()
    a.send(2, ping)
    s.runUntil(500)
    assert.strictEqual(got.length, 2)
  })

  it("a killed or restarted node loses what was in flight and its timers; a paused node catches up on resume", () => {
    const s = new Scheduler()
    const net = new Network(s, new Prng(5), { minDelayMs: 5, maxDelayMs: 5, dropRate: 0 })
    const a = net.node(1)
    const b = net.node(2)
    const got: Array<number> = []
    b.handler = () => got.push(s.now)
    a.send(2, { _tag: "x" })
    s.after(1, "kill", () => {
      b.kill()
      b.start()
    })
    let fired = 0
    b.timer(10, "t", () => fired++)
    s.runUntil(50)
    assert.deepStrictEqual(got, [])
    assert.strictEqual(fired, 0)
    b.pausedUntil = 100
    a.send(2, { _tag: "y" })
    b.timer(10, "t", () => fired++)
    s.runUntil(200)
    assert.deepStrictEqual(got, [100])
    assert.strictEqual(fired, 1)
    let answered: Message | undefined | null = null
    b.handler = (from, _m, correlation) => b.reply(from, correlation, { _tag: "pong" })
    a.call(2, { _tag: "ping" }, 50, (r) => {
      answered = r
    })
    s.runUntil(300)
    assert.deepStrictEqual(answered, { _tag: "pong" })
    net.partition([1], [2])
    a.call(2, { _tag: "ping" }, 50, (r) => {
      answered = r
    })
    s.runUntil(400)
    assert.strictEqual(answered, undefined)
  })

  it("the disk loses its unsynced tail on a machine crash, everything on a wipe, nothing while stalled", () => {
    const disk = new Disk()
    const f = disk.partition("p")
    f.append({ offset: 0, epoch: 0, value: "a", crc: 1 })
    f.append({ offset: 1, epoch: 0, value: "b", crc: 2 })
    disk.sync(0)
    f.append({ offset: 2, epoch: 1, value: "c", crc: 3 })
    assert.strictEqual(f.epochs.latestEpoch, 1)
    disk.stalledUntil = 10
    disk.sync(5)
    disk.loseUnsynced()
    assert.strictEqual(f.logEndOffset, 2)
    assert.strictEqual(f.epochs.latestEpoch, 0)
    assert.strictEqual(f.views.length, 2)
    disk.wipe()
    assert.strictEqual(disk.partition("p").logEndOffset, 0)
  })
})
