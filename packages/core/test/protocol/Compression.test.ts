import * as zlib from "node:zlib"
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import {
  Codec,
  type CodecImplementation,
  type CodecName,
  compress,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  decompress,
  implementation,
  implementations
} from "../../src/protocol/Compression.js"
import { decodeRawSnappy } from "../../src/protocol/internal/snappy.js"
import { isProtocolError } from "../../src/protocol/ProtocolError.js"

const names: ReadonlyArray<CodecName> = ["gzip", "snappy", "lz4", "zstd"]
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex")
const MiB = 1024 * 1024

const throwsProtocolError = (f: () => unknown, match?: RegExp) => {
  try {
    f()
  } catch (e) {
    assert.isTrue(isProtocolError(e), `expected a ProtocolError, got ${String(e)}`)
    if (match !== undefined) assert.match((e as Error).message, match)
    return
  }
  assert.fail("expected a ProtocolError")
}

/** Realistic payload: JSON-ish records with some repetition. */
const sample = (n: number): Buffer =>
  Buffer.from(
    JSON.stringify(
      Array.from({ length: n }, (_, i) => ({ id: i, user: `user-${i % 97}`, event: "click", ts: 1700000000000 + i }))
    )
  )

const implsOf = (name: CodecName): ReadonlyArray<CodecImplementation> => {
  const { native, fallback } = implementations[name]
  return [native, fallback].filter((x): x is CodecImplementation => x !== undefined)
}

