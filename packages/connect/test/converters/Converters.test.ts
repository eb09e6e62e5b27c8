import { assert, describe, it } from "@effect/vitest"
import * as Converters from "../../src/converters/Converters.js"
import * as NumberConverters from "../../src/converters/NumberConverters.js"
import * as SimpleHeaderConverter from "../../src/converters/SimpleHeaderConverter.js"
import * as StringConverter from "../../src/converters/StringConverter.js"
import * as CS from "../../src/data/ConnectSchema.js"

const hex = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString("hex"))

describe("converters", () => {
  it("number converters write Kafka's serializer bytes", () => {
    const table: ReadonlyArray<readonly [NumberConverters.NumberType, unknown, string]> = [
      ["int16", -2, "fffe"],
      ["int32", 258, "00000102"],
      ["int64", 2n ** 40n, "0000010000000000"],
      ["float32", 1.5, "3fc00000"],
      ["float64", -2, "c000000000000000"],
      ["boolean", true, "01"]
    ]
    for (const [type, value, bytes] of table) {
      const c = NumberConverters.make(type)
      const out = c.fromConnectData("t", null, value)
      assert.strictEqual(hex(out), bytes)
      assert.deepStrictEqual(c.toConnectData("t", out).value, typeof value === "bigint" ? Number(value) : value)
    }
    assert.isNull(NumberConverters.make("int32").fromConnectData("t", null, null))
  })

  it("StringConverter writes strings in the configured encoding", () => {
    const c = StringConverter.make({ "converter.encoding": "ISO-8859-1" })
    assert.strictEqual(hex(c.fromConnectData("t", null, "é")), "e9")
    assert.deepStrictEqual(c.toConnectData("t", Uint8Array.of(0xe9)), { schema: CS.OPTIONAL_STRING, value: "é" })
    assert.strictEqual(hex(StringConverter.make().fromConnectData("t", CS.int32(), 42)), "3432")
  })

  it("SimpleHeaderConverter writes strings and infers schemas when reading", () => {
    const c = SimpleHeaderConverter.make()
    const round = (schema: CS.ConnectSchema | null, v: unknown) =>
      c.toConnectHeader("t", "h", c.fromConnectHeader("t", "h", schema, v))
    assert.deepStrictEqual(round(CS.string(), "hello"), { schema: CS.string(), value: "hello" })
    assert.deepStrictEqual(round(CS.int32(), 5), { schema: CS.int8(), value: 5 })
    assert.deepStrictEqual(round(CS.int64(), 70000), { schema: CS.int32(), value: 70000 })
    assert.deepStrictEqual(round(CS.boolean(), true), { schema: CS.boolean(), value: true })
    assert.deepStrictEqual(round(CS.float64(), 1.25), { schema: CS.float64(), value: 1.25 })
    assert.strictEqual(Buffer.from(c.fromConnectHeader("t", "h", null, [1, "a"])!).toString(), '[1,"a"]')
  })

  it("a connector's converter and its prefixed settings override the worker's", () => {
    const worker = {
      "value.converter": "org.apache.kafka.connect.json.JsonConverter",
      "value.converter.schemas.enable": "true"
    }
    const fromWorker = Converters.converterFor("value", worker, {})
    assert.strictEqual(
      Buffer.from(fromWorker.fromConnectData("t", CS.int32(), 1)!).toString(),
      '{"schema":{"type":"int32","optional":false},"payload":1}'
    )
    const connector = { "value.converter": "JsonConverter", "value.converter.schemas.enable": "false" }
    assert.strictEqual(
      Buffer.from(Converters.converterFor("value", worker, connector).fromConnectData("t", CS.int32(), 1)!).toString(),
      "1"
    )
    const stringy = Converters.converterFor("key", worker, {
      "key.converter": "org.apache.kafka.connect.storage.StringConverter"
    })
    assert.strictEqual(Buffer.from(stringy.fromConnectData("t", null, "k")!).toString(), "k")
    assert.strictEqual(Converters.lookup("String")?.className, "org.apache.kafka.connect.storage.StringConverter")
    assert.throws(() => Converters.converterFor("value", {}, { "value.converter": "com.example.Nope" }))
  })
})
