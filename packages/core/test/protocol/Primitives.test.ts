import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { isProtocolError } from "../../src/protocol/ProtocolError.js"
import { Reader } from "../../src/protocol/Reader.js"
import { uvarintSize, varintSize, Writer } from "../../src/protocol/Writer.js"

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex")
const bytes = (h: string) => Buffer.from(h.replace(/\s+/g, ""), "hex")

const throwsProtocolError = (f: () => unknown) => {
  try {
    f()
  } catch (e) {
    assert.isTrue(isProtocolError(e), `expected ProtocolError, got ${String(e)}`)
    return
  }
  assert.fail("expected a ProtocolError")
}

describe("Writer/Reader golden bytes", () => {
  it("fixed-width integers are big-endian", () => {
    const w = new Writer(1)
    w.int8(-1).int16(0x0102).int32(-2).int64(0x0102030405060708n).uint32(0xfffffffe).uint16(0xabcd)
    assert.strictEqual(hex(w.finish()), "ff" + "0102" + "fffffffe" + "0102030405060708" + "fffffffe" + "abcd")
  })

  it("unsigned varints are LEB128", () => {
    const cases: Array<[number, string]> = [
      [0, "00"],
      [1, "01"],
      [127, "7f"],
      [128, "8001"],
      [300, "ac02"],
      [16383, "ff7f"],
      [16384, "808001"],
      [0xffffffff, "ffffffff0f"]
    ]
    for (const [v, h] of cases) {
      assert.strictEqual(hex(new Writer().uvarint(v).finish()), h, `uvarint ${v}`)
      assert.strictEqual(new Reader(bytes(h)).uvarint(), v)
      assert.strictEqual(uvarintSize(v), h.length / 2)
    }
  })

  it("signed varints are zigzag", () => {
    const cases: Array<[number, string]> = [
      [0, "00"],
      [-1, "01"],
      [1, "02"],
      [-2, "03"],
      [63, "7e"],
      [-64, "7f"],
      [64, "8001"],
      [2147483647, "feffffff0f"],
      [-2147483648, "ffffffff0f"]
    ]
    for (const [v, h] of cases) {
      assert.strictEqual(hex(new Writer().varint(v).finish()), h, `varint ${v}`)
      assert.strictEqual(new Reader(bytes(h)).varint(), v)
      assert.strictEqual(varintSize(v), h.length / 2)
    }
  })

  it("varlongs are zigzag over 64 bits", () => {
    const cases: Array<[bigint, string]> = [
      [0n, "00"],
      [-1n, "01"],
      [1n, "02"],
      [9223372036854775807n, "feffffffffffffffff01"],
      [-9223372036854775808n, "ffffffffffffffffff01"]
    ]
    for (const [v, h] of cases) {
      assert.strictEqual(hex(new Writer().varlong(v).finish()), h, `varlong ${v}`)
      assert.strictEqual(new Reader(bytes(h)).varlong(), v)
    }
  })

  it("strings: classic, nullable, compact", () => {
    const w = new Writer()
    w.string("ab").nullableString(null).compactString("ab").compactNullableString(null).compactString("")
    assert.strictEqual(hex(w.finish()), "0002" + "6162" + "ffff" + "03" + "6162" + "00" + "01")
    const r = new Reader(w.finish())
    assert.strictEqual(r.string(), "ab")
    assert.strictEqual(r.nullableString(), null)
    assert.strictEqual(r.compactString(), "ab")
    assert.strictEqual(r.compactNullableString(), null)
    assert.strictEqual(r.compactString(), "")
    assert.strictEqual(r.remaining, 0)
  })

  it("bytes: classic, nullable, compact", () => {
    const w = new Writer()
    w.bytes(bytes("0a0b")).nullableBytes(null).compactBytes(bytes("0c")).compactNullableBytes(null)
    assert.strictEqual(hex(w.finish()), "00000002" + "0a0b" + "ffffffff" + "02" + "0c" + "00")
  })

  it("uuids are 16 raw bytes", () => {
    const id = bytes("000102030405060708090a0b0c0d0e0f")
    assert.strictEqual(hex(new Reader(new Writer().uuid(id).finish()).uuid()), hex(id))
  })
})

