/**
 * The client commands (topics, produce, consume, groups, perf) run as real child processes against one
 * in-process broker. Child processes start slowly (tsx), so independent commands run side by side.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Broker from "@eddy/core/broker/Broker"
import * as BrokerConfig from "@eddy/core/broker/BrokerConfig"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Logger, LogLevel, Scope } from "effect"
import { bin, type Result, runEddy } from "./runEddy.js"

let scope: Scope.CloseableScope
let dir: string
let bootstrap: string

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "eddy-cli-client-"))
  scope = Effect.runSync(Scope.make())
  const config = await Effect.runPromise(
    BrokerConfig.make({
      listeners: "PLAINTEXT://127.0.0.1:0",
      "log.dirs": dir,
      "num.partitions": "1",
      // group members (eddy consume --group) join without waiting for others
      "group.initial.rebalance.delay.ms": "0"
    })
  )
  const context = await Effect.runPromise(
    Layer.buildWithScope(Broker.layer(config, { drainTimeoutMs: 1000 }), scope).pipe(
      Logger.withMinimumLogLevel(LogLevel.Warning)
    )
  )
  bootstrap = `127.0.0.1:${Context.get(context, Broker.Broker).address.port}`
})

afterAll(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void))
  fs.rmSync(dir, { recursive: true, force: true })
})

/** Runs `eddy args... --bootstrap-server <broker>` with `input` on stdin. */
const eddy = (args: ReadonlyArray<string>, input = ""): Promise<Result> =>
  runEddy([...args, "--bootstrap-server", bootstrap], { input })

