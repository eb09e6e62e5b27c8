import { assert, describe, it } from "@effect/vitest"
import * as JsonConverter from "../../src/converters/JsonConverter.js"
import * as Json from "../../src/converters/JsonTree.js"
import * as CS from "../../src/data/ConnectSchema.js"
import * as Logical from "../../src/data/Logical.js"
import { DataError, Struct } from "../../src/data/Struct.js"

const text = (bytes: Uint8Array | null) => (bytes === null ? null : new TextDecoder().decode(bytes))
const bytes = (s: string) => new TextEncoder().encode(s)
const withSchemas = JsonConverter.make()
const plain = JsonConverter.make({ "schemas.enable": "false" })

const user = CS.struct(
  [
    ["id", CS.int32()],
    ["name", CS.string({ optional: true })],
    ["score", CS.float64()],
    ["tags", CS.array(CS.string())],
    ["active", CS.boolean({ defaultValue: true })]
  ],
  { name: "com.example.User", version: 2, doc: "a user" }
)

// Fixtures: the exact text Kafka's JsonConverter prints for these values (compact Jackson output, schema
// keys in the order type, fields/items/keys/values, optional, name, version, doc, parameters, default).
const golden: ReadonlyArray<readonly [string, CS.ConnectSchema | null, unknown, string]> = [
  ["int8", CS.int8(), 12, '{"schema":{"type":"int8","optional":false},"payload":12}'],
  ["int16", CS.int16(), -300, '{"schema":{"type":"int16","optional":false},"payload":-300}'],
  ["int32", CS.int32(), 123456, '{"schema":{"type":"int32","optional":false},"payload":123456}'],
  [
    "int64 beyond 2^53",
    CS.int64(),
    9007199254740993n,
    '{"schema":{"type":"int64","optional":false},"payload":9007199254740993}'
  ],
  ["float32", CS.float32(), 12.34, '{"schema":{"type":"float","optional":false},"payload":12.34}'],
  ["float64 integral", CS.float64(), 1, '{"schema":{"type":"double","optional":false},"payload":1.0}'],
  ["float64 large", CS.float64(), 1e21, '{"schema":{"type":"double","optional":false},"payload":1.0E21}'],
  ["float64 small", CS.float64(), 0.0001, '{"schema":{"type":"double","optional":false},"payload":1.0E-4}'],
  ["boolean", CS.boolean(), true, '{"schema":{"type":"boolean","optional":false},"payload":true}'],
  [
    "string with escapes",
    CS.string(),
    'a"b\\c\n\u0001é',
    '{"schema":{"type":"string","optional":false},"payload":"a\\"b\\\\c\\n\\u0001é"}'
  ],
  [
    "bytes as base64",
    CS.bytes(),
    Uint8Array.from([1, 2, 3, 255]),
    '{"schema":{"type":"bytes","optional":false},"payload":"AQID/w=="}'
  ],
  ["optional null", CS.string({ optional: true }), null, '{"schema":{"type":"string","optional":true},"payload":null}'],
  [
    "null replaced by default",
    CS.int32({ defaultValue: 7 }),
    null,
    '{"schema":{"type":"int32","optional":false,"default":7},"payload":7}'
  ],
  [
    "array",
    CS.array(CS.int32()),
    [1, 2],
    '{"schema":{"type":"array","items":{"type":"int32","optional":false},"optional":false},"payload":[1,2]}'
  ],
  [
    "map with string keys",
    CS.map(CS.string(), CS.int32()),
    new Map([["a", 1]]),
    '{"schema":{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int32","optional":false},"optional":false},"payload":{"a":1}}'
  ],
  [
    "map with int keys as pairs",
    CS.map(CS.int32(), CS.string()),
    new Map([[1, "x"]]),
    '{"schema":{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"string","optional":false},"optional":false},"payload":[[1,"x"]]}'
  ],
  [
    "decimal as base64",
    Logical.decimal(2),
    new Logical.BigDecimal(12345n, 2),
    '{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":"MDk="}'
  ],
  [
    "negative decimal",
    Logical.decimal(0),
    new Logical.BigDecimal(-129n, 0),
    '{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"0"}},"payload":"/38="}'
  ],
  [
    "date",
    Logical.date(),
    new Date(Date.UTC(2024, 0, 2)),
    '{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1},"payload":19724}'
  ],
  [
    "time",
    Logical.time(),
    new Date(3_600_000),
    '{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1},"payload":3600000}'
  ],
  [
    "timestamp",
    Logical.timestamp(),
    new Date(1700000000123),
    '{"schema":{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1},"payload":1700000000123}'
  ],
  [
    "struct",
    user,
    new Struct(user).put("id", 1).put("name", "alice").put("score", 2.5).put("tags", ["a"]),
    '{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"name"},{"type":"double","optional":false,"field":"score"},{"type":"array","items":{"type":"string","optional":false},"optional":false,"field":"tags"},{"type":"boolean","optional":false,"default":true,"field":"active"}],"optional":false,"name":"com.example.User","version":2,"doc":"a user"},"payload":{"id":1,"name":"alice","score":2.5,"tags":["a"],"active":true}}'
  ],
  ["schemaless string", null, "hi", '{"schema":null,"payload":"hi"}']
]

