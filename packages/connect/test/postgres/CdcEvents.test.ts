import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as JsonConverter from "../../src/converters/JsonConverter.js"
import { Struct } from "../../src/data/Struct.js"
import * as Events from "../../src/postgres/CdcEvents.js"
import { Oid } from "../../src/postgres/PgTypes.js"

const converter = JsonConverter.make()
const json = (schema: Parameters<typeof converter.fromConnectData>[1], value: unknown) =>
  JSON.parse(Buffer.from(converter.fromConnectData("t", schema, value, [])!).toString("utf8"))

// Debezium's customers example: id int4 primary key, first_name/last_name/email varchar
const customers: Events.Relation = {
  relationOid: 16390,
  schema: "inventory",
  name: "customers",
  replicaIdentity: "default",
  columns: [
    { name: "id", typeOid: Oid.int4, typeMod: -1 },
    { name: "first_name", typeOid: Oid.varchar, typeMod: 259 },
    { name: "last_name", typeOid: Oid.varchar, typeMod: 259 },
    { name: "email", typeOid: Oid.varchar, typeMod: 259 }
  ],
  keyColumns: ["id"]
}

describe("CdcEvents (Debezium's JSON with JsonConverter schemas.enable=true)", () => {
  const t = Events.tableSchemas("dbserver1", customers)
  const row = { id: "1004", first_name: "Anne", last_name: "Kretchmar", email: "annek@noanswer.org" }
  const source = Events.sourceStruct({
    name: "dbserver1",
    db: "postgres",
    schema: "inventory",
    table: "customers",
    commitTimeMicros: 1_559_033_904_863_123,
    txId: 555,
    lsn: 24023128,
    lastCommitLsn: 24023000,
    snapshot: "false"
  })

  it("the key is Debezium's: a struct of the primary key named <prefix>.<schema>.<table>.Key", () => {
    assert.deepStrictEqual(json(t.keySchema, Events.keyStruct(t, row)), {
      schema: {
        type: "struct",
        fields: [{ type: "int32", optional: false, field: "id" }],
        optional: false,
        name: "dbserver1.inventory.customers.Key"
      },
      payload: { id: 1004 }
    })
  })

  it("a create event: envelope fields, row schema, source block and payload", () => {
    const value = json(t.envelope, Events.envelope(t, "c", null, Events.rowStruct(t, row), source, 1_559_033_904_863))
    assert.strictEqual(value.schema.name, "dbserver1.inventory.customers.Envelope")
    assert.deepStrictEqual(
      value.schema.fields.map((f: { field: string }) => f.field),
      ["before", "after", "source", "transaction", "op", "ts_ms", "ts_us", "ts_ns"]
    )
    const before = value.schema.fields[0]
    assert.strictEqual(before.name, "dbserver1.inventory.customers.Value")
    assert.strictEqual(before.optional, true)
    assert.deepStrictEqual(before.fields, [
      { type: "int32", optional: false, field: "id" },
      { type: "string", optional: true, field: "first_name" },
      { type: "string", optional: true, field: "last_name" },
      { type: "string", optional: true, field: "email" }
    ])
    const sourceSchema = value.schema.fields[2]
    assert.strictEqual(sourceSchema.name, "io.debezium.connector.postgresql.Source")
    assert.deepStrictEqual(
      sourceSchema.fields.map((f: { field: string }) => f.field),
      [
        "version",
        "connector",
        "name",
        "ts_ms",
        "snapshot",
        "db",
        "sequence",
        "ts_us",
        "ts_ns",
        "schema",
        "table",
        "txId",
        "lsn",
        "xmin"
      ]
    )
    assert.deepStrictEqual(value.payload, {
      before: null,
      after: { id: 1004, first_name: "Anne", last_name: "Kretchmar", email: "annek@noanswer.org" },
      source: {
        version: Events.VERSION,
        connector: "postgresql",
        name: "dbserver1",
        ts_ms: 1559033904863,
        snapshot: "false",
        db: "postgres",
        sequence: '["24023000","24023128"]',
        ts_us: 1559033904863123,
        ts_ns: 1559033904863123000,
        schema: "inventory",
        table: "customers",
        txId: 555,
        lsn: 24023128,
        xmin: null
      },
      transaction: null,
      op: "c",
      ts_ms: 1559033904863,
      ts_us: 1559033904863000,
      ts_ns: 1559033904863000000
    })
  })

  it("update and delete events carry before images per REPLICA IDENTITY; unchanged TOAST values get the placeholder", () => {
    const full = Events.rowStruct(t, { id: "1004", first_name: "Anne", last_name: "K", email: "a@b" })
    const keyOnly = Events.rowStruct(t, { id: "1004" })
    const updated = json(t.envelope, Events.envelope(t, "u", full, Events.rowStruct(t, row), source, 1))
    assert.deepStrictEqual(updated.payload.before, { id: 1004, first_name: "Anne", last_name: "K", email: "a@b" })
    const deleted = json(t.envelope, Events.envelope(t, "d", keyOnly, null, source, 1))
    assert.deepStrictEqual(deleted.payload.before, { id: 1004, first_name: null, last_name: null, email: null })
    assert.strictEqual(deleted.payload.after, null)
    assert.strictEqual(deleted.payload.op, "d")
    const toasted = Events.rowStruct(t, { id: "1", first_name: "x", last_name: undefined, email: null })
    assert.strictEqual(toasted!.get("last_name"), Events.UNAVAILABLE_VALUE)
    assert.strictEqual(toasted!.get("email"), null)
  })

  it("LSNs convert between X/Y text and numbers", () => {
    assert.strictEqual(Events.lsnToNumber("0/16B3748"), 0x16b3748)
    assert.strictEqual(Events.lsnToNumber("1/0"), 2 ** 32)
    assert.strictEqual(Events.lsnToString(2 ** 32 + 0xab), "1/AB")
  })
})

