import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { BufferPool, sizeClass } from "../../src/log/BufferPool.js"

describe("BufferPool", () => {
  it.prop(
    "a size class holds the request and wastes at most a half of it",
    [fc.integer({ min: 1, max: 1 << 26 })],
    ([n]) => {
      const c = sizeClass(n)
      assert.isTrue(c >= n, `${c} >= ${n}`)
      assert.isTrue(c <= Math.max(2, n * 1.5), `${c} <= 1.5 * ${n}`)
      assert.strictEqual(sizeClass(c), c)
    }
  )

  it("hands a released buffer out again, to a later lease, and only after release", () => {
    const pool = new BufferPool({ minPooledBytes: 1024, maxPooledBytes: 1 << 20, maxRetainedBytes: 1 << 22 })
    const first = pool.lease()
    const a = first.acquire(100_000)
    assert.strictEqual(a.length, 100_000)
    const b = first.acquire(100_000)
    assert.notStrictEqual(a.buffer, b.buffer, "two buffers of one lease never share memory")
    // not released yet: a second lease gets new memory
    const second = pool.lease()
    const c = second.acquire(100_000)
    assert.notStrictEqual(c.buffer, a.buffer)
    assert.notStrictEqual(c.buffer, b.buffer)
    first.release()
    assert.strictEqual(pool.retainedBytes, 2 * sizeClass(100_000))
    const d = second.acquire(110_000) // the same size class
    assert.isTrue(d.buffer === a.buffer || d.buffer === b.buffer, "reused")
    assert.strictEqual(d.length, 110_000)
    assert.strictEqual(pool.retainedBytes, sizeClass(100_000))
    // releasing twice gives nothing back twice
    first.release()
    assert.strictEqual(pool.retainedBytes, sizeClass(100_000))
    // a released lease still works, with plain allocations
    const e = first.acquire(100_000)
    assert.strictEqual(e.length, 100_000)
    assert.strictEqual(pool.retainedBytes, sizeClass(100_000))
  })

  it("serves small and huge reads with plain allocations and keeps at most maxRetainedBytes", () => {
    const pool = new BufferPool({ minPooledBytes: 1024, maxPooledBytes: 8192, maxRetainedBytes: 16384 })
    const lease = pool.lease()
    lease.acquire(100)
    lease.acquire(100_000)
    lease.release()
    assert.strictEqual(pool.retainedBytes, 0)
    const many = pool.lease()
    for (let i = 0; i < 5; i++) many.acquire(8192)
    many.release()
    assert.strictEqual(pool.retainedBytes, 16384)
  })
})
