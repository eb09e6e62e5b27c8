/**
 * The window, session and versioned views of interactive queries over real in-memory stores, with the task
 * lists registered by hand (no broker): partition routing, owner errors, scans over partitions, stale
 * (standby) reads, the state check and wrong-kind errors.
 */
import { partitionForKey } from "@eddy/core/client/Partitioner"
import { assert, describe, it } from "@effect/vitest"
import { LocalTasks, type RunningTask, type ViewParams } from "../../src/internal/query/localStores.js"
import { sessionView, versionedView, windowView } from "../../src/internal/query/windowedViews.js"
import { VersionedStore } from "../../src/internal/store/VersionedStore.js"
import { TimestampedWindowStore, TypedSessionStore } from "../../src/internal/store/WindowedStores.js"
import * as Serdes from "../../src/Serdes.js"
import * as InMemoryKeyValueStore from "../../src/state/InMemoryKeyValueStore.js"
import * as SegmentedSessionStore from "../../src/state/internal/sessionStore.js"
import * as SegmentedWindowStore from "../../src/state/internal/windowStore.js"
import * as Stores from "../../src/state/Stores.js"

const PARTITIONS = 2
const keys = ["a", "b", "c", "d", "e", "f"]
const partitionOf = (k: string) => partitionForKey(Serdes.string.encode(k)!, PARTITIONS)

/** One task per partition holding a window store "w", a session store "s" and a versioned store "v". */
const openTask = (partition: number): RunningTask => {
  const w = new TimestampedWindowStore(
    "w",
    SegmentedWindowStore.make(InMemoryKeyValueStore.make("w"), {
      retentionPeriod: 1_000_000,
      windowSize: 10,
      segmentInterval: 60_000,
      retainDuplicates: false
    }),
    Serdes.string,
    Serdes.long,
    undefined
  )
  const s = new TypedSessionStore(
    "s",
    SegmentedSessionStore.make(InMemoryKeyValueStore.make("s"), {
      retentionPeriod: 1_000_000,
      segmentInterval: 60_000
    }),
    Serdes.string,
    Serdes.long,
    undefined
  )
  const v = new VersionedStore(
    "v",
    Stores.inMemoryVersionedKeyValueStore("v", 1_000_000).get(),
    Serdes.string,
    Serdes.string,
    undefined
  )
  for (const k of keys.filter((k) => partitionOf(k) === partition)) {
    for (const start of [0, 10, 20]) w.put(k, start + k.charCodeAt(0), start, start + 5)
    s.put({ key: k, window: { start: 0, end: 5 } }, 2, 5)
    s.put({ key: k, window: { start: 100, end: 130 } }, 3, 130)
    v.put(k, `${k}1`, 10)
    v.put(k, `${k}2`, 20)
  }
  return {
    id: `0_${partition}`,
    stores: new Map(),
    windowedStores: new Map<string, TimestampedWindowStore<unknown, unknown> | TypedSessionStore<unknown, unknown>>([
      ["w", w as TimestampedWindowStore<unknown, unknown>],
      ["s", s as TypedSessionStore<unknown, unknown>]
    ]),
    customStores: new Map([["v", v]])
  }
}

const fixture = (options: { readonly stale?: boolean; readonly running?: () => boolean } = {}) => {
  const [t0, t1] = [openTask(0), openTask(1)]
  const tasks = new LocalTasks()
  tasks.register(0, () => [t0])
  tasks.registerStandbys(0, () => [{ task: t1, lags: () => [] }])
  const params = (name: string, timestamped = false): ViewParams<string> => ({
    name,
    subtopology: 0,
    numPartitions: PARTITIONS,
    keySerde: Serdes.string,
    valueSerde: (name === "v" ? Serdes.string : Serdes.long) as never,
    tasks,
    check: () => {
      if (options.running !== undefined && !options.running()) throw new Error("not RUNNING")
    },
    ownerOf: (p) => `host-${p}:1`,
    timestamped,
    stale: options.stale === true
  })
  return { params }
}

const local = keys.filter((k) => partitionOf(k) === 0)
const remote = keys.filter((k) => partitionOf(k) === 1)