/** Starts `eddy args... --bootstrap-server <broker>` (stdin closed); `stdout()` is what it printed so far. */
const start = (args: ReadonlyArray<string>) => {
  const child = spawn(process.execPath, [bin, ...args, "--bootstrap-server", bootstrap], {
    stdio: ["pipe", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout.on("data", (d) => (stdout += d))
  child.stderr.on("data", (d) => (stderr += d))
  child.stdin.end()
  const done = new Promise<Result>((resolve, reject) => {
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })
  return { child, done, stdout: () => stdout }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const ok = (r: Result): string => {
  assert.strictEqual(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`)
  assert.strictEqual(r.stderr, "", r.stderr)
  return r.stdout
}

const lines = (s: string) => s.split("\n").filter((l) => l.trim() !== "")

describe("eddy client commands", { timeout: 120_000 }, () => {
  it("topics: create, list, describe, alter, delete; a duplicate fails in one line", async () => {
    const [created, other] = await Promise.all([
      eddy(["topics", "create", "cli-topics", "--partitions", "2", "--config", "retention.ms=3600000"]),
      eddy(["topics", "create", "cli-doomed"])
    ])
    assert.include(ok(created), "Created topic cli-topics.")
    ok(other)
    const [dup, listed] = await Promise.all([eddy(["topics", "create", "cli-topics"]), eddy(["topics", "list"])])
    assert.notStrictEqual(dup.code, 0)
    assert.strictEqual(dup.stdout, "")
    assert.deepStrictEqual(lines(dup.stderr), ["error: TOPIC_ALREADY_EXISTS: Topic 'cli-topics' already exists."])
    assert.includeMembers(lines(ok(listed)), ["cli-topics", "cli-doomed"])

    const [altered, deleted] = await Promise.all([
      eddy(["topics", "alter", "cli-topics", "--config", "cleanup.policy=compact", "--partitions", "3"]),
      eddy(["topics", "delete", "cli-doomed"])
    ])
    ok(altered)
    assert.include(ok(deleted), "Deleted topic cli-doomed.")
    const [described, listedAfter] = await Promise.all([
      eddy(["topics", "describe", "cli-topics"]),
      eddy(["topics", "list"])
    ])
    const out = lines(ok(described))
    assert.match(out[0]!, /^Topic: cli-topics\tTopicId: [0-9a-f]{32}\tPartitionCount: 3\tReplicationFactor: 1\t/)
    assert.include(out[0]!, "retention.ms=3600000")
    assert.include(out[0]!, "cleanup.policy=compact")
    assert.strictEqual(out.length, 4)
    assert.match(out[1]!, /Partition: 0\tLeader: \d+\tReplicas: \d+\tIsr: \d+/)
    assert.notInclude(lines(ok(listedAfter)), "cli-doomed")
  })

  it("a topic that does not exist: topics delete and alter fail at once, consume at once or after --timeout-ms", async () => {
    const [deleteMissing, alterMissing, consumeMissing, consumeWaiting] = await Promise.all([
      eddy(["topics", "delete", "cli-missing"]),
      eddy(["topics", "alter", "cli-missing", "--config", "retention.ms=1"]),
      eddy(["consume", "cli-missing"]),
      eddy(["consume", "cli-missing", "--timeout-ms", "300"])
    ])
    for (const r of [deleteMissing, alterMissing, consumeMissing, consumeWaiting]) {
      assert.strictEqual(r.code, 1, r.stderr)
      assert.strictEqual(r.stdout, "")
      assert.strictEqual(lines(r.stderr).length, 1, r.stderr)
      assert.match(r.stderr, /^error: UNKNOWN_TOPIC_OR_PARTITION: .*'cli-missing'/, r.stderr)
    }
  })

  it("produce with keys and headers, consume as text and json, and a group's lag", async () => {
    ok(await eddy(["topics", "create", "cli-records", "--partitions", "1"]))
    const produced = await eddy(
      ["produce", "cli-records", "--key-separator", ":", "--header", "source=cli", "--header", "n=1"],
      "k1:hello\nk2:world:again\nno key here\n"
    )
    assert.strictEqual(ok(produced), "")

    const [text, json, grouped] = await Promise.all([
      eddy(["consume", "cli-records", "--from-beginning", "--max-messages", "3", "--print-key"]),
      eddy(["consume", "cli-records", "--from-beginning", "--max-messages", "2", "--format", "json"]),
      eddy(["consume", "cli-records", "--group", "cli-group", "--from-beginning", "--max-messages", "2"])
    ])
    assert.deepStrictEqual(lines(ok(text)), ["k1\thello", "k2\tworld:again", "null\tno key here"])
    const records = lines(ok(json)).map((l) => JSON.parse(l))
    assert.strictEqual(records.length, 2)
    assert.deepInclude(records[0], {
      topic: "cli-records",
      partition: 0,
      offset: 0,
      key: "k1",
      value: "hello",
      headers: { source: "cli", n: "1" }
    })
    assert.isNumber(records[0].timestamp)
    assert.deepInclude(records[1], { offset: 1, key: "k2", value: "world:again" })
    assert.deepStrictEqual(lines(ok(grouped)), ["hello", "world:again"])

    // the group committed offset 2 of 3: lag 1
    const [list, described, idle, idleGroup] = await Promise.all([
      eddy(["groups", "list"]),
      eddy(["groups", "describe", "cli-group"]),
      // resumes from the committed offset; exits when idle
      eddy(["consume", "cli-records", "--partition", "0", "--offset", "2", "--timeout-ms", "1000"]),
      // a new group starts at the latest offset: nothing to print, exits when idle
      eddy(["consume", "cli-records", "--group", "cli-idle-group", "--timeout-ms", "500"])
    ])
    assert.include(lines(ok(list)), "cli-group")
    const table = lines(ok(described))
    assert.include(table[0]!, "has no active members")
    assert.match(table[1]!, /^GROUP\s+TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+CONSUMER-ID/)
    assert.match(table[2]!, /^cli-group\s+cli-records\s+0\s+2\s+3\s+1\s+-/)
    assert.deepStrictEqual(lines(ok(idle)), ["no key here"])
    assert.strictEqual(ok(idleGroup), "")

    const [dryRun, executed] = await Promise.all([
      eddy(["groups", "reset-offsets", "cli-group", "--topic", "cli-records", "--to-latest"]),
      eddy(["groups", "reset-offsets", "cli-group", "--topic", "cli-records", "--to-earliest", "--execute"])
    ])
    assert.match(lines(ok(dryRun))[1]!, /^cli-group\s+cli-records\s+0\s+3$/)
    assert.include(dryRun.stdout, "Dry run")
    assert.match(lines(ok(executed))[1]!, /^cli-group\s+cli-records\s+0\s+0$/)
    assert.notInclude(executed.stdout, "Dry run")
    const after = lines(ok(await eddy(["groups", "describe", "cli-group"])))
    assert.match(after[2]!, /^cli-group\s+cli-records\s+0\s+0\s+3\s+3\s+-/)

    const deleted = await eddy(["groups", "delete", "cli-group"])
    assert.include(ok(deleted), "('cli-group') was successful")
    const missing = await eddy(["groups", "describe", "cli-group"])
    assert.notStrictEqual(missing.code, 0)
    assert.deepStrictEqual(lines(missing.stderr), [
      "error: GROUP_ID_NOT_FOUND: consumer group 'cli-group' does not exist"
    ])
  })

  it("consume --group is a member of the group while it runs and commits what it printed", async () => {
    ok(await eddy(["topics", "create", "cli-member", "--partitions", "1"]))
    ok(await eddy(["produce", "cli-member"], "one\ntwo\nthree\n"))
    // it waits for a fourth record, produced once the member shows up in `groups describe`
    const live = start([
      "consume",
      "cli-member",
      "--group",
      "cli-member-group",
      "--from-beginning",
      "--max-messages",
      "4"
    ])
    let member: Array<string> | undefined
    let finished = false
    void live.done.then(() => (finished = true))
    while (member === undefined && !finished) {
      const d = await eddy(["groups", "describe", "cli-member-group"])
      // an unknown group until the member joins
      if (d.code === 0 && /is Stable \(range\) with 1 member\(s\)\.$/.test(lines(d.stdout)[0]!))
        member = lines(d.stdout)
    }
    assert.isDefined(member, "eddy consume --group never showed up as a member")
    assert.match(member![2]!, /^cli-member-group\s+cli-member\s+0\s+\S+\s+3\s+\S+\s+\S+\s+\/127\.0\.0\.1\s+eddy-cli$/)
    ok(await eddy(["produce", "cli-member"], "four\n"))
    assert.deepStrictEqual(lines(ok(await live.done)), ["one", "two", "three", "four"])
    const consumed = lines(ok(await eddy(["groups", "describe", "cli-member-group"])))
    assert.include(consumed[0]!, "has no active members")
    assert.match(consumed[2]!, /^cli-member-group\s+cli-member\s+0\s+4\s+4\s+0\s+-/)
  })

  it("groups describe shows the members and state of a group that has committed nothing", async () => {
    ok(await eddy(["topics", "create", "cli-uncommitted", "--partitions", "2"]))
    // no records: the member never commits
    const live = start(["consume", "cli-uncommitted", "--group", "cli-uncommitted-group"])
    let described: Array<string> | undefined
    let finished = false
    void live.done.then(() => (finished = true))
    while (described === undefined && !finished) {
      const d = await eddy(["groups", "describe", "cli-uncommitted-group"])
      if (d.code === 0 && lines(d.stdout)[0]!.includes("is Stable")) described = lines(d.stdout)
    }
    live.child.kill("SIGINT")
    assert.strictEqual((await live.done).code, 0)
    assert.isDefined(described, "the member never showed up")
    assert.strictEqual(described![0], "Consumer group 'cli-uncommitted-group' is Stable (range) with 1 member(s).")
    assert.strictEqual(described!.length, 4, described!.join("\n"))
    for (const [i, row] of described!.slice(2).entries()) {
      assert.match(
        row,
        new RegExp(
          `^cli-uncommitted-group\\s+cli-uncommitted\\s+${i}\\s+-\\s+0\\s+-\\s+eddy-cli-\\S+\\s+/127\\.0\\.0\\.1\\s+eddy-cli$`
        )
      )
    }
  })

  it("consume --group commits what it printed on Ctrl-C and leaves the group", async () => {
    ok(await eddy(["topics", "create", "cli-sigint", "--partitions", "2"]))
    ok(await eddy(["produce", "cli-sigint", "--key-separator", ":"], "a:1\nb:2\nc:3\nd:4\ne:5\n"))
    const running = start(["consume", "cli-sigint", "--group", "cli-sigint-group", "--from-beginning"])
    for (let i = 0; i < 600 && lines(running.stdout()).length < 5; i++) await sleep(50)
    assert.strictEqual(lines(running.stdout()).length, 5, "the group member did not print every record")
    running.child.kill("SIGINT")
    const r = await running.done
    assert.strictEqual(r.code, 0, r.stderr)
    assert.sameMembers(lines(r.stdout), ["1", "2", "3", "4", "5"])
    const described = lines(ok(await eddy(["groups", "describe", "cli-sigint-group"])))
    assert.include(described[0]!, "has no active members")
    const rows = described.slice(2).map((l) => l.split(/\s+/))
    assert.strictEqual(rows.length, 2)
    // every partition committed at its end: lag 0, and the committed offsets add up to the records printed
    for (const row of rows) assert.strictEqual(row[5], "0", described.join("\n"))
    assert.strictEqual(
      rows.reduce((n, row) => n + Number(row[3]), 0),
      5
    )
  })

  it("perf produce and consume print their summaries", async () => {
    ok(await eddy(["topics", "create", "cli-perf", "--partitions", "2"]))
    const produced = ok(
      await eddy(["perf", "produce", "cli-perf", "--num-records", "2000", "--record-size", "100", "--linger-ms", "2"])
    )
    assert.match(
      produced,
      /^2000 records sent, [\d.]+ records\/sec \([\d.]+ MB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency, [\d.]+ ms 50th, [\d.]+ ms 95th, [\d.]+ ms 99th, [\d.]+ ms 99\.9th\.\n$/
    )
    // with a rate: record by record (500 records at 5000/s take about 0.1 s)
    const paced = ok(
      await eddy([
        "perf",
        "produce",
        "cli-perf",
        "--num-records",
        "500",
        "--record-size",
        "100",
        "--throughput",
        "5000"
      ])
    )
    assert.match(paced, /^500 records sent, [\d.]+ records\/sec/)
    const consumed = lines(ok(await eddy(["perf", "consume", "cli-perf", "--messages", "2000"])))
    assert.strictEqual(
      consumed[0],
      "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec"
    )
    assert.match(consumed[1]!, /, 0\.1907, [\d.]+, 2000, [\d.]+$/)
  })

  it("reports bad input in one line", async () => {
    const bad = await eddy(["topics", "create", "x", "--config", "novalue"])
    assert.strictEqual(bad.code, 2)
    assert.deepStrictEqual(lines(bad.stderr), ["error: Invalid --config 'novalue': expected key=value"])
  })
})
