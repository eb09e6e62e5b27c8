import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as KafkaApis from "../../src/broker/KafkaApis.js"
import { decodeResponseFrame } from "../../src/protocol/Frame.js"
import { apis } from "../../src/protocol/generated/ApiKey.js"
import * as ApiVersions from "../../src/protocol/generated/ApiVersions.js"
import { Writer } from "../../src/protocol/Writer.js"
import { connect, startBroker } from "./util.js"

const expected = KafkaApis.make(KafkaApis.handlers).apis

describe("ApiVersions", () => {
  it.scopedLive("answers v0-v4 with the versions derived from the registered handlers", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const client = yield* connect(broker.address.port)
      for (let v = 0; v <= 4; v++) {
        const res = yield* client.send(
          18,
          v,
          ApiVersions.makeApiVersionsRequest({ clientSoftwareName: "eddy-test", clientSoftwareVersion: "1.0" })
        )
        assert.strictEqual(res.errorCode, 0)
        assert.deepStrictEqual(
          res.apiKeys.map((k) => ({ apiKey: k.apiKey, minVersion: k.minVersion, maxVersion: k.maxVersion })),
          expected.map((k) => ({ ...k }))
        )
      }
      // every advertised range is within the codec's range
      for (const k of expected) {
        const spec = apis[k.apiKey as keyof typeof apis]
        assert.isTrue(k.minVersion >= spec.minVersion && k.maxVersion <= spec.maxVersion)
      }
      // without unstable.api.versions.enable no schema's unstable latest version is advertised (EndTxn v5)
      for (const k of expected) {
        const spec = apis[k.apiKey as keyof typeof apis]
        if (spec.latestVersionUnstable) assert.isBelow(k.maxVersion, spec.maxVersion, `api key ${k.apiKey}`)
      }
      const served = new Set(expected.map((k) => k.apiKey))
      for (const key of [3, 18, 19, 20, 32, 33, 35, 37, 44, 60]) assert.isTrue(served.has(key), `api key ${key}`)
    })
  )

  it.scopedLive("answers an unsupported version in v0 format with UNSUPPORTED_VERSION and the full list", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const client = yield* connect(broker.address.port)
      // ApiVersions v127 with header v2 and a body the broker must not parse
      const w = new Writer()
      w.int32(0).int16(18).int16(127).int32(42).nullableString("future-client").uvarint(0)
      w.raw(new Uint8Array([0xff, 0xfe, 0xfd]))
      const frame = w.finish()
      frame.writeInt32BE(frame.length - 4, 0)
      yield* client.write(frame)
      const decoded = decodeResponseFrame(18, 0, yield* client.nextFrame)
      assert.strictEqual(decoded.correlationId, 42)
      assert.strictEqual(decoded.body.errorCode, 35)
      assert.strictEqual(decoded.body.apiKeys.length, expected.length)
      // the connection stays open: the client retries with a version from the list
      const retry = yield* client.send(18, 3, ApiVersions.makeApiVersionsRequest())
      assert.strictEqual(retry.errorCode, 0)
    })
  )

  it.scopedLive("uses response header v0 even for flexible versions", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const client = yield* connect(broker.address.port)
      const w = new Writer()
      w.int32(0).int16(18).int16(3).int32(7).nullableString("c").uvarint(0)
      w.compactString("sw").compactString("1").uvarint(0)
      const frame = w.finish()
      frame.writeInt32BE(frame.length - 4, 0)
      yield* client.write(frame)
      const raw = yield* client.nextFrame
      // correlation id, then directly the int16 error code (no tagged-field byte in between)
      assert.strictEqual(Buffer.from(raw).readInt32BE(0), 7)
      assert.strictEqual(Buffer.from(raw).readInt16BE(4), 0)
      assert.strictEqual(decodeResponseFrame(18, 3, raw).body.errorCode, 0)
    })
  )
})