describe("Compression", () => {
  it("reports which implementation each codec uses", () => {
    const expectNative = process.env.EDDY_NO_NATIVE !== "1"
    assert.strictEqual(implementation.gzip, "node:zlib")
    assert.strictEqual(implementation.snappy, expectNative ? "snappy" : "snappyjs")
    assert.strictEqual(implementation.lz4, expectNative ? "lz4-napi" : "lz4js")
    assert.include(["node:zlib", "@bokuweb/zstd-wasm"], implementation.zstd)
    assert.isDefined(implementations.snappy.native)
    assert.isDefined(implementations.lz4.native)
    assert.isDefined(implementations.snappy.fallback)
    assert.isDefined(implementations.lz4.fallback)
    assert.isDefined(implementations.zstd.fallback)
  })

  it("none passes data through", () => {
    const data = sample(3)
    assert.strictEqual(compress(Codec.none, data), data)
    assert.strictEqual(decompress(Codec.none, data), data)
  })

  it("unknown codec ids fail with ProtocolError", () => {
    throwsProtocolError(() => compress(5, sample(1)), /unknown compression codec 5/)
    throwsProtocolError(() => decompress(7, sample(1)))
  })

  for (const name of names) {
    describe(name, () => {
      it("every implementation pair interoperates (compress with one, decompress with the other)", () => {
        const inputs = [new Uint8Array(0), Buffer.from("x"), sample(5), sample(3000), new Uint8Array(200_000)]
        for (const a of implsOf(name)) {
          for (const b of implsOf(name)) {
            for (const input of inputs) {
              const out = b.decompress(a.compress(input), DEFAULT_MAX_DECOMPRESSED_BYTES)
              assert.isTrue(
                Buffer.from(input).equals(Buffer.from(out)),
                `${a.name} -> ${b.name}, ${input.length} bytes`
              )
            }
          }
        }
      })

      it("round trips random data through the public interface", () => {
        const codec = Codec[name]
        fc.assert(
          fc.property(fc.uint8Array({ maxLength: 4000 }), (data) => {
            assert.isTrue(Buffer.from(decompress(codec, compress(codec, data))).equals(Buffer.from(data)))
          }),
          { numRuns: 100 }
        )
      })

      it("a payload decompressing beyond the cap fails with ProtocolError (every implementation)", () => {
        const zeros = new Uint8Array(8 * MiB)
        for (const impl of implsOf(name)) {
          const bomb = impl.compress(zeros)
          assert.isBelow(bomb.length, 1 * MiB)
          for (const decoder of implsOf(name)) {
            throwsProtocolError(() => decoder.decompress(bomb, 1 * MiB), /more than 1048576 bytes|decompress/)
          }
          // exactly at the cap is fine
          assert.strictEqual(implsOf(name)[0]!.decompress(bomb, 8 * MiB).length, 8 * MiB)
        }
      })

      it("garbage and truncated input fail with ProtocolError, never anything else", () => {
        const valid = compress(Codec[name], sample(200))
        fc.assert(
          fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.nat(), (garbage, cut) => {
            for (const impl of implsOf(name)) {
              for (const input of [garbage, valid.subarray(0, cut % valid.length)]) {
                try {
                  impl.decompress(input, 4 * MiB)
                } catch (e) {
                  assert.isTrue(isProtocolError(e), `${impl.name}: ${String(e)}`)
                }
              }
            }
          }),
          { numRuns: 200 }
        )
      })
    })
  }

  it("gzip: the default cap (64 MiB) stops a zip bomb", () => {
    const bomb = zlib.gzipSync(new Uint8Array(DEFAULT_MAX_DECOMPRESSED_BYTES + 1), { level: 1 })
    throwsProtocolError(() => decompress(Codec.gzip, bomb), /more than 67108864 bytes/)
  })

  describe("snappy framing", () => {
    // raw snappy for "hello": uvarint length 5, literal tag (5-1)<<2, bytes
    const rawHello = hex("05 10 68656c6c6f")
    const xerialHello = hex("82534e4150505900 00000001 00000001 00000007 05 10 68656c6c6f")

    it("a literal length with its top bit set fails at once with every implementation (snappyjs alone loops)", () => {
      // declared length 10, a literal whose 4-byte length is 0x80000000 (+1): snappyjs reads it as negative
      // and walks its read position back by two billion bytes (found by the garbage-input property below)
      const poisoned = hex("0a fc 00000080")
      for (const impl of implsOf("snappy")) {
        throwsProtocolError(() => impl.decompress(poisoned, 4 * MiB), /snappy/)
        const xerial = Buffer.concat([hex("82534e4150505900 00000001 00000001"), hex("00000006"), poisoned])
        throwsProtocolError(() => impl.decompress(xerial, 4 * MiB), /snappy/)
      }
      throwsProtocolError(() => decodeRawSnappy(poisoned, 10), /runs past the input/)
      // the checked decoder reads what both encoders write
      const data = sample(500)
      const js = require_("snappyjs") as { compress: (b: Uint8Array) => Uint8Array }
      const native = require_("snappy") as { compressSync: (b: Uint8Array) => Buffer }
      for (const raw of [js.compress(data), native.compressSync(data)]) {
        assert.isTrue(Buffer.from(decodeRawSnappy(raw, data.length)).equals(data))
      }
    })

    it("decodes hand-written raw snappy and xerial framing with every implementation", () => {
      for (const impl of implsOf("snappy")) {
        assert.strictEqual(Buffer.from(impl.decompress(rawHello, 100)).toString(), "hello")
        assert.strictEqual(Buffer.from(impl.decompress(xerialHello, 100)).toString(), "hello")
      }
    })

    it("decodes raw snappy as librdkafka writes it (one raw block of the whole payload)", () => {
      const data = sample(2000)
      const native = require_("snappy") as { compressSync: (b: Uint8Array) => Buffer }
      const js = require_("snappyjs") as { compress: (b: Uint8Array) => Uint8Array }
      for (const raw of [native.compressSync(data), js.compress(data)]) {
        for (const impl of implsOf("snappy")) assert.isTrue(Buffer.from(impl.decompress(raw, 4 * MiB)).equals(data))
      }
    })

    it("encodes xerial framing with 32 KiB blocks, as the Java client does", () => {
      const data = sample(4000)
      for (const impl of implsOf("snappy")) {
        const out = Buffer.from(impl.compress(data))
        assert.strictEqual(out.subarray(0, 16).toString("hex"), "82534e41505059000000000100000001")
        let pos = 16
        let blocks = 0
        while (pos < out.length) {
          pos += 4 + out.readInt32BE(pos)
          blocks++
        }
        assert.strictEqual(pos, out.length)
        assert.strictEqual(blocks, Math.ceil(data.length / 32768))
      }
    })

    it("a lying uncompressed-length preamble fails before allocating", () => {
      const lying = hex("ffffffff0f 10 68656c6c6f") // claims 4 GiB
      for (const impl of implsOf("snappy")) throwsProtocolError(() => impl.decompress(lying, 64 * MiB), /more than/)
      const block = hex("80808010 00") // claims 32 MiB, in 2 xerial blocks = 64 MiB + more
      const many = Buffer.concat([
        hex("82534e4150505900 00000001 00000001"),
        ...Array.from({ length: 3 }, () => Buffer.concat([hex("00000005"), block]))
      ])
      for (const impl of implsOf("snappy")) throwsProtocolError(() => impl.decompress(many, 64 * MiB), /more than/)
    })
  })

  describe("lz4 frames", () => {
    it("writes the standard LZ4 frame magic 04 22 4D 18", () => {
      for (const impl of implsOf("lz4")) {
        assert.strictEqual(
          Buffer.from(impl.compress(sample(10)))
            .subarray(0, 4)
            .toString("hex"),
          "04224d18"
        )
      }
    })

    it("decodes a hand-written frame (one uncompressed block, one compressed block with an overlapping match)", () => {
      // FLG 0x60 (version 01, independent blocks), BD 0x40 (64 KiB), HC byte (not checked)
      // block 1: uncompressed "abc"; block 2: token 0x1f literal "x" + match offset 1, length 15+3+4 = 22
      const frame = hex("04224d18 60 40 82 03000080 616263 05000000 1f 78 0100 03 00000000")
      for (const impl of implsOf("lz4")) {
        assert.strictEqual(Buffer.from(impl.decompress(frame, 1000)).toString(), `abcx${"x".repeat(22)}`)
      }
    })

    it("a match offset reaching before the frame start fails", () => {
      const frame = hex("04224d18 60 40 82 04000000 10 78 0500 00000000")
      for (const impl of implsOf("lz4")) throwsProtocolError(() => impl.decompress(frame, 1000))
    })
  })

  describe("zstd", () => {
    it("decodes a frame without a declared content size (streaming encoders), growing up to the cap", () => {
      const z = implementations.zstd.fallback!
      const data = Buffer.concat([sample(3000), new Uint8Array(3 * MiB)])
      const framed = Buffer.from(z.compress(data))
      // Rewrite the header: drop Frame_Content_Size (and single-segment, keeping a window large enough).
      const fhd = framed[4]!
      assert.strictEqual(fhd & 0x03, 0, "no dictionary id")
      const single = (fhd & 0x20) !== 0
      const fcsSize = single ? [1, 2, 4, 8][fhd >> 6]! : [0, 2, 4, 8][fhd >> 6]!
      const window = single ? 12 << 3 : framed[5]!
      const unsized = Buffer.concat([
        framed.subarray(0, 4),
        Buffer.of(0x00, window),
        framed.subarray(5 + (single ? 0 : 1) + fcsSize)
      ])
      for (const impl of implsOf("zstd")) {
        assert.isTrue(Buffer.from(impl.decompress(unsized, 64 * MiB)).equals(data))
        throwsProtocolError(() => impl.decompress(unsized, 2 * MiB))
      }
    })
  })

  describe("levels (KIP-390)", () => {
    it("gzip and zstd honour the level in every implementation; snappy and lz4 ignore it", () => {
      const data = sample(4000)
      for (const [name, low, high] of [
        ["gzip", 1, 9],
        ["zstd", -5, 19]
      ] as const) {
        for (const impl of implsOf(name)) {
          const fast = impl.compress(data, low)
          const small = impl.compress(data, high)
          assert.isAbove(fast.length, small.length, `${name} ${impl.name}`)
          for (const c of [fast, small, impl.compress(data)]) {
            assert.isTrue(Buffer.from(impl.decompress(c, 64 * MiB)).equals(data), `${name} ${impl.name}`)
          }
        }
      }
      assert.isTrue(Buffer.from(compress(Codec.gzip, data, { level: -1 })).equals(compress(Codec.gzip, data)))
      for (const codec of [Codec.snappy, Codec.lz4]) {
        const c = compress(codec, data, { level: 1 })
        assert.isTrue(Buffer.from(decompress(codec, c)).equals(data))
      }
    })
  })
})

import { createRequire } from "node:module"

const require_ = createRequire(import.meta.url)
