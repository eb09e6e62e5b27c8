/**
 * Property test of the producer state against a model that keeps the whole log and derives every answer by
 * scanning it (epochs, the last five batches of the current epoch, open transactions, aborted ones), where
 * the ProducerStateManager keeps incremental state. Random produce / marker sequences must get the same
 * verdicts, last stable offsets and aborted-transaction indexes; the state rebuilt from a snapshot taken
 * midway plus a replay of the log after it, and the state replayed from the whole log, must agree too.
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { BATCHES_KEPT, type CheckResult, ProducerStateManager } from "../../src/log/ProducerState.js"
import * as RecordBatch from "../../src/protocol/RecordBatch.js"

interface Entry {
  readonly producerId: number
  readonly epoch: number
  readonly firstSeq: number
  readonly lastSeq: number
  readonly firstOffset: number
  readonly lastOffset: number
  readonly transactional: boolean
  readonly control?: "COMMIT" | "ABORT"
}

/** The model: the log itself; every answer is a scan. */
class Model {
  readonly log: Array<Entry> = []
  get end(): number {
    const last = this.log[this.log.length - 1]
    return last === undefined ? 0 : last.lastOffset + 1
  }
  epoch(pid: number): number | undefined {
    let e: number | undefined
    for (const x of this.log) if (x.producerId === pid && (e === undefined || x.epoch > e)) e = x.epoch
    return e
  }
  /** Data batches of the producer's current epoch, oldest first. */
  current(pid: number): Array<Entry> {
    const e = this.epoch(pid)
    return this.log.filter((x) => x.producerId === pid && x.epoch === e && x.control === undefined)
  }
  /** First offset of the producer's open transaction as of `end` entries of the log. */
  openTxn(pid: number, end = this.log.length): number | undefined {
    let first: number | undefined
    for (let i = 0; i < end; i++) {
      const x = this.log[i]!
      if (x.producerId !== pid) continue
      if (x.control !== undefined) first = undefined
      else if (x.transactional && first === undefined) first = x.firstOffset
    }
    return first
  }
  lastStable(): number | undefined {
    let min: number | undefined
    for (const pid of new Set(this.log.map((x) => x.producerId))) {
      const o = this.openTxn(pid)
      if (o !== undefined && (min === undefined || o < min)) min = o
    }
    return min
  }
  aborted(): Array<{ producerId: number; firstOffset: number }> {
    const out: Array<{ producerId: number; firstOffset: number }> = []
    this.log.forEach((x, i) => {
      if (x.control !== "ABORT") return
      const first = this.openTxn(x.producerId, i)
      if (first !== undefined) out.push({ producerId: x.producerId, firstOffset: first })
    })
    return out
  }
  check(b: Omit<Entry, "firstOffset" | "lastOffset">): CheckResult["_tag"] | readonly [number, number] {
    const epoch = this.epoch(b.producerId)
    if (epoch === undefined) return "Append"
    if (b.epoch < epoch) return "InvalidProducerEpoch"
    if (b.control !== undefined) return "Append"
    const current = this.current(b.producerId)
    if (b.epoch > epoch) return b.firstSeq !== 0 && current.length > 0 ? "OutOfOrderSequence" : "Append"
    const dup = current.slice(-BATCHES_KEPT).find((x) => x.firstSeq === b.firstSeq && x.lastSeq === b.lastSeq)
    if (dup !== undefined) return [dup.firstOffset, dup.lastOffset]
    const last = current[current.length - 1]
    if (last !== undefined && b.firstSeq !== last.lastSeq + 1) return "OutOfOrderSequence"
    if (this.openTxn(b.producerId) !== undefined && !b.transactional) return "InvalidTxnState"
    return "Append"
  }
}

type Op =
  | {
      readonly _tag: "produce"
      readonly pid: number
      readonly epochShift: number
      readonly seqPick: number
      readonly count: number
      readonly transactional: boolean
    }
  | { readonly _tag: "marker"; readonly pid: number; readonly epochShift: number; readonly commit: boolean }

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      _tag: fc.constant("produce" as const),
      pid: fc.integer({ min: 1, max: 2 }),
      // mostly the current epoch; sometimes an older (zombie) or a newer one
      epochShift: fc.oneof({ weight: 40, arbitrary: fc.constant(0) }, fc.constant(-1), fc.constant(1)),
      // 0: the next sequence; 1..7: a retry of an earlier batch; 8: a gap; 9: sequence 0
      seqPick: fc.oneof(
        { weight: 8, arbitrary: fc.constant(0) },
        { weight: 4, arbitrary: fc.integer({ min: 1, max: 7 }) },
        fc.constant(8),
        fc.constant(9)
      ),
      count: fc.integer({ min: 1, max: 3 }),
      transactional: fc.boolean()
    })
  },
  {
    weight: 2,
    arbitrary: fc.record({
      _tag: fc.constant("marker" as const),
      pid: fc.integer({ min: 1, max: 2 }),
      epochShift: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, fc.constant(-1), fc.constant(1)),
      commit: fc.boolean()
    })
  }
)

