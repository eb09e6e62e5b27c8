import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import * as BrokerConfig from "../../src/broker/BrokerConfig.js"
import * as Properties from "../../src/broker/internal/properties.js"
import * as TopicConfig from "../../src/broker/TopicConfig.js"

describe("properties syntax", () => {
  it("reads comments, separators, continuations and escapes", () => {
    const text = [
      "# a comment",
      "   ! another comment",
      "",
      "node.id=3",
      "listeners : PLAINTEXT://0.0.0.0:9093",
      "log.dirs   /var/lib/eddy",
      "  num.partitions=\\",
      "     4",
      "key\\ with\\ spaces = value with \\t tab",
      "unicode=caf\\u00e9",
      "colon\\:key=a\\=b",
      "empty=",
      "trailing.backslash=ends\\\\",
      "crlf=1\r",
      "last=x"
    ].join("\n")
    const pairs = new Map(Properties.parse(text))
    assert.strictEqual(pairs.get("node.id"), "3")
    assert.strictEqual(pairs.get("listeners"), "PLAINTEXT://0.0.0.0:9093")
    assert.strictEqual(pairs.get("log.dirs"), "/var/lib/eddy")
    assert.strictEqual(pairs.get("num.partitions"), "4")
    assert.strictEqual(pairs.get("key with spaces"), "value with \t tab")
    assert.strictEqual(pairs.get("unicode"), "café")
    assert.strictEqual(pairs.get("colon:key"), "a=b")
    assert.strictEqual(pairs.get("empty"), "")
    assert.strictEqual(pairs.get("trailing.backslash"), "ends\\")
    assert.strictEqual(pairs.get("crlf"), "1")
    assert.strictEqual(pairs.get("last"), "x")
    assert.strictEqual(pairs.size, 11)
  })

  it("round-trips through stringify", () => {
    const pairs: Array<readonly [string, string]> = [
      ["a b", " leading space"],
      ["c=d", "e:f#g!h"],
      ["uni", "ü\n"]
    ]
    assert.deepStrictEqual(Properties.parse(Properties.stringify(pairs, "header")), pairs)
  })
})

