import { assert, describe, it } from "@effect/vitest"
import { ApiKey, apis, isApiKey, isSupportedVersion } from "../../src/protocol/generated/ApiKey.js"
import { ErrorCode, errorCodeInfo } from "../../src/protocol/generated/ErrorCode.js"
import {
  decodeRequestHeader,
  decodeResponseHeader,
  encodeRequestHeader,
  encodeResponseHeader,
  makeRequestHeader,
  readRequestHeader,
  requestHeaderVersion,
  responseHeaderVersion
} from "../../src/protocol/generated/Header.js"
import { Reader } from "../../src/protocol/Reader.js"
import { Writer } from "../../src/protocol/Writer.js"

const bytes = (...parts: Array<string>): Uint8Array =>
  Uint8Array.from(Buffer.from(parts.join("").replace(/\s+/g, ""), "hex"))
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex")

describe("request header golden bytes", () => {
  const header = makeRequestHeader({ requestApiKey: 3, requestApiVersion: 1, correlationId: 7, clientId: "cli" })

  it("v1", () => {
    const expected = bytes(
      "0003", // request_api_key 3 (Metadata)
      "0001", // request_api_version
      "00000007", // correlation_id
      "0003 636c69" // client_id: int16 length + "cli"
    )
    const w = new Writer()
    encodeRequestHeader(w, header, 1)
    assert.strictEqual(hex(w.finish()), hex(expected))
    assert.deepStrictEqual(decodeRequestHeader(new Reader(expected), 1), header)
  })

  it("v2 keeps client_id as a classic int16-length string and adds tagged fields", () => {
    const h = { ...header, requestApiKey: 18, requestApiVersion: 3 }
    const expected = bytes(
      "0012", // request_api_key 18 (ApiVersions)
      "0003", // request_api_version 3
      "00000007", // correlation_id
      "0003 636c69", // client_id: still int16 length, not compact
      "00" // tagged fields
    )
    const w = new Writer()
    encodeRequestHeader(w, h, 2)
    assert.strictEqual(hex(w.finish()), hex(expected))
    assert.deepStrictEqual(decodeRequestHeader(new Reader(expected), 2), h)
  })

  it("v1 with a null client id", () => {
    const h = { ...header, clientId: null }
    const w = new Writer()
    encodeRequestHeader(w, h, 1)
    assert.strictEqual(hex(w.finish()), "0003" + "0001" + "00000007" + "ffff")
  })

  it("v0 (ControlledShutdown v0) has no client id", () => {
    const h = makeRequestHeader({ requestApiKey: 7, requestApiVersion: 0, correlationId: 7 })
    const w = new Writer()
    encodeRequestHeader(w, h, 0)
    assert.strictEqual(hex(w.finish()), "0007" + "0000" + "00000007")
  })

  it("readRequestHeader picks the header version from the api key and version", () => {
    // ApiVersions v3 -> header v2 (the tagged-field byte is consumed)
    let r = new Reader(bytes("0012 0003 00000001 0000 00 ff"))
    assert.strictEqual(readRequestHeader(r).clientId, "")
    assert.strictEqual(r.offset, 11)
    // Metadata v1 -> header v1
    r = new Reader(bytes("0003 0001 00000001 ffff ff"))
    assert.strictEqual(readRequestHeader(r).clientId, null)
    assert.strictEqual(r.offset, 10)
    // ControlledShutdown v0 -> header v0
    r = new Reader(bytes("0007 0000 00000001 ff"))
    readRequestHeader(r)
    assert.strictEqual(r.offset, 8)
    // an ApiVersions version above the highest known is still read with header v2 (flexible from v3)
    r = new Reader(bytes("0012 0063 00000001 ffff 00"))
    readRequestHeader(r)
    assert.strictEqual(r.offset, 11)
  })

  it("keeps unknown tagged fields of header v2", () => {
    const expected = bytes("0012 0003 00000001 ffff", "01", "05 01 aa") // one unknown tag 5, 1 byte
    const h = decodeRequestHeader(new Reader(expected), 2)
    assert.deepStrictEqual(h._unknownTaggedFields, [{ tag: 5, data: bytes("aa") }])
    const w = new Writer()
    encodeRequestHeader(w, h, 2)
    assert.strictEqual(hex(w.finish()), hex(expected))
  })
})