describe("transaction metadata and heartbeats (Debezium's documented JSON)", () => {
  const plain = JsonConverter.make({ "schemas.enable": "false" })
  const fixture = JSON.parse(
    fs.readFileSync(path.join(import.meta.dirname, "fixtures", "transaction-metadata.json"), "utf8")
  )
  const plainJson = (schema: Parameters<typeof plain.fromConnectData>[1], value: unknown) =>
    JSON.parse(Buffer.from(plain.fromConnectData("t", schema, value, [])!).toString("utf8"))
  const id = Events.transactionId(571, 53195829)

  it("BEGIN and END values and their key", () => {
    assert.deepStrictEqual(
      plainJson(Events.transactionKeySchema, new Struct(Events.transactionKeySchema).put("id", id)),
      fixture.beginKey
    )
    assert.deepStrictEqual(
      plainJson(Events.transactionValueSchema, Events.transactionBegin(id, 1486500577125)),
      fixture.begin
    )
    const counts = new Map([
      ["s1.a", 1],
      ["s2.a", 1]
    ])
    assert.deepStrictEqual(
      plainJson(Events.transactionValueSchema, Events.transactionEnd(id, 1486500577125, counts)),
      fixture.end
    )
  })

  it("the transaction block of a change event, and the schema names", () => {
    assert.deepStrictEqual(plainJson(Events.transactionBlockSchema, Events.transactionBlock(id, 1, 1)), fixture.block)
    const withSchema = json(Events.transactionValueSchema, Events.transactionBegin(id, 1))
    assert.strictEqual(withSchema.schema.name, "io.debezium.connector.common.TransactionMetadataValue")
    assert.deepStrictEqual(
      withSchema.schema.fields.map((f: { field: string; optional: boolean }) => [f.field, f.optional]),
      [
        ["status", false],
        ["id", false],
        ["event_count", true],
        ["data_collections", true],
        ["ts_ms", false]
      ]
    )
    assert.strictEqual(withSchema.schema.fields[3].items.name, "event.collection")
    assert.strictEqual(json(Events.transactionBlockSchema, null).schema.name, "event.block")
  })

  it("heartbeat key and value", () => {
    const record = Events.heartbeatRecord({
      topic: "__debezium-heartbeat.dbserver1",
      serverName: "dbserver1",
      sourcePartition: { server: "dbserver1" },
      sourceOffset: { lsn: 1 },
      nowMs: 1714042543810
    })
    assert.deepStrictEqual(plainJson(record.keySchema, record.key), fixture.heartbeatKey)
    assert.deepStrictEqual(plainJson(record.valueSchema, record.value), fixture.heartbeat)
    assert.strictEqual(json(record.keySchema, record.key).schema.name, "io.debezium.connector.common.ServerNameKey")
    assert.strictEqual(json(record.valueSchema, record.value).schema.name, "io.debezium.connector.common.Heartbeat")
  })
})
