import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import type { Operation } from "../../src/testing/HistoryChecker.js"
import * as HistoryChecker from "../../src/testing/HistoryChecker.js"

/**
 * A correct cluster, modelled: per key an append-only log; producers send unique values (some inside transactions
 * that commit or abort); consumers assigned to keys poll forward from the start. The histories it records are
 * what a correct Kafka produces, so the checker must find nothing in them, and each mutation below must be found.
 */
interface Plan {
  readonly keys: number
  readonly steps: ReadonlyArray<{
    readonly kind: number
    readonly process: number
    readonly key: number
    readonly n: number
  }>
}

const plan: fc.Arbitrary<Plan> = fc.record({
  keys: fc.integer({ min: 1, max: 3 }),
  steps: fc.array(
    fc.record({
      kind: fc.integer({ min: 0, max: 9 }),
      process: fc.integer({ min: 0, max: 3 }),
      key: fc.integer({ min: 0, max: 2 }),
      n: fc.integer({ min: 1, max: 4 })
    }),
    { minLength: 5, maxLength: 60 }
  )
})

const record = (p: Plan, finalReads = true): Array<Operation> => {
  const logs = Array.from({ length: p.keys }, () => [] as Array<readonly [number, string, boolean]>) // offset, value, visible
  const positions = new Map<number, Array<number>>() // process -> next index per key
  const history: Array<Operation> = []
  let value = 0
  let time = 0
  const push = (op: Omit<Operation, "index" | "invokedAt" | "completedAt">) => {
    const at = time++
    history.push({ ...op, index: history.length, invokedAt: at, completedAt: at })
  }
  const poll = (process: number, key: number) => {
    const pos = positions.get(process) ?? Array.from({ length: p.keys }, () => 0)
    positions.set(process, pos)
    const log = logs[key]!
    const records: Array<readonly [number, string]> = []
    while (pos[key]! < log.length) {
      const [offset, v, visible] = log[pos[key]!]!
      pos[key]!++
      if (visible) records.push([offset, v])
    }
    push({ process, f: "poll", type: "ok", mops: [{ _tag: "Poll", records: { [`t-${key}`]: records } }] })
  }
  for (const s of p.steps) {
    const key = s.key % p.keys
    if (s.kind < 4) {
      const log = logs[key]!
      const mops = Array.from({ length: s.n }, () => {
        const v = `v${value++}`
        const offset = log.length
        log.push([offset, v, true])
        return { _tag: "Send" as const, key: `t-${key}`, value: v, offset }
      })
      push({ process: s.process, f: "send", type: "ok", mops })
    } else if (s.kind < 6) {
      const aborted = s.kind === 5
      const log = logs[key]!
      const mops = Array.from({ length: s.n }, () => {
        const v = `v${value++}`
        const offset = log.length
        log.push([offset, v, !aborted])
        return { _tag: "Send" as const, key: `t-${key}`, value: v, offset }
      })
      log.push([log.length, "marker", false]) // the transaction marker takes an offset, invisible to consumers
      push({ process: s.process, f: "txn", type: aborted ? "fail" : "ok", mops })
    } else if (s.kind < 9) poll(s.process, key)
    else {
      positions.delete(s.process)
      push({ process: s.process, f: "assign", type: "ok", mops: [] })
    }
  }
  if (finalReads)
    for (let k = 0; k < p.keys; k++) {
      positions.delete(99)
      poll(99, k)
    }
  return history
}

const names = (r: HistoryChecker.Report) =>
  Object.entries(r.counts)
    .filter(([, n]) => n > 0)
    .map(([name]) => name)

