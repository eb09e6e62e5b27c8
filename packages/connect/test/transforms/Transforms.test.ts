import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { type SinkRecord, sinkRecord } from "../../src/data/ConnectRecord.js"
import * as CS from "../../src/data/ConnectSchema.js"
import * as Logical from "../../src/data/Logical.js"
import { Struct } from "../../src/data/Struct.js"
import * as Plugins from "../../src/plugin/Plugins.js"
import * as TransformChain from "../../src/runtime/TransformChain.js"

const registry = Plugins.make({
  connectors: [],
  transformations: Plugins.builtinTransformations,
  predicates: Plugins.builtinPredicates
})

const chain = (props: Record<string, string>) => Effect.runSync(TransformChain.make(props, registry))
const apply = (props: Record<string, string>, record: SinkRecord) =>
  chain(props).reduce<SinkRecord | null>((r, s) => (r === null ? null : s.apply(r)), record)
const one = (type: string, options: Record<string, string>) => {
  const props: Record<string, string> = { transforms: "t", "transforms.t.type": type }
  for (const [k, v] of Object.entries(options)) props[`transforms.t.${k}`] = v
  return props
}
const rec = (fields: Partial<Parameters<typeof sinkRecord>[0]> = {}) =>
  sinkRecord({
    topic: "orders",
    kafkaPartition: 2,
    kafkaOffset: 42,
    timestamp: Date.UTC(2024, 4, 6, 7, 8, 9),
    ...fields
  })

const userSchema = CS.struct([
  ["id", CS.int32()],
  ["name", CS.string({ optional: true })],
  [
    "address",
    CS.struct(
      [
        ["city", CS.string()],
        ["zip", CS.string()]
      ],
      { optional: true }
    )
  ]
])
const user = () =>
  new Struct(userSchema)
    .put("id", 7)
    .put("name", "ann")
    .put("address", new Struct(userSchema.fields![2]!.schema).put("city", "Oslo").put("zip", "0150"))

const fieldsOf = (v: unknown): Record<string, unknown> =>
  v instanceof Struct
    ? Object.fromEntries(v.schema.fields!.map((f) => [f.name, fieldsOf(v.get(f.name))]))
    : v instanceof Map
      ? Object.fromEntries([...v].map(([k, x]) => [k, fieldsOf(x)]))
      : (v as never)

const schemaless = () =>
  new Map<string, unknown>([
    ["id", 7],
    ["name", "ann"],
    [
      "address",
      new Map([
        ["city", "Oslo"],
        ["zip", "0150"]
      ])
    ]
  ])

type Row = readonly [string, Record<string, string>, SinkRecord, (out: SinkRecord | null) => void]

