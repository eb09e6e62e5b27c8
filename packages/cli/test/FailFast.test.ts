/**
 * The CLI's failures without a broker and its usage errors: every command against a stopped port (bound, then
 * closed) fails with one `error:` line once its bootstrap budget (`--bootstrap-timeout-ms`, default 2000) is
 * spent; usage errors print the same one-line form with exit status 2; help is plain text when piped.
 */
import * as net from "node:net"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { type Result, runEddy } from "./runEddy.js"

const eddy = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<Result> =>
  runEddy(args, { input: "a record\n", env })

const lines = (s: string) => s.split("\n").filter((l) => l.trim() !== "")

/** A port nothing listens on: bound, then closed. */
const stoppedPort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

let address: string
beforeAll(async () => {
  address = `127.0.0.1:${await stoppedPort()}`
})

/** The one line every command prints when no broker answers at `address`. */
const noBroker = (a: string) =>
  new RegExp(
    `^error: no broker reachable at ${a.replaceAll(".", "\\.")} \\(connect ECONNREFUSED [^)]*, for \\d+ ms\\); start one with \`eddy broker\``
  )

describe("eddy without a broker", { timeout: 120_000 }, () => {
  it("every client command fails with one line naming the address, once the bootstrap budget is spent", async () => {
    const commands = [
      ["topics", "list"],
      ["topics", "create", "t"],
      ["topics", "describe", "t"],
      ["topics", "alter", "t", "--config", "retention.ms=1"],
      ["topics", "delete", "t"],
      ["produce", "t"],
      ["consume", "t"],
      ["consume", "t", "--group", "g"],
      ["groups", "list"],
      ["groups", "describe", "g"],
      ["groups", "reset-offsets", "g", "--topic", "t", "--to-earliest"],
      ["groups", "delete", "g"],
      ["perf", "produce", "t", "--num-records", "10", "--record-size", "10"],
      ["perf", "consume", "t", "--messages", "10"]
    ]
    const results = await Promise.all(commands.map((c) => eddy([...c, "--bootstrap-server", address])))
    results.forEach((r, i) => {
      const what = `eddy ${commands[i]!.join(" ")}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`
      assert.strictEqual(r.code, 1, what)
      assert.strictEqual(r.stdout, "", what)
      assert.strictEqual(lines(r.stderr).length, 1, what)
      assert.match(r.stderr, noBroker(address), what)
      assert.include(r.stderr, "for 2000 ms", what)
    })
  })

  it("takes options before the subcommand, and --bootstrap-timeout-ms sets the budget", async () => {
    const r = await eddy(["--bootstrap-server", address, "--bootstrap-timeout-ms", "300", "topics", "list"])
    assert.strictEqual(r.code, 1, r.stderr)
    assert.strictEqual(lines(r.stderr).length, 1, r.stderr)
    assert.match(r.stderr, noBroker(address))
    assert.include(r.stderr, "for 300 ms")
  })
})

describe("eddy usage errors", { timeout: 120_000 }, () => {
  it("print one `error:` line and exit with status 2", async () => {
    const cases: Array<[ReadonlyArray<string>, RegExp]> = [
      [["topics", "create", "t", "--partitions", "many"], /^error: Invalid --partitions 'many': not an integer$/],
      [["topics", "list", "--no-such-flag"], /^error: Received unknown argument: '--no-such-flag'$/],
      [
        ["broker", "--config", "/no/such/server.properties"],
        /^error: Path '\/no\/such\/server\.properties' must exist$/
      ],
      [["consume", "t", "--format", "xml"], /^error: Expected one of the following cases: text, json$/],
      [["topics", "create", "t", "--config", "novalue"], /^error: Invalid --config 'novalue': expected key=value$/],
      [["--log-level", "loud", "topics", "list"], /^error: Invalid --log-level 'loud': expected one of all, /]
    ]
    const results = await Promise.all(cases.map(([args]) => eddy(args)))
    results.forEach((r, i) => {
      const what = `eddy ${cases[i]![0].join(" ")}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`
      assert.strictEqual(r.code, 2, what)
      assert.strictEqual(r.stdout, "", what)
      assert.strictEqual(lines(r.stderr).length, 1, what)
      assert.match(lines(r.stderr)[0]!, cases[i]![1], what)
      assert.notInclude(r.stderr, "\u001b", what)
    })
  })
})

describe("eddy --help", { timeout: 120_000 }, () => {
  it("is plain text wrapped to the width, with `eddy <command>` usage and each option's default", async () => {
    const [create, broker, root, topics] = await Promise.all([
      eddy(["topics", "create", "--help"], { COLUMNS: "70" }),
      eddy(["broker", "-h"], { COLUMNS: "70" }),
      eddy(["--help"], { COLUMNS: "70" }),
      eddy(["topics"], { COLUMNS: "70" })
    ])
    for (const r of [create, broker, root, topics]) {
      assert.strictEqual(r.code, 0, r.stderr)
      assert.strictEqual(r.stderr, "")
      // not a terminal: no colour
      assert.notInclude(r.stdout, "\u001b")
      for (const l of r.stdout.split("\n")) assert.isAtMost(l.length, 70, l)
    }
    const text = create.stdout
    assert.strictEqual(lines(text)[0], "Usage: eddy topics create [options] <topic>")
    const flat = text.replace(/\s+/g, " ")
    assert.include(
      flat,
      "--bootstrap-server text Comma-separated host:port list of brokers to bootstrap from (default: localhost:9092)"
    )
    assert.include(
      flat,
      "--bootstrap-timeout-ms integer Give up after this many ms when no broker can be reached (default: 2000)"
    )
    assert.strictEqual(text.split("--log-level").length - 1, 1)
    assert.strictEqual(lines(broker.stdout)[0], "Usage: eddy broker [options]")
    assert.strictEqual(broker.stdout.split("--log-level").length - 1, 1)
    assert.match(broker.stdout, /--log-level debug \| info \| warning \| error\s+Log level \(default: info;/)
    assert.strictEqual(lines(root.stdout)[0], "Usage: eddy <command> [options]")
    assert.strictEqual(lines(topics.stdout)[0], "Usage: eddy topics <command> [options]")
    assert.match(topics.stdout, /\n {2}delete\s+Delete a topic\n/)
  })
})
