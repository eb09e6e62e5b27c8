import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import type { MessageSpec } from "../../scripts/protocol-schema.js"
import { isProtocolError } from "../../src/protocol/ProtocolError.js"
import { Reader } from "../../src/protocol/Reader.js"
import { Writer } from "../../src/protocol/Writer.js"
import { codecOf } from "./codecs.js"
import { messageArb, messageSpecs, recordSpecs, versionsOf } from "./schemaArbitraries.js"

const RUNS = 25

const encode = (m: MessageSpec, kind: "messages" | "records", v: unknown, version: number): Uint8Array => {
  const w = new Writer(64)
  codecOf(m, kind).encode(w, v, version)
  // a plain Uint8Array copy, so decoded views compare equal to generated Uint8Arrays
  return new Uint8Array(w.finish())
}

const roundTrip = (m: MessageSpec, kind: "messages" | "records", version: number): void => {
  const codec = codecOf(m, kind)
  fc.assert(
    fc.property(messageArb(m, version), (value) => {
      const bytes = encode(m, kind, value, version)
      const r = new Reader(bytes)
      const decoded = codec.decode(r, version)
      assert.strictEqual(r.remaining, 0, `${m.name} v${version}: bytes left after decode`)
      assert.deepStrictEqual(decoded, value, `${m.name} v${version}: decode(encode(x)) != x`)
      const again = encode(m, kind, decoded, version)
      assert.isTrue(Buffer.from(again).equals(Buffer.from(bytes)), `${m.name} v${version}: re-encode differs`)
    }),
    { numRuns: RUNS }
  )
}

const specs = messageSpecs()
const apiSpecs = specs.filter((m) => m.type === "request" || m.type === "response")

describe("generated codecs round-trip every version", () => {
  it("covers every api schema", () => {
    assert.isAtLeast(apiSpecs.length, 170)
  })
  for (const m of apiSpecs) {
    it(`${m.name} v${m.validVersions.min}-${m.validVersions.max}`, () => {
      for (const version of versionsOf(m)) roundTrip(m, "messages", version)
    })
  }
  for (const m of specs.filter((m) => m.type === "header" || m.type === "data")) {
    it(`${m.name} (${m.type}) v${m.validVersions.min}-${m.validVersions.max}`, () => {
      for (const version of versionsOf(m)) roundTrip(m, "messages", version)
    })
  }
  for (const m of recordSpecs()) {
    it(`record ${m.name} v${m.validVersions.min}-${m.validVersions.max}`, () => {
      for (const version of versionsOf(m)) roundTrip(m, "records", version)
    })
  }
})

describe("versions outside a schema", () => {
  it("encode and decode reject them with a ProtocolError", () => {
    for (const m of apiSpecs) {
      const codec = codecOf(m, "messages")
      for (const version of [m.validVersions.min - 1, m.validVersions.max + 1]) {
        try {
          codec.decode(new Reader(new Uint8Array(64)), version)
          assert.fail(`${m.name} decoded version ${version}`)
        } catch (e) {
          assert.isTrue(isProtocolError(e), `${m.name} v${version}: ${String(e)}`)
        }
      }
    }
  })
})