const table: ReadonlyArray<Row> = [
  [
    "InsertField$Value with a schema",
    one("org.apache.kafka.connect.transforms.InsertField$Value", {
      "topic.field": "t!",
      "offset.field": "o",
      "static.field": "s",
      "static.value": "v"
    }),
    rec({ valueSchema: userSchema, value: user() }),
    (out) => {
      assert.deepStrictEqual(
        out!.valueSchema!.fields!.slice(3).map((f) => [f.name, f.schema.type, f.schema.optional]),
        [
          ["t", "string", false],
          ["o", "int64", true],
          ["s", "string", true]
        ]
      )
      assert.deepStrictEqual(
        [(out!.value as Struct).get("t"), (out!.value as Struct).get("o"), (out!.value as Struct).get("s")],
        ["orders", 42, "v"]
      )
    }
  ],
  [
    "InsertField$Value schemaless, tombstones pass",
    one("InsertField$Value", { "partition.field": "p", "timestamp.field": "ts" }),
    rec({ value: schemaless() }),
    (out) => {
      const v = out!.value as Map<string, unknown>
      assert.strictEqual(v.get("p"), 2)
      assert.deepStrictEqual(v.get("ts"), new Date(Date.UTC(2024, 4, 6, 7, 8, 9)))
    }
  ],
  [
    "InsertField on a tombstone",
    one("InsertField$Value", { "topic.field": "t" }),
    rec({ value: null }),
    (out) => assert.isNull(out!.value)
  ],
  [
    "ReplaceField$Value exclude and rename",
    one("ReplaceField$Value", { exclude: "address", renames: "name:full_name" }),
    rec({ valueSchema: userSchema, value: user() }),
    (out) => assert.deepStrictEqual(fieldsOf(out!.value), { id: 7, full_name: "ann" })
  ],
  [
    "ReplaceField$Value include (schemaless)",
    one("ReplaceField$Value", { include: "id" }),
    rec({ value: schemaless() }),
    (out) => assert.deepStrictEqual(fieldsOf(out!.value), { id: 7 })
  ],
  [
    "MaskField$Value",
    one("MaskField$Value", { fields: "id,name" }),
    rec({ valueSchema: userSchema, value: user() }),
    (out) => assert.deepStrictEqual([(out!.value as Struct).get("id"), (out!.value as Struct).get("name")], [0, ""])
  ],
  [
    "MaskField$Value with a replacement",
    one("MaskField$Value", { fields: "name", replacement: "****" }),
    rec({ value: schemaless() }),
    (out) => assert.strictEqual((out!.value as Map<string, unknown>).get("name"), "****")
  ],
  [
    "ExtractField$Key",
    one("ExtractField$Key", { field: "id" }),
    rec({ keySchema: userSchema, key: user() }),
    (out) => {
      assert.strictEqual(out!.key, 7)
      assert.strictEqual(out!.keySchema!.type, "int32")
    }
  ],
  [
    "HoistField$Value",
    one("HoistField$Value", { field: "line" }),
    rec({ valueSchema: CS.string(), value: "hello" }),
    (out) => assert.deepStrictEqual(fieldsOf(out!.value), { line: "hello" })
  ],
  [
    "Flatten$Value with a schema",
    one("Flatten$Value", { delimiter: "_" }),
    rec({ valueSchema: userSchema, value: user() }),
    (out) => {
      assert.deepStrictEqual(fieldsOf(out!.value), { id: 7, name: "ann", address_city: "Oslo", address_zip: "0150" })
      assert.isTrue(CS.field(out!.valueSchema!, "address_city")!.schema.optional)
    }
  ],
  [
    "Flatten$Value schemaless",
    one("Flatten$Value", {}),
    rec({ value: schemaless() }),
    (out) =>
      assert.deepStrictEqual(fieldsOf(out!.value), {
        id: 7,
        name: "ann",
        "address.city": "Oslo",
        "address.zip": "0150"
      })
  ],
  [
    "ValueToKey",
    one("org.apache.kafka.connect.transforms.ValueToKey", { fields: "id" }),
    rec({ valueSchema: userSchema, value: user() }),
    (out) => {
      assert.deepStrictEqual(fieldsOf(out!.key), { id: 7 })
      assert.strictEqual(out!.keySchema!.fields![0]!.schema.type, "int32")
    }
  ],
  [
    "Cast$Value fields",
    one("Cast$Value", { spec: "id:string,name:string" }),
    rec({
      valueSchema: CS.struct([
        ["id", CS.int32()],
        ["name", CS.string()]
      ]),
      value: new Struct(
        CS.struct([
          ["id", CS.int32()],
          ["name", CS.string()]
        ])
      )
        .put("id", 5)
        .put("name", "x")
    }),
    (out) => {
      assert.strictEqual((out!.value as Struct).get("id"), "5")
      assert.strictEqual(CS.field(out!.valueSchema!, "id")!.schema.type, "string")
    }
  ],
  [
    "Cast$Value whole value",
    one("Cast$Value", { spec: "int64" }),
    rec({ valueSchema: CS.string(), value: "12" }),
    (out) => assert.strictEqual(out!.value, 12)
  ],
  [
    "SetSchemaMetadata$Value",
    one("SetSchemaMetadata$Value", { "schema.name": "com.example.User", "schema.version": "3" }),
    rec({ valueSchema: userSchema, value: user() }),
    (out) => {
      assert.strictEqual(out!.valueSchema!.name, "com.example.User")
      assert.strictEqual(out!.valueSchema!.version, 3)
      assert.strictEqual((out!.value as Struct).schema.name, "com.example.User")
    }
  ],
  [
    "TimestampConverter$Value to string",
    one("TimestampConverter$Value", { field: "ts", "target.type": "string", format: "yyyy-MM-dd'T'HH:mm:ss" }),
    rec({ value: new Map([["ts", Date.UTC(2024, 0, 2, 3, 4, 5)]]) }),
    (out) => assert.strictEqual((out!.value as Map<string, unknown>).get("ts"), "2024-01-02T03:04:05")
  ],
  [
    "TimestampConverter$Value string to Timestamp",
    one("TimestampConverter$Value", { "target.type": "Timestamp", format: "yyyy-MM-dd" }),
    rec({ valueSchema: CS.string(), value: "2024-01-02" }),
    (out) => {
      assert.deepStrictEqual(out!.value, new Date(Date.UTC(2024, 0, 2)))
      assert.strictEqual(out!.valueSchema!.name, Logical.TIMESTAMP_NAME)
    }
  ],
  [
    "TimestampConverter$Value to unix seconds",
    one("TimestampConverter$Value", { "target.type": "unix", "unix.precision": "seconds" }),
    rec({ valueSchema: Logical.timestamp(), value: new Date(5000) }),
    (out) => assert.strictEqual(out!.value, 5)
  ],
  [
    "RegexRouter",
    one("RegexRouter", { regex: "ord(.*)", replacement: "archive-$1" }),
    rec(),
    (out) => assert.strictEqual(out!.topic, "archive-ers")
  ],
  [
    "RegexRouter without a match",
    one("RegexRouter", { regex: "x", replacement: "y" }),
    rec(),
    (out) => assert.strictEqual(out!.topic, "orders")
  ],
  ["TimestampRouter", one("TimestampRouter", {}), rec(), (out) => assert.strictEqual(out!.topic, "orders-20240506")],
  ["Filter", one("Filter", {}), rec(), (out) => assert.isNull(out)],
  [
    "DropHeaders",
    one("DropHeaders", { headers: "a,b" }),
    rec({
      headers: [
        { key: "a", schema: null, value: 1 },
        { key: "c", schema: null, value: 2 }
      ]
    }),
    (out) =>
      assert.deepStrictEqual(
        out!.headers.map((h) => h.key),
        ["c"]
      )
  ],
  [
    "HeaderFrom$Value move",
    one("HeaderFrom$Value", { fields: "id", headers: "user-id", operation: "move" }),
    rec({ valueSchema: userSchema, value: user() }),
    (out) => {
      assert.deepStrictEqual(
        out!.headers.map((h) => [h.key, h.value]),
        [["user-id", 7]]
      )
      assert.isUndefined(CS.field(out!.valueSchema!, "id"))
    }
  ],
  [
    "InsertHeader",
    one("InsertHeader", { header: "source", "value.literal": "42" }),
    rec(),
    (out) =>
      assert.deepStrictEqual(
        out!.headers.map((h) => [h.key, h.value, h.schema?.type]),
        [["source", 42, "int8"]]
      )
  ]
]