describe("Writer/Reader round trips", () => {
  it.prop("varint", [fc.integer({ min: -2147483648, max: 2147483647 })], ([v]) => {
    assert.strictEqual(new Reader(new Writer().varint(v).finish()).varint(), v)
  })

  it.prop("varlong", [fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })], ([v]) => {
    assert.strictEqual(new Reader(new Writer().varlong(v).finish()).varlong(), v)
  })

  it.prop("varlongNumber matches varlong", [fc.maxSafeInteger()], ([v]) => {
    const a = new Writer().varlongNumber(v).finish()
    assert.strictEqual(hex(a), hex(new Writer().varlong(BigInt(v)).finish()))
    assert.strictEqual(new Reader(a).varlongNumber(), v)
  })

  // the short-varint fast paths against a byte-at-a-time reference, on any bytes (valid or not) with
  // anything after them, so that the fast paths and the general loop are both taken
  it.prop(
    "varints read from any bytes match a byte-at-a-time reference",
    [fc.uint8Array({ maxLength: 12 }), fc.integer({ min: 0, max: 3 })],
    ([input, skip]) => {
      const reference = (
        buf: Uint8Array,
        from: number,
        maxBytes: number
      ): { value: bigint; next: number } | "error" => {
        let value = 0n
        for (let i = 0; i < maxBytes; i++) {
          if (from + i >= buf.length) return "error"
          const b = buf[from + i]!
          value |= BigInt(b & 0x7f) << BigInt(7 * i)
          if ((b & 0x80) === 0) return { value, next: from + i + 1 }
        }
        return "error"
      }
      type Outcome = "error" | [value: number, next: number]
      const outcome = (read: (r: Reader) => number): Outcome => {
        const r = new Reader(input, Math.min(skip, input.length))
        try {
          return [read(r), r.offset]
        } catch (e) {
          assert.isTrue(isProtocolError(e))
          return "error"
        }
      }
      const from = Math.min(skip, input.length)
      const u = reference(input, from, 5)
      const expectedU: Outcome = u === "error" || u.value > 0xffffffffn ? "error" : [Number(u.value), u.next]
      assert.deepStrictEqual(
        outcome((r) => r.uvarint()),
        expectedU
      )
      assert.deepStrictEqual(
        outcome((r) => r.varint()),
        expectedU === "error" ? "error" : [(expectedU[0] >>> 1) ^ -(expectedU[0] & 1), expectedU[1]]
      )
      const l = reference(input, from, 8)
      const zig = l === "error" ? undefined : (l.value >> 1n) ^ -(l.value & 1n)
      const expectedL: Outcome =
        l === "error" || zig! > BigInt(Number.MAX_SAFE_INTEGER) || zig! < -BigInt(Number.MAX_SAFE_INTEGER)
          ? "error"
          : [Number(zig), l.next]
      assert.deepStrictEqual(
        outcome((r) => r.varlongNumber()),
        expectedL
      )
    }
  )

  it.prop("int64Number matches int64", [fc.maxSafeInteger()], ([v]) => {
    const a = new Writer().int64Number(v).finish()
    assert.strictEqual(hex(a), hex(new Writer().int64(BigInt(v)).finish()))
    assert.strictEqual(new Reader(a).int64Number(), v)
  })

  it.prop(
    "strings",
    [fc.string({ unit: "grapheme", maxLength: 100 }), fc.option(fc.string({ maxLength: 50 }))],
    ([s, n]) => {
      const r = new Reader(new Writer(1).string(s).compactNullableString(n).compactString(s).finish())
      assert.strictEqual(r.string(), s)
      assert.strictEqual(r.compactNullableString(), n)
      assert.strictEqual(r.compactString(), s)
    }
  )
})

describe("Reader rejects bad input with ProtocolError", () => {
  it("truncated fixed-width values", () => {
    throwsProtocolError(() => new Reader(bytes("0001")).int32())
    throwsProtocolError(() => new Reader(bytes("00")).int16())
    throwsProtocolError(() => new Reader(bytes("00000000000000")).int64())
  })

  it("a lying string or bytes length", () => {
    throwsProtocolError(() => new Reader(bytes("7fff61")).string())
    throwsProtocolError(() => new Reader(bytes("7fffffff00")).bytes())
    throwsProtocolError(() => new Reader(bytes("fffe")).nullableString())
    throwsProtocolError(() => new Reader(bytes("ffffff7f")).compactString())
  })

  it("a lying array length before allocating", () => {
    throwsProtocolError(() => new Reader(bytes("7fffffff00")).arrayLength(4))
    throwsProtocolError(() => new Reader(bytes("ffffffff0f")).compactArrayLength(1))
    throwsProtocolError(() => new Reader(bytes("fffffffe")).arrayLength())
  })

  it("overlong varints", () => {
    throwsProtocolError(() => new Reader(bytes("ffffffffff01")).uvarint())
    throwsProtocolError(() => new Reader(bytes("ffffffffffffffffffff01")).varlong())
    throwsProtocolError(() => new Reader(bytes("ffffffffffffffff7f")).varlongNumber())
  })

  it("invalid UTF-8", () => {
    throwsProtocolError(() => new Reader(bytes("0002c328")).string())
  })

  it("int64Number beyond safe integers", () => {
    throwsProtocolError(() => new Reader(bytes("7fffffffffffffff")).int64Number())
  })
})
