import { assert, describe, it, vi } from "@effect/vitest"
import fc from "fast-check"
import { crc32c, implementation, implementations } from "../../src/protocol/Crc32c.js"
import { crc32, crc32Js } from "../../src/protocol/internal/crc32.js"

const ascii = (s: string) => new TextEncoder().encode(s)

// Known CRC-32C vectors (RFC 3720 appendix B.4 and common check values).
const vectors: ReadonlyArray<readonly [Uint8Array, number]> = [
  [ascii(""), 0x00000000],
  [ascii("a"), 0xc1d04330],
  [ascii("123456789"), 0xe3069283],
  [ascii("The quick brown fox jumps over the lazy dog"), 0x22620404],
  [new Uint8Array(32), 0x8a9136aa],
  [new Uint8Array(32).fill(0xff), 0x62a8ab43],
  [Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
  [Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113fdb5c]
]

const impls = [
  ["js", implementations.js],
  ...(implementations.native === undefined ? [] : [["native", implementations.native] as const])
] as const

describe("Crc32c", () => {
  it("loads the native accelerator unless EDDY_NO_NATIVE=1", () => {
    assert.strictEqual(implementation, process.env.EDDY_NO_NATIVE === "1" ? "js" : "native")
    assert.isDefined(implementations.native, "@node-rs/crc32 should load on this machine")
  })

  for (const [name, f] of impls) {
    it(`${name}: known vectors`, () => {
      for (const [input, expected] of vectors) assert.strictEqual(f(input), expected)
    })

    it(`${name}: [start, end) of a larger buffer, including a subarray with a byteOffset`, () => {
      const padded = new Uint8Array(100).fill(0xaa)
      padded.set(ascii("123456789"), 37)
      assert.strictEqual(f(padded, 37, 46), 0xe3069283)
      const view = padded.subarray(30, 60)
      assert.strictEqual(f(view, 7, 16), 0xe3069283)
      assert.strictEqual(f(view, 5, 5), 0)
    })
  }

  it("crc32c is the active implementation", () => {
    assert.strictEqual(crc32c(ascii("123456789")), 0xe3069283)
    assert.strictEqual(crc32c(ascii("xx123456789"), 2), 0xe3069283)
  })

  it("native and JS agree on random data and ranges", () => {
    const native = implementations.native
    if (native === undefined) return
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.nat(), fc.nat(), (data, a, b) => {
        const start = data.length === 0 ? 0 : a % data.length
        const end = start + (data.length === 0 ? 0 : b % (data.length - start + 1))
        assert.strictEqual(native(data, start, end), implementations.js(data, start, end))
      }),
      { numRuns: 300 }
    )
    const big = new Uint8Array(1 << 20)
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24
    assert.strictEqual(native(big), implementations.js(big))
  })

  it("EDDY_NO_NATIVE=1 forces the pure-JS paths", async () => {
    vi.stubEnv("EDDY_NO_NATIVE", "1")
    vi.resetModules()
    try {
      const crc = await import("../../src/protocol/Crc32c.js")
      const compression = await import("../../src/protocol/Compression.js")
      assert.strictEqual(crc.implementation, "js")
      assert.strictEqual(crc.crc32c(ascii("123456789")), 0xe3069283)
      assert.deepStrictEqual(compression.implementation, {
        gzip: "node:zlib",
        snappy: "snappyjs",
        lz4: "lz4js",
        zstd: "@bokuweb/zstd-wasm"
      })
    } finally {
      vi.unstubAllEnvs()
      vi.resetModules()
    }
  })
})

describe("CRC-32 (IEEE, legacy messages)", () => {
  it("known vectors, JS and active implementation", () => {
    for (const f of [crc32, crc32Js]) {
      assert.strictEqual(f(ascii("123456789")), 0xcbf43926)
      assert.strictEqual(f(ascii("")), 0)
      assert.strictEqual(f(ascii("The quick brown fox jumps over the lazy dog")), 0x414fa339)
      assert.strictEqual(f(ascii("xx123456789yy"), 2, 11), 0xcbf43926)
    }
  })

  it("JS agrees with the active implementation on random data", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (data) => assert.strictEqual(crc32Js(data), crc32(data))),
      { numRuns: 200 }
    )
  })
})