describe("JsonConverter", () => {
  for (const [name, schema, value, expected] of golden) {
    it(`writes Kafka's bytes: ${name}`, () => {
      assert.strictEqual(text(withSchemas.fromConnectData("t", schema, value)), expected)
    })
    it(`reads Kafka's bytes back: ${name}`, () => {
      const back = withSchemas.toConnectData("t", bytes(expected))
      assert.strictEqual(text(withSchemas.fromConnectData("t", back.schema, back.value)), expected)
      if (schema) assert.isTrue(CS.equals(back.schema, schema))
    })
  }

  it("writes the bare payload without schemas (structs as objects)", () => {
    const s = new Struct(user).put("id", 1).put("score", 0.5).put("tags", [])
    assert.strictEqual(
      text(plain.fromConnectData("t", user, s)),
      '{"id":1,"name":null,"score":0.5,"tags":[],"active":true}'
    )
    assert.deepStrictEqual(plain.toConnectData("t", bytes('{"a":[1,2.5,"x"]}')).value, new Map([["a", [1, 2.5, "x"]]]))
  })

  it("null schema and value give no bytes; no bytes give null", () => {
    assert.isNull(withSchemas.fromConnectData("t", null, null))
    assert.deepStrictEqual(withSchemas.toConnectData("t", null), { schema: null, value: null })
  })

  it("decimal.format=NUMERIC writes the decimal as a JSON number and reads both forms", () => {
    const numeric = JsonConverter.make({ "decimal.format": "NUMERIC" })
    const out = text(numeric.fromConnectData("t", Logical.decimal(4), new Logical.BigDecimal(102345n, 4)))
    assert.strictEqual(
      out,
      '{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"4"}},"payload":10.2345}'
    )
    const back = numeric.toConnectData("t", bytes(out!)).value as Logical.BigDecimal
    assert.strictEqual(back.unscaled, 102345n)
    assert.strictEqual(back.scale, 4)
  })

  it("rejects plain JSON when schemas are enabled, and a missing required value", () => {
    assert.throws(() => withSchemas.toConnectData("t", bytes('{"a":1}')), DataError)
    assert.throws(() => withSchemas.toConnectData("t", bytes("{not json")), DataError)
    assert.throws(() => withSchemas.fromConnectData("t", CS.int32(), null), DataError)
  })

  it("prints doubles and floats as Java does", () => {
    const cases: ReadonlyArray<readonly [number, string]> = [
      [0, "0.0"],
      [-1.5, "-1.5"],
      [123456.789, "123456.789"],
      [1e7, "1.0E7"],
      [9999999, "9999999.0"],
      [0.001, "0.001"],
      [1.2e-7, "1.2E-7"],
      [Number.MAX_VALUE, "1.7976931348623157E308"]
    ]
    for (const [v, s] of cases) assert.strictEqual(Json.javaDouble(v), s)
    assert.strictEqual(Json.javaFloat(0.1), "0.1")
    assert.strictEqual(Json.javaFloat(3.4028234663852886e38), "3.4028235E38")
  })
})
