import { assert, describe, it } from "@effect/vitest"
import { PartitionGroup } from "../../src/internal/task/PartitionGroup.js"

type Step = readonly ["add", string, ReadonlyArray<number>] | readonly ["next", number, string | undefined]

const run = (maxTaskIdleMs: number, steps: ReadonlyArray<Step>) => {
  const group = new PartitionGroup<{ timestamp: number; id: string }>(["a:0", "b:0"], maxTaskIdleMs)
  const seen: Array<string | undefined> = []
  for (const s of steps) {
    if (s[0] === "add")
      group.add(
        s[1],
        s[2].map((timestamp, i) => ({ timestamp, id: `${s[1]}#${timestamp}/${i}` }))
      )
    else seen.push(group.next(s[1])?.record.id)
  }
  return seen
}

describe("PartitionGroup", () => {
  const cases: ReadonlyArray<{ name: string; idle: number; steps: ReadonlyArray<Step> }> = [
    {
      name: "picks the head with the smallest timestamp across partitions",
      idle: 0,
      steps: [
        ["add", "a:0", [5, 7]],
        ["add", "b:0", [6]],
        ["next", 0, "a:0#5/0"],
        ["next", 0, "b:0#6/0"],
        ["next", 0, "a:0#7/1"],
        ["next", 0, undefined]
      ]
    },
    {
      name: "max.task.idle.ms 0 does not wait for an empty partition",
      idle: 0,
      steps: [
        ["add", "a:0", [5]],
        ["next", 0, "a:0#5/0"]
      ]
    },
    {
      name: "max.task.idle.ms -1 never waits",
      idle: -1,
      steps: [
        ["add", "b:0", [3]],
        ["next", 0, "b:0#3/0"]
      ]
    },
    {
      name: "max.task.idle.ms > 0 waits for the empty partition until the deadline, then processes the others",
      idle: 100,
      steps: [
        ["add", "a:0", [5, 9]],
        ["next", 1000, undefined],
        ["next", 1099, undefined],
        ["next", 1100, "a:0#5/0"],
        ["next", 1100, "a:0#9/1"]
      ]
    },
    {
      name: "data arriving in time is merged in timestamp order and the deadline is reset",
      idle: 100,
      steps: [
        ["add", "a:0", [5, 9]],
        ["next", 1000, undefined],
        ["add", "b:0", [4, 8]],
        ["next", 1050, "b:0#4/0"],
        ["next", 1050, "a:0#5/0"],
        ["next", 1050, "b:0#8/1"],
        // b is empty again: a new wait starts now
        ["next", 2000, undefined],
        ["next", 2100, "a:0#9/1"]
      ]
    }
  ]
  for (const c of cases) {
    it(c.name, () => {
      const expected = c.steps.filter((s) => s[0] === "next").map((s) => s[2] as string | undefined)
      assert.deepStrictEqual(run(c.idle, c.steps), expected)
    })
  }

  it("clear drops buffered records and the wait", () => {
    const group = new PartitionGroup<{ timestamp: number }>(["a:0", "b:0"], 100)
    group.add("a:0", [{ timestamp: 1 }])
    assert.strictEqual(group.next(0), undefined)
    assert.strictEqual(group.deadline, 100)
    group.clear()
    assert.strictEqual(group.size, 0)
    assert.strictEqual(group.deadline, undefined)
  })
})
