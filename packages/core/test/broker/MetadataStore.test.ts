/**
 * The metadata store's conformance suite against the in-memory store (leases on `TestClock`) and a
 * real etcd started by the test (skipped, with a note, where the `etcd` binary is not installed).
 */
import { describe, it, layer } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import * as MetadataStore from "../../src/broker/MetadataStore.js"
import { EtcdServer, EtcdServerLive, hasEtcd } from "./etcdServer.js"
import { metadataStoreSuite } from "./MetadataStoreSuite.js"

describe("MetadataStore.layerMemory", () => {
  metadataStoreSuite({
    test: (name, body) => it.effect(name, () => body().pipe(Effect.provide(MetadataStore.layerMemory))),
    advance: (millis) => TestClock.adjust(millis)
  })
})

if (!hasEtcd)
  console.warn("MetadataStore.test.ts: etcd is not installed (apt-get install -y etcd-server); skipping the etcd suite")

describe.skipIf(!hasEtcd)("MetadataStore.layerEtcd", () => {
  let run = 0
  layer(EtcdServerLive, { timeout: 20_000, excludeTestServices: true })((it) => {
    metadataStoreSuite({
      test: (name, body) =>
        it.effect(
          name,
          () =>
            Effect.flatMap(EtcdServer, ({ url }) =>
              body().pipe(Effect.provide(MetadataStore.layerEtcd({ hosts: [url], prefix: `/eddy-test-${++run}/` })))
            ),
          20_000
        ),
      advance: (millis) => Effect.sleep(millis)
    })
  })
})
