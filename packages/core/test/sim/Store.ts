/**
 * The metadata store as a node of the simulation: the in-process store's own pure transitions
 * (`internal/metadataMemory.ts`: compare-and-swap transactions, leases, expiry) applied to requests that arrive
 * over the simulated network, with leases expiring on the virtual clock. Like an etcd cluster it is one
 * linearizable service that does not fail; the network between it and the brokers does.
 *
 * Invariants: the state changes only through metadataMemory's transitions, one request at a time, after the
 * leases due at the request's arrival expired.
 */
import { Option } from "effect"
import type { KvCompare, KvEntry, KvEvent, KvOp } from "../../src/broker/internal/metadataKv.js"
import * as Kv from "../../src/broker/internal/metadataMemory.js"
import { LeaseExpired } from "../../src/broker/MetadataRecords.js"
import type { Message, SimNode } from "./Network.js"

/** Store requests. */
export type StoreRequest =
  | { readonly _tag: "Grant"; readonly ttlMs: number }
  | { readonly _tag: "KeepAlive"; readonly lease: string }
  | { readonly _tag: "Txn"; readonly compares: ReadonlyArray<KvCompare>; readonly ops: ReadonlyArray<KvOp> }
  | { readonly _tag: "Read" }
  | { readonly _tag: "Watch"; readonly fromRevision: number }

/** Store replies. */
export type StoreReply =
  | { readonly _tag: "Granted"; readonly lease: string }
  | { readonly _tag: "KeptAlive"; readonly ok: boolean }
  | { readonly _tag: "TxnResult"; readonly revision: number | undefined; readonly leaseExpired: boolean }
  | { readonly _tag: "ReadResult"; readonly entries: ReadonlyArray<KvEntry>; readonly revision: number }
  /** Every change from `fromRevision` on, in revision order (a watch's backlog); `compacted` when it is gone. */
  | { readonly _tag: "WatchResult"; readonly events: ReadonlyArray<KvEvent>; readonly compacted: boolean }

/** The store node. */
export class Store {
  state: Kv.MemoryKvState = Kv.initialState

  constructor(readonly node: SimNode) {
    node.handler = (from, message, correlation) => {
      const reply = this.handle(message as StoreRequest)
      node.reply(from, correlation, reply)
    }
  }

  /** Applies one request at the current virtual time. */
  handle(request: StoreRequest): StoreReply & Message {
    const now = this.node.nowMs
    const expired = Kv.expireLeases(this.state, now)
    if (this.node.net.sched.trace !== undefined && expired.events.length > 0)
      this.node.net.sched.record(`store expired ${expired.events.map((e) => e.key).join(" ")}`)
    this.state = expired.state
    switch (request._tag) {
      case "Grant": {
        const step = Kv.grantLease(this.state, request.ttlMs, now)
        this.state = step.state
        return { _tag: "Granted", lease: step.result }
      }
      case "KeepAlive": {
        const step = Kv.keepLeaseAlive(this.state, request.lease, now)
        if (step instanceof LeaseExpired) return { _tag: "KeptAlive", ok: false }
        this.state = step.state
        return { _tag: "KeptAlive", ok: true }
      }
      case "Txn": {
        const step = Kv.applyTxn(this.state, request.compares, request.ops)
        if (step instanceof LeaseExpired) return { _tag: "TxnResult", revision: undefined, leaseExpired: true }
        this.state = step.state
        if (this.node.net.sched.trace !== undefined)
          this.node.net.sched.record(
            `store txn ${JSON.stringify(request.ops)} -> ${Option.getOrUndefined(step.result)}`
          )
        return { _tag: "TxnResult", revision: Option.getOrUndefined(step.result), leaseExpired: false }
      }
      case "Watch":
        return request.fromRevision <= this.state.compacted
          ? { _tag: "WatchResult", events: [], compacted: true }
          : {
              _tag: "WatchResult",
              events: this.state.history.filter((e) => e.revision >= request.fromRevision),
              compacted: false
            }
      case "Read":
        return {
          _tag: "ReadResult",
          entries: [...this.state.entries.values()].map(({ key, value, modRevision }) => ({ key, value, modRevision })),
          revision: this.state.revision
        }
    }
  }
}
