import { assert, describe, it } from "@effect/vitest"
import * as Properties from "../../src/runtime/Properties.js"

describe("Properties", () => {
  it("parses Java properties: separators, comments, continuations and escapes", () => {
    const text = [
      "# a comment",
      "! another",
      "bootstrap.servers=localhost:9092",
      "key.converter : org.apache.kafka.connect.storage.StringConverter",
      "listeners http://:8083",
      "  indented=yes",
      "multi=first,\\",
      "    second",
      "escaped\\=key=a\\tb\\u0041",
      "empty=",
      "path=C:\\\\data"
    ].join("\n")
    assert.deepStrictEqual(Properties.parse(text), {
      "bootstrap.servers": "localhost:9092",
      "key.converter": "org.apache.kafka.connect.storage.StringConverter",
      listeners: "http://:8083",
      indented: "yes",
      multi: "first,second",
      "escaped=key": "a\tbA",
      empty: "",
      path: "C:\\data"
    })
  })

  it("reads connector files as properties or JSON (with or without a config object)", () => {
    assert.deepStrictEqual(Properties.parseConnectorFile("name=a\nconnector.class=FileStreamSource\n", false), {
      name: "a",
      config: { name: "a", "connector.class": "FileStreamSource" }
    })
    assert.deepStrictEqual(
      Properties.parseConnectorFile('{"name":"b","config":{"connector.class":"FileStreamSink","tasks.max":2}}', true),
      { name: "b", config: { "connector.class": "FileStreamSink", "tasks.max": "2", name: "b" } }
    )
    assert.deepStrictEqual(Properties.parseConnectorFile('{"name":"c","topic":"t"}', true), {
      name: "c",
      config: { name: "c", topic: "t" }
    })
    assert.throws(() => Properties.parseConnectorFile("topic=t\n", false), /name/)
    assert.throws(() => Properties.parseConnectorFile("{", true), /Invalid connector JSON/)
  })
})