/** The bytes of an entry as the log would hold them. */
const bytesOf = (e: Entry): Buffer => {
  const b =
    e.control !== undefined
      ? RecordBatch.encodeControlBatch({
          type: e.control,
          producerId: e.producerId,
          producerEpoch: e.epoch,
          coordinatorEpoch: 0,
          timestamp: 0
        })
      : RecordBatch.encode(
          Array.from({ length: e.lastOffset - e.firstOffset + 1 }, (_, i) => ({
            value: Buffer.from([i]),
            timestamp: 0
          })),
          {
            producerId: e.producerId,
            producerEpoch: e.epoch,
            baseSequence: e.firstSeq,
            transactional: e.transactional
          }
        )
  const c = Buffer.from(b)
  RecordBatch.setBaseOffset(c, 0, e.firstOffset)
  return c
}

const controlOf = (e: Entry) =>
  e.control === undefined ? undefined : { type: RecordBatch.ControlType[e.control], coordinatorEpoch: 0 as number }

const sameState = (a: ProducerStateManager, b: ProducerStateManager, label: string) => {
  assert.strictEqual(a.firstUnstableOffset(), b.firstUnstableOffset(), label)
  assert.deepStrictEqual(
    a.abortedTransactions(0, Number.MAX_SAFE_INTEGER),
    b.abortedTransactions(0, Number.MAX_SAFE_INTEGER),
    label
  )
  assert.deepStrictEqual([...a.producers.keys()].sort(), [...b.producers.keys()].sort(), label)
  for (const [pid, e] of a.producers) {
    const o = b.producers.get(pid)!
    assert.deepStrictEqual(
      [o.epoch, o.txnFirstOffset, o.batches.map((x) => [x.firstSeq, x.lastSeq, x.firstOffset, x.lastOffset])],
      [e.epoch, e.txnFirstOffset, e.batches.map((x) => [x.firstSeq, x.lastSeq, x.firstOffset, x.lastOffset])],
      `${label}: producer ${pid}`
    )
  }
}