describe("response header golden bytes", () => {
  it("v0 is the correlation id", () => {
    const w = new Writer()
    encodeResponseHeader(w, { correlationId: 7 }, 0)
    assert.strictEqual(hex(w.finish()), "00000007")
    assert.deepStrictEqual(decodeResponseHeader(new Reader(bytes("00000007")), 0), { correlationId: 7 })
  })

  it("v1 adds tagged fields", () => {
    const w = new Writer()
    encodeResponseHeader(w, { correlationId: 7 }, 1)
    assert.strictEqual(hex(w.finish()), "00000007" + "00")
    assert.deepStrictEqual(decodeResponseHeader(new Reader(bytes("00000007 00")), 1), { correlationId: 7 })
  })
})

describe("header version rules", () => {
  it("request headers", () => {
    assert.strictEqual(requestHeaderVersion(ApiKey.ControlledShutdown, 0), 0)
    assert.strictEqual(requestHeaderVersion(ApiKey.ControlledShutdown, 1), 1)
    assert.strictEqual(requestHeaderVersion(ApiKey.ControlledShutdown, 3), 2)
    assert.strictEqual(requestHeaderVersion(ApiKey.ApiVersions, 2), 1)
    assert.strictEqual(requestHeaderVersion(ApiKey.ApiVersions, 3), 2)
    assert.strictEqual(requestHeaderVersion(ApiKey.Produce, 8), 1)
    assert.strictEqual(requestHeaderVersion(ApiKey.Produce, 9), 2)
    assert.strictEqual(requestHeaderVersion(ApiKey.SaslHandshake, 1), 1) // never flexible
    assert.strictEqual(requestHeaderVersion(999, 5), 1) // unknown key
  })

  it("response headers: ApiVersions always v0", () => {
    assert.strictEqual(responseHeaderVersion(ApiKey.ApiVersions, 3), 0)
    assert.strictEqual(responseHeaderVersion(ApiKey.ApiVersions, 4), 0)
    assert.strictEqual(responseHeaderVersion(ApiKey.Metadata, 8), 0)
    assert.strictEqual(responseHeaderVersion(ApiKey.Metadata, 9), 1)
    assert.strictEqual(responseHeaderVersion(ApiKey.Fetch, 12), 1)
  })
})

describe("ApiKey and ErrorCode tables", () => {
  it("list every api with its versions", () => {
    assert.strictEqual(ApiKey.Produce, 0)
    assert.strictEqual(ApiKey.ApiVersions, 18)
    assert.strictEqual(apis[ApiKey.Fetch].maxVersion, 17)
    assert.strictEqual(apis[ApiKey.Fetch].flexibleMin, 12)
    assert.strictEqual(apis[ApiKey.SaslHandshake].flexibleMin, null)
    assert.isTrue(isApiKey(0))
    assert.isFalse(isApiKey(1000))
    assert.isTrue(isSupportedVersion(ApiKey.Metadata, 12))
    assert.isFalse(isSupportedVersion(ApiKey.Metadata, 13))
    assert.isFalse(isSupportedVersion(1000, 0))
  })

  it("map error codes to names and retriability", () => {
    assert.strictEqual(ErrorCode.NONE, 0)
    assert.strictEqual(ErrorCode.UNSUPPORTED_VERSION, 35)
    assert.deepStrictEqual(errorCodeInfo(6), { code: 6, name: "NOT_LEADER_OR_FOLLOWER", retriable: true })
    assert.isFalse(errorCodeInfo(ErrorCode.UNKNOWN_SERVER_ERROR).retriable)
    assert.strictEqual(errorCodeInfo(12345).name, "UNKNOWN(12345)")
  })
})
