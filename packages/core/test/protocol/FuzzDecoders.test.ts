/**
 * Feeds random bytes and mutated valid encodings to every generated decoder: the only failure allowed is a
 * ProtocolError, and every decode finishes quickly (no hang, no huge allocation from a lying length).
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import type { MessageSpec } from "../../scripts/protocol-schema.js"
import { decodeRequestFrame, encodeRequestFrame, FrameDecoder } from "../../src/protocol/Frame.js"
import { type ApiKey, decodeRequest } from "../../src/protocol/generated/ApiKey.js"
import { isProtocolError } from "../../src/protocol/ProtocolError.js"
import { Reader } from "../../src/protocol/Reader.js"
import { Writer } from "../../src/protocol/Writer.js"
import { type Codec, codecOf } from "./codecs.js"
import { messageArb, messageSpecs, recordSpecs, versionsOf } from "./schemaArbitraries.js"

const SEED = 20241025
const SAMPLES = 3
const MUTATIONS = 12
const MAX_DECODE_MS = 250

/** mulberry32: a small deterministic PRNG, so a failure names a reproducible case. */
const prng = (seed: number) => {
  let a = seed >>> 0
  return (n: number): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (((t ^ (t >>> 14)) >>> 0) % n) | 0
  }
}

const HUGE: ReadonlyArray<ReadonlyArray<number>> = [
  [0x7f, 0xff, 0xff, 0xff], // int32 max as an array/bytes length
  [0xff, 0xff, 0xff, 0xff], // -1 (null)
  [0x80, 0x00, 0x00, 0x00], // int32 min
  [0xff, 0xfe], // int16 -2 as a string length
  [0x7f, 0xff], // int16 max
  [0xff, 0xff, 0xff, 0xff, 0x0f], // uvarint 2^32 - 1 (compact length)
  [0xff, 0xff, 0xff, 0xff, 0x7f], // uvarint overflowing 32 bits
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff] // unterminated uvarint
]

const mutate = (valid: Uint8Array, rnd: (n: number) => number): Uint8Array => {
  const b = Uint8Array.from(valid)
  switch (rnd(4)) {
    case 0: {
      for (let k = 1 + rnd(3); k > 0 && b.length > 0; k--) b[rnd(b.length)]! ^= 1 << rnd(8)
      return b
    }
    case 1:
      return b.subarray(0, rnd(b.length + 1))
    case 2: {
      const h = HUGE[rnd(HUGE.length)]!
      if (b.length === 0) return Uint8Array.from(h)
      const at = rnd(b.length)
      for (let i = 0; i < h.length && at + i < b.length; i++) b[at + i] = h[i]!
      return b
    }
    default: {
      // overwrite a run of bytes with random ones
      const at = rnd(b.length + 1)
      for (let i = at; i < Math.min(b.length, at + 1 + rnd(8)); i++) b[i] = rnd(256)
      return b
    }
  }
}

const decodeOnly = (codec: Codec, version: number, input: Uint8Array, what: string): void => {
  // a slow decode is timed again (twice at most): a pause of a loaded machine is not a hang
  let ms = Number.POSITIVE_INFINITY
  for (let attempt = 0; attempt < 3 && ms >= MAX_DECODE_MS; attempt++) {
    const t0 = performance.now()
    try {
      codec.decode(new Reader(input), version)
    } catch (e) {
      if (!isProtocolError(e)) {
        assert.fail(`${what}: ${codec.name} v${version} threw ${String(e)} on ${Buffer.from(input).toString("hex")}`)
      }
    }
    ms = Math.min(ms, performance.now() - t0)
  }
  assert.isBelow(ms, MAX_DECODE_MS, `${what}: ${codec.name} v${version} took ${ms} ms`)
}

const fuzz = (m: MessageSpec, kind: "messages" | "records"): void => {
  const codec = codecOf(m, kind)
  for (const version of versionsOf(m)) {
    const rnd = prng(SEED ^ (m.name.length * 7919 + version))
    const samples = fc.sample(messageArb(m, version), { numRuns: SAMPLES, seed: SEED + version })
    for (const value of samples) {
      const w = new Writer()
      codec.encode(w, value, version)
      const valid = Uint8Array.from(w.finish())
      for (let i = 0; i < MUTATIONS; i++) decodeOnly(codec, version, mutate(valid, rnd), "mutated")
    }
    for (let i = 0; i < 4; i++) {
      const random = new Uint8Array(rnd(64))
      for (let j = 0; j < random.length; j++) random[j] = rnd(256)
      decodeOnly(codec, version, random, "random")
    }
  }
}

describe("decoders on hostile input", () => {
  const specs = messageSpecs().filter((m) => m.type !== "metadata")
  it(`every message schema (${specs.length}) only throws ProtocolError`, () => {
    const t0 = performance.now()
    for (const m of specs) fuzz(m, "messages")
    for (const m of recordSpecs()) fuzz(m, "records")
    assert.isBelow(performance.now() - t0, 30_000)
  })

  it("a lying array length cannot allocate past the input", () => {
    // Produce v3 body: transactional_id null, acks, timeout, then topic_data claiming 2^31 - 1 topics
    const input = Uint8Array.from(Buffer.from("ffff ffff 00007530 7fffffff".replace(/\s/g, ""), "hex"))
    const codec = codecOf(messageSpecs().find((m) => m.name === "ProduceRequest")!, "messages")
    try {
      codec.decode(new Reader(input), 3)
      assert.fail("decoded a lying length")
    } catch (e) {
      assert.isTrue(isProtocolError(e))
    }
  })

  it("requests followed in the same chunk by a malformed frame: every request before it is framed and decodes", () => {
    // size fields a broker refuses: below the request header, negative, above socket.request.max.bytes
    const bad = [
      Uint8Array.of(0, 0, 0, 3, 1, 2, 3),
      Uint8Array.of(0xff, 0xff, 0xff, 0xff),
      Uint8Array.of(0x7f, 0, 0, 0)
    ]
    const specs = messageSpecs().filter((m) => m.type === "request")
    let checked = 0
    for (const m of specs) {
      for (const version of versionsOf(m)) {
        const values = fc.sample(messageArb(m, version, false), { numRuns: 2, seed: SEED + version })
        const apiKey = m.apiKey! as ApiKey
        const frames = values.map((v, i) => encodeRequestFrame(apiKey, version, i + 1, "fuzz", v as never))
        const tail = bad[(m.apiKey! + version) % bad.length]!
        const decoder = new FrameDecoder({ minFrameSize: 8, maxFrameSize: 100 << 20 })
        const { frames: out, error } = decoder.pushUntilError(Buffer.concat([...frames, tail, ...frames]))
        assert.strictEqual(out.length, frames.length, `${m.name} v${version}`)
        assert.isDefined(error, `${m.name} v${version}`)
        for (const [i, f] of out.entries()) {
          const { header, body } = decodeRequestFrame(f)
          assert.strictEqual(header.correlationId, i + 1)
          decodeRequest(apiKey, version, body)
          checked++
        }
      }
    }
    assert.isAbove(checked, 100)
  })

  it("random byte strings against random api decoders", () => {
    const specs = messageSpecs().filter((m) => m.type === "request" || m.type === "response")
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: specs.length - 1 }),
        fc.nat(),
        fc.uint8Array({ maxLength: 200 }),
        (i, v, input) => {
          const m = specs[i]!
          const versions = versionsOf(m)
          decodeOnly(codecOf(m, "messages"), versions[v % versions.length]!, input, "property")
        }
      ),
      { numRuns: 2000, seed: SEED }
    )
  })
})