describe("ProducerState model", () => {
  it("agrees with a model that scans the whole log, and rebuilds the same from snapshot + replay", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 120, size: "max" }), fc.nat(), (ops, snapAt) => {
        const model = new Model()
        const state = new ProducerStateManager()
        let snapshot: { bytes: Buffer; entries: number } | undefined
        const snapIndex = snapAt % (ops.length + 1)
        ops.forEach((o, i) => {
          if (i === snapIndex) snapshot = { bytes: state.encodeSnapshot(), entries: model.log.length }
          const epoch = Math.max(0, (model.epoch(o.pid) ?? 0) + o.epochShift)
          const firstOffset = model.end
          let entry: Entry
          if (o._tag === "marker") {
            entry = {
              producerId: o.pid,
              epoch,
              firstSeq: -1,
              lastSeq: -1,
              firstOffset,
              lastOffset: firstOffset,
              transactional: true,
              control: o.commit ? "COMMIT" : "ABORT"
            }
          } else {
            const current = model.current(o.pid)
            const last = current[current.length - 1]
            const next = last === undefined ? 0 : last.lastSeq + 1
            let firstSeq = next
            let count = o.count
            if (o.seqPick >= 1 && o.seqPick <= 7 && current.length > 0) {
              const earlier = current[Math.max(0, current.length - o.seqPick)]!
              firstSeq = earlier.firstSeq
              count = earlier.lastSeq - earlier.firstSeq + 1
            } else if (o.seqPick === 8) firstSeq = next + 2
            else if (o.seqPick === 9) firstSeq = 0
            entry = {
              producerId: o.pid,
              epoch,
              firstSeq,
              lastSeq: firstSeq + count - 1,
              firstOffset,
              lastOffset: firstOffset + count - 1,
              transactional: o.transactional
            }
          }
          const bytes = bytesOf(entry)
          const expected = model.check(entry)
          const verdict = state.check(RecordBatch.readHeader(bytes))
          const got = verdict._tag === "Duplicate" ? ([verdict.firstOffset, verdict.lastOffset] as const) : verdict._tag
          assert.deepStrictEqual(got, expected, `op ${i}: ${JSON.stringify(o)}`)
          if (verdict._tag === "Append") {
            state.update(RecordBatch.readHeader(bytes), 0, controlOf(entry))
            model.log.push(entry)
          }
          assert.strictEqual(state.firstUnstableOffset(), model.lastStable(), `LSO after op ${i}`)
          assert.deepStrictEqual(
            state.abortedTransactions(0, Number.MAX_SAFE_INTEGER),
            model.aborted(),
            `aborted after op ${i}`
          )
        })
        const log = Buffer.concat(model.log.map(bytesOf))
        // replay of the whole log from nothing
        const replayed = new ProducerStateManager()
        replayed.replay(log, 0)
        sameState(state, replayed, "replayed")
        // a snapshot taken midway, then the log after it (replay skips what the snapshot covers)
        if (snapshot !== undefined) {
          const restored = new ProducerStateManager()
          assert.isTrue(restored.loadSnapshot(snapshot.bytes))
          restored.replay(log, 0)
          sameState(state, restored, `restored from the snapshot after ${snapshot.entries} batches`)
          assert.strictEqual(restored.mapEndOffset, model.end)
        }
        // the aborted index answers ranges like a filter of the model's list
        const aborted = model.aborted()
        for (let from = 0; from <= model.end; from += 3) {
          const upper = from + 4
          const want = model.log
            .map((x, i) => ({ x, i }))
            .filter(({ x }) => x.control === "ABORT")
            .flatMap(({ x, i }) => {
              const first = model.openTxn(x.producerId, i)
              return first !== undefined && x.firstOffset >= from && first < upper
                ? [{ producerId: x.producerId, firstOffset: first }]
                : []
            })
          assert.deepStrictEqual(state.abortedTransactions(from, upper), want, `aborted in [${from}, ${upper})`)
        }
        assert.isAtMost(aborted.length, model.log.length)
      }),
      { numRuns: 200 }
    )
  })

  it("drops aborted entries below the log start and expires idle producers without open transactions", () => {
    const m = new ProducerStateManager()
    const txn = (pid: number, offset: number) => {
      const b = Buffer.from(
        RecordBatch.encode([{ value: Buffer.from("x"), timestamp: 0 }], {
          producerId: pid,
          producerEpoch: 0,
          baseSequence: 0,
          transactional: true
        })
      )
      RecordBatch.setBaseOffset(b, 0, offset)
      return RecordBatch.readHeader(b)
    }
    const abort = (pid: number, offset: number) => {
      const b = Buffer.from(
        RecordBatch.encodeControlBatch({
          type: "ABORT",
          producerId: pid,
          producerEpoch: 0,
          coordinatorEpoch: 0,
          timestamp: 0
        })
      )
      RecordBatch.setBaseOffset(b, 0, offset)
      return RecordBatch.readHeader(b)
    }
    m.update(txn(1, 0), 1000)
    m.update(abort(1, 1), 1000, { type: RecordBatch.ControlType.ABORT, coordinatorEpoch: 0 })
    m.update(txn(2, 2), 1000)
    m.update(abort(2, 3), 1000, { type: RecordBatch.ControlType.ABORT, coordinatorEpoch: 0 })
    m.update(txn(3, 4), 1000)
    assert.deepStrictEqual(m.abortedTransactions(0, 10), [
      { producerId: 1, firstOffset: 0 },
      { producerId: 2, firstOffset: 2 }
    ])
    m.onLogStartOffset(2)
    assert.deepStrictEqual(m.abortedTransactions(0, 10), [{ producerId: 2, firstOffset: 2 }])
    // idle for the whole expiration: 1 and 2 go, 3 keeps its open transaction
    assert.strictEqual(m.removeExpired(1999, 1000), 0)
    assert.strictEqual(m.removeExpired(2000, 1000), 2)
    assert.deepStrictEqual([...m.producers.keys()], [3])
    assert.strictEqual(m.firstUnstableOffset(), 4)
  })

  it("takes a marker of the next epoch (transaction version 2) and that epoch's batches from sequence 0", () => {
    const m = new ProducerStateManager()
    const apply = (e: Entry): CheckResult => {
      const h = RecordBatch.readHeader(bytesOf(e))
      const verdict = m.check(h)
      if (verdict._tag === "Append") m.update(h, 0, controlOf(e))
      return verdict
    }
    const data = (epoch: number, firstSeq: number, offset: number): Entry => ({
      producerId: 9,
      epoch,
      firstSeq,
      lastSeq: firstSeq + 1,
      firstOffset: offset,
      lastOffset: offset + 1,
      transactional: true
    })
    const marker = (epoch: number, control: "COMMIT" | "ABORT", offset: number): Entry => ({
      producerId: 9,
      epoch,
      firstSeq: -1,
      lastSeq: -1,
      firstOffset: offset,
      lastOffset: offset,
      transactional: true,
      control
    })
    assert.strictEqual(apply(data(3, 0, 0))._tag, "Append")
    assert.strictEqual(apply(data(3, 2, 2))._tag, "Append")
    // the coordinator ends the transaction with the epoch bumped
    assert.strictEqual(apply(marker(4, "COMMIT", 4))._tag, "Append")
    assert.strictEqual(m.firstUnstableOffset(), undefined)
    // the ended transaction's late batch (old epoch) is refused; the next transaction starts at sequence 0
    assert.strictEqual(apply(data(3, 4, 5))._tag, "InvalidProducerEpoch")
    assert.strictEqual(apply(data(4, 0, 5))._tag, "Append")
    assert.strictEqual(m.firstUnstableOffset(), 5)
    assert.strictEqual(apply(data(4, 2, 7))._tag, "Append")
    assert.strictEqual(apply(marker(5, "ABORT", 9))._tag, "Append")
    assert.deepStrictEqual(m.abortedTransactions(0, 10), [{ producerId: 9, firstOffset: 5 }])
    assert.strictEqual(apply(marker(4, "ABORT", 10))._tag, "InvalidProducerEpoch")
  })
})