describe("transforms", () => {
  for (const [name, props, input, check] of table) it(name, () => check(apply(props, input)))

  it("predicates choose where a transform applies, negate inverts them", () => {
    const props = {
      transforms: "drop",
      "transforms.drop.type": "Filter",
      "transforms.drop.predicate": "isTomb",
      predicates: "isTomb,onOrders,hasH",
      "predicates.isTomb.type": "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
      "predicates.onOrders.type": "TopicNameMatches",
      "predicates.onOrders.pattern": "ord.*",
      "predicates.hasH.type": "HasHeaderKey",
      "predicates.hasH.name": "h"
    }
    assert.isNull(apply(props, rec({ value: null })))
    assert.isNotNull(apply(props, rec({ value: "x" })))
    const negated = { ...props, "transforms.drop.negate": "true" }
    assert.isNotNull(apply(negated, rec({ value: null })))
    assert.isNull(apply(negated, rec({ value: "x" })))
    const byTopic = { ...props, "transforms.drop.predicate": "onOrders" }
    assert.isNull(apply(byTopic, rec()))
    assert.isNotNull(apply(byTopic, rec({ topic: "users" })))
    const byHeader = { ...props, "transforms.drop.predicate": "hasH" }
    assert.isNull(apply(byHeader, rec({ headers: [{ key: "h", schema: null, value: null }] })))
    assert.isNotNull(apply(byHeader, rec()))
  })

  it("applies transforms in order and reports unknown types and predicates", () => {
    const props = {
      transforms: "hoist,route",
      "transforms.hoist.type": "HoistField$Value",
      "transforms.hoist.field": "line",
      "transforms.route.type": "RegexRouter",
      "transforms.route.regex": ".*",
      "transforms.route.replacement": "all"
    }
    const out = apply(props, rec({ valueSchema: CS.string(), value: "x" }))!
    assert.strictEqual(out.topic, "all")
    assert.deepStrictEqual(fieldsOf(out.value), { line: "x" })
    const missing = Effect.runSync(
      Effect.flip(TransformChain.make({ transforms: "a", "transforms.a.type": "Nope" }, registry))
    )
    assert.include(missing.message, "Nope")
    const undefinedPredicate = Effect.runSync(
      Effect.flip(
        TransformChain.make({ transforms: "a", "transforms.a.type": "Filter", "transforms.a.predicate": "p" }, registry)
      )
    )
    assert.include(undefinedPredicate.message, "undefined predicate")
  })
})