describe("window, session and versioned views", () => {
  it("the fixture puts keys on both partitions", () => {
    assert.isNotEmpty(local)
    assert.isNotEmpty(remote)
  })

  it("window view: one window, a key's windows by time, scans, backward, timestamped", () => {
    const { params } = fixture()
    const w = windowView<string, number>(params("w"))
    for (const k of local) {
      const c = k.charCodeAt(0)
      assert.strictEqual(w.fetch(k, 10), 10 + c)
      assert.isUndefined(w.fetch(k, 11))
      assert.deepStrictEqual(
        [...w.fetch(k, 5, 20)],
        [
          { key: 10, value: 10 + c },
          { key: 20, value: 20 + c }
        ]
      )
      assert.deepStrictEqual(
        [...w.backwardFetch(k, 0, 100)].map((e) => e.key),
        [20, 10, 0]
      )
    }
    for (const k of remote) assert.throws(() => w.fetch(k, 0, 100), /partition 1 .*runs on host-1:1/)
    const all = [...w.all()]
    assert.strictEqual(all.length, local.length * 3)
    assert.deepStrictEqual(all[0]!.key.window, { start: 0, end: 10 })
    assert.deepStrictEqual([...w.fetchAll(10, 10)].map((e) => e.key.key).sort(), [...local].sort())
    assert.deepStrictEqual([...w.backwardAll()], all.reverse())
    const ts = windowView<string, { value: number; timestamp: number }>(params("w", true))
    assert.deepStrictEqual(ts.fetch(local[0]!, 20), { value: 20 + local[0]!.charCodeAt(0), timestamp: 25 })
  })

  it("session view: a key's sessions, findSessions bounds, fetchSession", () => {
    const { params } = fixture()
    const s = sessionView<string, number>(params("s"))
    const k = local[0]!
    assert.deepStrictEqual(
      [...s.fetch(k)].map((e) => [e.key.window.start, e.key.window.end, e.value]),
      [
        [0, 5, 2],
        [100, 130, 3]
      ]
    )
    assert.deepStrictEqual(
      [...s.findSessions(k, 6, 200)].map((e) => e.key.window.start),
      [100]
    )
    assert.deepStrictEqual(
      [...s.findSessions(k, 0, 99)].map((e) => e.key.window.start),
      [0]
    )
    assert.strictEqual(s.fetchSession(k, 100, 130), 3)
    assert.isUndefined(s.fetchSession(k, 100, 129))
    assert.throws(() => s.fetch(remote[0]!), /not hosted by this instance/)
    assert.strictEqual([...s.fetch(undefined, undefined)].length, local.length * 2)
  })

  it("versioned view: latest and as of a time, with validTo", () => {
    const { params } = fixture()
    const v = versionedView<string, string>(params("v"))
    const k = local[0]!
    assert.deepStrictEqual(v.get(k), { value: `${k}2`, timestamp: 20, validTo: undefined })
    assert.deepStrictEqual(v.get(k, 15), { value: `${k}1`, timestamp: 10, validTo: 20 })
    assert.isUndefined(v.get(k, 9))
    assert.throws(() => v.get(remote[0]!), /not hosted by this instance/)
  })

  it("stale views read standbys too; a closed state and a wrong kind throw", () => {
    const stale = fixture({ stale: true })
    const k = remote[0]!
    assert.strictEqual(windowView<string, number>(stale.params("w")).fetch(k, 0), k.charCodeAt(0))
    assert.strictEqual(versionedView<string, string>(stale.params("v")).get(k)?.value, `${k}2`)
    assert.strictEqual([...windowView<string, number>(stale.params("w")).all()].length, keys.length * 3)
    let running = true
    const closed = fixture({ running: () => running })
    const w = windowView<string, number>(closed.params("w"))
    assert.strictEqual(w.fetch(local[0]!, 0), local[0]!.charCodeAt(0))
    running = false
    assert.throws(() => w.fetch(local[0]!, 0), /not RUNNING/)
    const { params } = fixture()
    assert.throws(() => windowView<string, number>(params("s")).fetch(local[0]!, 0), /not a window store/)
    assert.throws(() => sessionView<string, number>(params("w")).fetch(local[0]!), /not a session store/)
  })
})
