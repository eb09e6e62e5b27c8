import { assert, describe, it } from "@effect/vitest"
import { normalizeArgv, takeLogLevel, tree } from "../src/Cli.js"
import * as Help from "../src/Help.js"

describe("Help", () => {
  it("uses colour only on a terminal without NO_COLOR", () => {
    assert.isTrue(Help.useColour({ isTTY: true }, {}))
    assert.isFalse(Help.useColour({ isTTY: true }, { NO_COLOR: "1" }))
    assert.isTrue(Help.useColour({ isTTY: true }, { NO_COLOR: "" }))
    assert.isFalse(Help.useColour({ isTTY: false }, {}))
    assert.isFalse(Help.useColour({}, {}))
  })

  it("bolds headings only with colour, and wraps to the width", () => {
    const coloured = Help.render(tree, ["topics", "alter"], { width: 60, colour: true })
    assert.include(coloured, "\u001b[1mUsage:\u001b[0m eddy topics alter [options] <topic>")
    const plain = Help.render(tree, ["topics", "alter"], { width: 60, colour: false })
    assert.strictEqual(Help.stripAnsi(coloured), plain)
    for (const line of plain.split("\n")) assert.isAtMost(line.length, 60, line)
    assert.deepStrictEqual(Help.wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"])
  })

  it("finds the command asked about", () => {
    assert.deepStrictEqual(Help.helpPath(tree, ["topics", "create", "x", "--help"]), ["topics", "create"])
    assert.deepStrictEqual(Help.helpPath(tree, ["groups"]), ["groups"])
    assert.deepStrictEqual(Help.helpPath(tree, []), [])
    assert.isUndefined(Help.helpPath(tree, ["topics", "list"]))
    assert.isUndefined(Help.helpPath(tree, ["--version"]))
  })

  it("moves options before the subcommand after it, and takes the global --log-level", () => {
    assert.deepStrictEqual(normalizeArgv(["node", "eddy", "--bootstrap-server", "h:1", "topics", "list"]), [
      "node",
      "eddy",
      "topics",
      "list",
      "--bootstrap-server",
      "h:1"
    ])
    assert.deepStrictEqual(normalizeArgv(["node", "eddy", "topics", "--bootstrap-server", "h:1", "create", "t"]), [
      "node",
      "eddy",
      "topics",
      "create",
      "t",
      "--bootstrap-server",
      "h:1"
    ])
    assert.deepStrictEqual(normalizeArgv(["node", "eddy", "consume", "t", "--group", "list"]), [
      "node",
      "eddy",
      "consume",
      "t",
      "--group",
      "list"
    ])
    assert.deepStrictEqual(normalizeArgv(["node", "eddy", "--version"]), ["node", "eddy", "--version"])
    const taken = takeLogLevel(["topics", "list", "--log-level=debug"])
    assert.deepStrictEqual("args" in taken && taken.args, ["topics", "list"])
    assert.strictEqual("level" in taken && taken.level._tag, "Debug")
    const broker = takeLogLevel(["broker", "--log-level", "debug"])
    assert.deepStrictEqual("args" in broker && broker.args, ["broker", "--log-level", "debug"])
  })
})