describe("BrokerConfig", () => {
  it.effect("has Kafka's defaults", () =>
    Effect.gen(function* () {
      const c = yield* BrokerConfig.fromProperties("")
      assert.strictEqual(BrokerConfig.nodeId(c), 1)
      assert.deepStrictEqual(BrokerConfig.listener(c), { name: "PLAINTEXT", host: "127.0.0.1", port: 9092 })
      assert.deepStrictEqual(BrokerConfig.logDirs(c), ["./data"])
      assert.strictEqual(BrokerConfig.getNumber(c, "num.partitions"), 1)
      assert.strictEqual(BrokerConfig.getNumber(c, "default.replication.factor"), 1)
      assert.isTrue(BrokerConfig.getBoolean(c, "auto.create.topics.enable"))
      assert.strictEqual(BrokerConfig.getNumber(c, "message.max.bytes"), 1048588)
      assert.strictEqual(BrokerConfig.getNumber(c, "socket.request.max.bytes"), 104857600)
      assert.strictEqual(BrokerConfig.getNumber(c, "offsets.topic.num.partitions"), 50)
      assert.strictEqual(BrokerConfig.getNumber(c, "group.initial.rebalance.delay.ms"), 3000)
      assert.strictEqual(BrokerConfig.retentionMs(c), 168 * 3_600_000)
      assert.strictEqual(BrokerConfig.rollMs(c), 168 * 3_600_000)
      assert.strictEqual(BrokerConfig.get(c, "log.cleanup.policy"), "delete")
      assert.strictEqual(BrokerConfig.getNumber(c, "log.flush.interval.messages"), Number.MAX_SAFE_INTEGER)
    })
  )

  it.effect("applies overrides after the file, and Kafka's retention precedence", () =>
    Effect.gen(function* () {
      const c = yield* BrokerConfig.fromProperties("log.retention.hours=1\nlog.retention.minutes=5\nbroker.id=7\n", [
        "num.partitions=3",
        "auto.create.topics.enable=FALSE"
      ])
      assert.strictEqual(BrokerConfig.retentionMs(c), 5 * 60_000)
      assert.strictEqual(BrokerConfig.nodeId(c), 7)
      assert.strictEqual(BrokerConfig.getNumber(c, "num.partitions"), 3)
      assert.isFalse(BrokerConfig.getBoolean(c, "auto.create.topics.enable"))
      const withMs = yield* BrokerConfig.set(c, { "log.retention.ms": "-1" })
      assert.strictEqual(BrokerConfig.retentionMs(withMs), -1)
    })
  )

  it.effect("keeps unknown keys (a Kafka server.properties loads unchanged)", () =>
    Effect.gen(function* () {
      const c = yield* BrokerConfig.fromProperties(
        "process.roles=broker,controller\ncontroller.listener.names=CONTROLLER\n" +
          "listeners=PLAINTEXT://:9092,CONTROLLER://:9093\nnum.network.threads=3\n"
      )
      assert.deepStrictEqual(c.unknownKeys, ["process.roles", "num.network.threads"])
      assert.deepStrictEqual(BrokerConfig.listener(c), { name: "PLAINTEXT", host: "", port: 9092 })
    })
  )

  it.effect("rejects bad values naming the key", () =>
    Effect.gen(function* () {
      const cases: Array<[string, string]> = [
        ["num.partitions=abc", "num.partitions"],
        ["num.partitions=0", "num.partitions"],
        ["auto.create.topics.enable=yes", "auto.create.topics.enable"],
        ["message.max.bytes=99999999999", "message.max.bytes"],
        ["log.cleanup.policy=delete,archive", "log.cleanup.policy"],
        ["log.message.timestamp.type=Now", "log.message.timestamp.type"],
        ["listeners=localhost:9092", "listeners"],
        ["listeners=SSL://localhost:9093", "listeners"]
      ]
      for (const [text, key] of cases) {
        const exit = yield* Effect.exit(BrokerConfig.fromProperties(text))
        assert.isTrue(Exit.isFailure(exit), text)
        if (Exit.isFailure(exit) && exit.cause._tag === "Fail") {
          assert.strictEqual(exit.cause.error.key, key)
          assert.include(exit.cause.error.message, key)
        } else {
          assert.fail(`expected a typed failure for ${text}`)
        }
      }
      const bad = yield* Effect.exit(BrokerConfig.fromProperties("", ["novalue"]))
      assert.isTrue(Exit.isFailure(bad))
    })
  )

  it.effect("advertises the bound port when listening on port 0", () =>
    Effect.gen(function* () {
      const c = yield* BrokerConfig.fromProperties("listeners=PLAINTEXT://127.0.0.1:0")
      assert.deepStrictEqual(BrokerConfig.advertisedListener(c, 4567), {
        name: "PLAINTEXT",
        host: "127.0.0.1",
        port: 4567
      })
      const adv = yield* BrokerConfig.set(c, { "advertised.listeners": "PLAINTEXT://broker.example:19092" })
      assert.deepStrictEqual(BrokerConfig.advertisedListener(adv, 4567), {
        name: "PLAINTEXT",
        host: "broker.example",
        port: 19092
      })
    })
  )
})

describe("TopicConfig", () => {
  it.effect("resolves topic keys from broker synonyms", () =>
    Effect.gen(function* () {
      const broker = yield* BrokerConfig.fromProperties("log.retention.minutes=10\nlog.segment.bytes=1048576\n")
      const log = TopicConfig.toLogConfig(broker, { "cleanup.policy": "delete,compact", "max.message.bytes": "2000" })
      assert.strictEqual(log["retention.ms"], 600_000)
      assert.strictEqual(log["segment.bytes"], 1048576)
      assert.strictEqual(log["cleanup.policy"], "compact,delete")
      assert.strictEqual(log["max.message.bytes"], 2000)
      assert.strictEqual(log["segment.ms"], 168 * 3_600_000)
    })
  )

  it("validates names and values", () => {
    assert.isUndefined(TopicConfig.check("retention.ms", "1000"))
    assert.include(TopicConfig.check("retention.ms", "soon")!, "retention.ms")
    assert.include(TopicConfig.check("no.such.key", "1")!, "Unknown topic config name")
    assert.include(TopicConfig.check("cleanup.policy", "archive")!, "cleanup.policy")
    assert.include(TopicConfig.check("min.cleanable.dirty.ratio", "2")!, "between 0 and 1")
    assert.isDefined(TopicConfig.check("segment.bytes", "10"))
  })
})