describe("HistoryChecker", () => {
  it.prop("a correct cluster's histories have no anomaly", [plan], ([p]) => {
    const report = HistoryChecker.check(record(p), { finalReads: true })
    assert.isTrue(report.valid, HistoryChecker.summary(report))
  })

  const base = (): Array<Operation> => {
    let t = 0
    const op = (o: Omit<Operation, "index" | "invokedAt" | "completedAt">, index: number): Operation => ({
      ...o,
      index,
      invokedAt: t++,
      completedAt: t++
    })
    return [
      op({ process: 0, f: "send", type: "ok", mops: [{ _tag: "Send", key: "k", value: 1, offset: 0 }] }, 0),
      op({ process: 0, f: "send", type: "ok", mops: [{ _tag: "Send", key: "k", value: 2, offset: 1 }] }, 1),
      op({ process: 0, f: "send", type: "ok", mops: [{ _tag: "Send", key: "k", value: 3, offset: 2 }] }, 2),
      op(
        {
          process: 1,
          f: "poll",
          type: "ok",
          mops: [
            {
              _tag: "Poll",
              records: {
                k: [
                  [0, 1],
                  [1, 2]
                ]
              }
            }
          ]
        },
        3
      ),
      op({ process: 1, f: "poll", type: "ok", mops: [{ _tag: "Poll", records: { k: [[2, 3]] } }] }, 4)
    ]
  }

  it("finds nothing in the base history", () => {
    const report = HistoryChecker.check(base(), { finalReads: true })
    assert.isTrue(report.valid, HistoryChecker.summary(report))
    assert.deepStrictEqual(report.stats, { sends: 3, acknowledged: 3, reads: 3 })
  })

  const mutate = (i: number, o: Partial<Operation>) => base().map((op) => (op.index === i ? { ...op, ...o } : op))
  const cases: ReadonlyArray<readonly [string, ReadonlyArray<Operation>, ReadonlyArray<string>, boolean]> = [
    [
      "an acknowledged value passed over by the reads is a lost write (and a poll skip)",
      mutate(3, { mops: [{ _tag: "Poll", records: { k: [[0, 1]] } }] }),
      ["lost-write", "poll-skip"],
      false
    ],
    [
      "an acknowledged value at the end that final reads miss is unseen",
      mutate(4, { mops: [{ _tag: "Poll", records: { k: [] } }] }),
      ["unseen"],
      true
    ],
    [
      "without final reads, an unread tail is not reported",
      mutate(4, { mops: [{ _tag: "Poll", records: { k: [] } }] }),
      [],
      false
    ],
    [
      "a value at two offsets is a duplicate",
      mutate(4, {
        mops: [
          {
            _tag: "Poll",
            records: {
              k: [
                [2, 3],
                [3, 2]
              ]
            }
          }
        ]
      }),
      ["duplicate"],
      false
    ],
    [
      "two values at one offset are inconsistent offsets",
      mutate(4, { mops: [{ _tag: "Poll", records: { k: [[1, 3]] } }] }),
      ["inconsistent-offsets", "nonmonotonic-poll", "duplicate"],
      false
    ],
    ["a read of an aborted write is G1a", mutate(2, { f: "txn", type: "fail" }), ["G1a"], false],
    [
      "a read before the writing transaction asked to commit is a precommitted read",
      mutate(2, { f: "txn", commitAt: 100 }),
      ["precommitted-read"],
      false
    ],
    [
      "offsets going back within one consumer are a nonmonotonic poll",
      mutate(4, { mops: [{ _tag: "Poll", records: { k: [[0, 1]] } }] }),
      ["nonmonotonic-poll"],
      false
    ],
    [
      "offsets going back within one producer are a nonmonotonic send",
      base().map((op) =>
        op.index === 1
          ? { ...op, mops: [{ _tag: "Send", key: "k", value: 2, offset: 3 }] }
          : op.index === 3
            ? {
                ...op,
                mops: [
                  {
                    _tag: "Poll",
                    records: {
                      k: [
                        [0, 1],
                        [3, 2]
                      ]
                    }
                  }
                ]
              }
            : op.index === 4
              ? { ...op, mops: [{ _tag: "Poll", records: { k: [[2, 3]] } }] }
              : op
      ) as ReadonlyArray<Operation>,
      ["nonmonotonic-send", "nonmonotonic-poll", "poll-skip"],
      false
    ]
  ]
  for (const [name, history, expected, finalReads] of cases)
    it(name, () => {
      const report = HistoryChecker.check(history, { finalReads })
      assert.deepStrictEqual(names(report).sort(), [...expected].sort(), HistoryChecker.summary(report))
      assert.strictEqual(report.valid, expected.length === 0)
    })

  it("an assign between polls allows starting over", () => {
    const h = base()
    const t = h.length * 2
    const more: Array<Operation> = [
      { index: 5, process: 1, f: "assign", type: "ok", invokedAt: t, completedAt: t + 1, mops: [] },
      {
        index: 6,
        process: 1,
        f: "poll",
        type: "ok",
        invokedAt: t + 2,
        completedAt: t + 3,
        mops: [{ _tag: "Poll", records: { k: [[0, 1]] } }]
      }
    ]
    assert.isTrue(HistoryChecker.check([...h, ...more]).valid)
  })

  it.prop("dropping one read record of a correct history is always found", [plan, fc.nat()], ([p, pick]) => {
    const history = record(p)
    const polls = history.filter(
      (op) => op.f === "poll" && Object.values((op.mops[0] as HistoryChecker.Poll).records ?? {})[0]!.length > 0
    )
    fc.pre(polls.length > 0)
    const victim = polls[pick % polls.length]!
    const [key, records] = Object.entries((victim.mops[0] as HistoryChecker.Poll).records ?? {})[0]!
    const dropped = records[pick % records.length]!
    // the value must be read nowhere else for the drop to be observable as a loss
    const readElsewhere = history.some(
      (op) =>
        op !== victim &&
        op.mops.some((m) => m._tag === "Poll" && (m.records?.[key] ?? []).some(([, v]) => v === dropped[1]))
    )
    fc.pre(!readElsewhere)
    const mutated = history.map((op) =>
      op === victim
        ? { ...op, mops: [{ _tag: "Poll" as const, records: { [key]: records.filter((r) => r !== dropped) } }] }
        : op
    )
    const report = HistoryChecker.check(mutated, { finalReads: true })
    assert.isFalse(report.valid)
  })
})
