/**
 * Foreign-key table-table joins (Kafka Streams' KIP-213 design, own implementation): the left table's
 * rows subscribe to the right table's row of their foreign key, through two internal topics.
 *
 * - Left side, on each change: a subscription (instruction, a hash of the new left value, the left key)
 *   goes to `<application.id>-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-<n>-topic`, keyed (and so
 *   partitioned) by the foreign key; a changed foreign key unsubscribes the old one first.
 * - Right side: the subscription store (`KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-<n>`, keys: 4-byte
 *   foreign-key length, foreign key, left key) records who subscribed to which foreign key; each
 *   subscription is answered with the right row, and each right-table change is sent to every subscriber
 *   (fan-out), through `<application.id>-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-<n>-topic` keyed by the
 *   left key.
 * - Left side again, the resolver: a response whose hash is not the hash of the left row's current value
 *   is stale (the row changed since it subscribed) and is dropped; otherwise the joiner runs on the current
 *   left value and the response's right value.
 *
 * Invariants: the registration topic is co-partitioned with the right table and the response topic with
 * the left table (both are co-partition groups); the subscription store is not cached, so a fan-out's
 * prefix scan sees every subscription written before it.
 */

import { createHash } from "node:crypto"
import type { AnySerde, Materialized, Named } from "../../dsl/Options.js"
import { forEachStep } from "../../processor/internal/step.js"
import type { ProcessorSupplier, Step } from "../../processor/Processor.js"
import type { Change, StreamRecord } from "../../processor/Record.js"
import { writeInt32 } from "../../state/internal/bytes.js"
import type { TimestampedStore } from "../store/TimestampedStore.js"
import * as VT from "../store/ValueAndTimestamp.js"
import type { Position } from "./graph.js"
import { addStore, repartitionConfigs } from "./graph.js"
import type { InternalBuilder } from "./InternalBuilder.js"
import type { Joiner } from "./joinProcessors.js"
import { emitChange, openStore } from "./tableProcessors.js"

// biome-ignore lint/suspicious/noExplicitAny: processors are untyped at runtime; the DSL types them
type Any = any

/** What a subscription asks of the right side. */
export const Instruction = {
  /** The left row was deleted: forget the subscription and send a tombstone back. */
  DeleteKeyAndPropagate: 0,
  /** The left row moved to another foreign key: forget this subscription, send nothing. */
  DeleteKeyNoPropagate: 1,
  /** Answer with the right row, or with null when there is none (left joins; updates of an existing row). */
  PropagateNullIfNoFkValAvailable: 2,
  /** Answer only when the right row exists (a new row of an inner join). */
  PropagateOnlyIfFkValAvailable: 3
} as const

/** A subscription as it travels through the registration topic. */
export interface Subscription {
  readonly instruction: number
  readonly hash: Uint8Array | null
  readonly leftKey: Any
}

/** A response as it travels through the response topic (keyed by the left key). */
export interface Response {
  readonly hash: Uint8Array | null
  readonly rightValue: Any
}

/** A 16-byte hash of a left value's bytes. */
const hashOf = (bytes: Uint8Array | null): Uint8Array | null =>
  bytes === null ? null : new Uint8Array(createHash("md5").update(bytes).digest())

const sameBytes = (a: Uint8Array | null, b: Uint8Array | null): boolean => {
  if (a === null || b === null) return a === b
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

const writeHash = (out: Uint8Array, at: number, hash: Uint8Array | null): number => {
  out[at] = hash === null ? 0 : 1
  if (hash !== null) out.set(hash, at + 1)
  return at + 1 + (hash === null ? 0 : 16)
}

const readHash = (b: Uint8Array, at: number): { hash: Uint8Array | null; next: number } =>
  b[at] === 0 ? { hash: null, next: at + 1 } : { hash: b.slice(at + 1, at + 17), next: at + 17 }

/** Subscriptions as bytes: version 0, instruction, hash flag and 16-byte hash, the left key. */
export const subscriptionSerde = (leftKeySerde: AnySerde): AnySerde => ({
  encode: (s: Subscription) => {
    const key = leftKeySerde.encode(s.leftKey) ?? new Uint8Array(0)
    const out = new Uint8Array(3 + (s.hash === null ? 0 : 16) + key.length)
    out[0] = 0
    out[1] = s.instruction
    out.set(key, writeHash(out, 2, s.hash))
    return out
  },
  decode: (b: Uint8Array | null): Subscription => {
    const { hash, next } = readHash(b!, 2)
    return { instruction: b![1]!, hash, leftKey: leftKeySerde.decode(b!.subarray(next)) }
  }
})

/** Responses as bytes: version 0, hash flag and hash, value flag and the right value. */
export const responseSerde = (rightValueSerde: AnySerde): AnySerde => ({
  encode: (r: Response) => {
    const value = r.rightValue === null ? null : (rightValueSerde.encode(r.rightValue) ?? null)
    const out = new Uint8Array(3 + (r.hash === null ? 0 : 16) + (value?.length ?? 0))
    out[0] = 0
    const at = writeHash(out, 1, r.hash)
    out[at] = value === null ? 0 : 1
    if (value !== null) out.set(value, at + 1)
    return out
  },
  decode: (b: Uint8Array | null): Response => {
    const { hash, next } = readHash(b!, 1)
    return { hash, rightValue: b![next] === 0 ? null : rightValueSerde.decode(b!.subarray(next + 1)) }
  }
})

/** The subscription store's key prefix of a foreign key: its 4-byte length, then its bytes. */
const prefixOf = (fk: Uint8Array): Uint8Array => {
  const out = new Uint8Array(4 + fk.length)
  writeInt32(out, 0, fk.length)
  out.set(fk, 4)
  return out
}

const combinedKey = (fk: Uint8Array, leftKey: Uint8Array): Uint8Array => {
  const out = new Uint8Array(4 + fk.length + leftKey.length)
  out.set(prefixOf(fk), 0)
  out.set(leftKey, 4 + fk.length)
  return out
}

const identity: AnySerde = { encode: (b: Uint8Array) => b, decode: (b: Uint8Array | null) => b }

interface FkSerdes {
  readonly leftKey: AnySerde
  readonly leftValue: AnySerde
  readonly foreignKey: AnySerde
}

const encodeFk = (serdes: FkSerdes, fk: Any): Uint8Array | null =>
  fk === null || fk === undefined ? null : serdes.foreignKey.encode(fk)

/** Left side: turns each left change into subscriptions (and direct results for rows without a foreign key). */
const sendSubscriptions =
  (
    extractor: (value: Any) => Any,
    leftJoin: boolean,
    serdes: FkSerdes,
    sink: string,
    result: string,
    joiner: Joiner
  ): ProcessorSupplier =>
  (ctx) => ({
    process: (r) => {
      if (r.key === null || r.key === undefined) return undefined
      const c = r.value as Change<Any>
      const newFk = c.newValue === null ? null : encodeFk(serdes, extractor(c.newValue))
      const oldFk = c.oldValue === null ? null : encodeFk(serdes, extractor(c.oldValue))
      const hash = c.newValue === null ? null : hashOf(serdes.leftValue.encode(c.newValue))
      const out: Array<[string, StreamRecord<unknown, unknown>]> = []
      const subscribe = (fk: Uint8Array, instruction: number, h: Uint8Array | null) =>
        out.push([
          sink,
          {
            ...r,
            key: serdes.foreignKey.decode(fk),
            value: { instruction, hash: h, leftKey: r.key } satisfies Subscription
          }
        ])
      const direct = (value: Any) =>
        out.push([result, { ...r, value: { newValue: value, oldValue: null } satisfies Change<Any> }])
      if (c.oldValue !== null) {
        if (c.newValue !== null) {
          if (oldFk !== null && !sameBytes(oldFk, newFk)) subscribe(oldFk, Instruction.DeleteKeyNoPropagate, null)
          if (newFk !== null) subscribe(newFk, Instruction.PropagateNullIfNoFkValAvailable, hash)
          else direct(leftJoin ? joiner(c.newValue, null, r.key) : null)
        } else if (oldFk !== null) subscribe(oldFk, Instruction.DeleteKeyAndPropagate, null)
        else direct(null)
      } else if (c.newValue !== null) {
        if (newFk !== null) {
          const instruction = leftJoin
            ? Instruction.PropagateNullIfNoFkValAvailable
            : Instruction.PropagateOnlyIfFkValAvailable
          subscribe(newFk, instruction, hash)
        } else if (leftJoin) direct(joiner(c.newValue, null, r.key))
      }
      return forEachStep(out, ([child, record]) => ctx.forward(record, child))
    }
  })

/** Right side: records (or forgets) each subscription in the subscription store and passes it on. */
const receiveSubscriptions =
  (store: string, serdes: FkSerdes): ProcessorSupplier =>
  (ctx) => {
    const subscriptions = ctx.getStateStore<TimestampedStore<Uint8Array, Uint8Array>>(store)
    const wrapper = subscriptionSerde(serdes.leftKey)
    return {
      process: (r) => {
        const s = r.value as Subscription
        const fk = serdes.foreignKey.encode(r.key)!
        const key = combinedKey(fk, serdes.leftKey.encode(s.leftKey)!)
        const deleting =
          s.instruction === Instruction.DeleteKeyAndPropagate || s.instruction === Instruction.DeleteKeyNoPropagate
        subscriptions.put(key, deleting ? null : wrapper.encode(s), r.timestamp)
        return ctx.forward(r)
      }
    }
  }

/** Right side: answers a subscription with the right row of its foreign key. */
const answerSubscriptions =
  (rightStore: string): ProcessorSupplier =>
  (ctx) => {
    const right = ctx.getStateStore<TimestampedStore<Any, Any>>(rightStore)
    return {
      process: (r) => {
        const s = r.value as Subscription
        if (s.instruction === Instruction.DeleteKeyNoPropagate) return undefined
        const respond = (rightValue: Any, timestamp: number) =>
          ctx.forward({ ...r, key: s.leftKey, value: { hash: s.hash, rightValue } satisfies Response, timestamp })
        if (s.instruction === Instruction.DeleteKeyAndPropagate) return respond(null, r.timestamp)
        const row = right.get(r.key)
        if (row === undefined && s.instruction === Instruction.PropagateOnlyIfFkValAvailable) return undefined
        return respond(row?.value ?? null, row === undefined ? r.timestamp : Math.max(r.timestamp, row.timestamp))
      }
    }
  }

/** Right side: sends each change of a right row to every left row subscribed to it (fan-out). */
const fanOut =
  (store: string, serdes: FkSerdes): ProcessorSupplier =>
  (ctx) => {
    const subscriptions = ctx.getStateStore<TimestampedStore<Uint8Array, Uint8Array>>(store)
    const wrapper = subscriptionSerde(serdes.leftKey)
    return {
      process: (r) => {
        if (r.key === null || r.key === undefined) return undefined
        const c = r.value as Change<Any>
        if (c.newValue === null && c.oldValue === null) return undefined
        const fk = serdes.foreignKey.encode(r.key)!
        const responses: Array<StreamRecord<unknown, unknown>> = []
        for (const e of subscriptions.inner.prefixScan(prefixOf(fk))) {
          const s = wrapper.decode(VT.valueBytes(e.value)) as Subscription
          responses.push({ ...r, key: s.leftKey, value: { hash: s.hash, rightValue: c.newValue } satisfies Response })
        }
        return forEachStep(responses, (x) => ctx.forward(x))
      }
    }
  }

/** Left side: joins a response with the current left row, dropping stale responses. */
const resolveResponses =
  (leftStore: string, leftJoin: boolean, serdes: FkSerdes, joiner: Joiner): ProcessorSupplier =>
  (ctx) => {
    const left = ctx.getStateStore<TimestampedStore<Any, Any>>(leftStore)
    return {
      process: (r) => {
        const response = r.value as Response
        const current = left.get(r.key)
        const currentHash = current === undefined ? null : hashOf(serdes.leftValue.encode(current.value))
        if (!sameBytes(response.hash, currentHash)) return undefined
        let result: Any = null
        if (current !== undefined) {
          if (response.rightValue !== null) result = joiner(current.value, response.rightValue, r.key)
          else if (leftJoin) result = joiner(current.value, null, r.key)
        }
        return ctx.forward({ ...r, value: { newValue: result, oldValue: null } satisfies Change<Any> })
      }
    }
  }

/** The result table: through its store when materialized (deletes of absent rows dropped), else as is. */
const fkResult =
  (storeName: string | undefined): ProcessorSupplier =>
  (ctx) => {
    const store = storeName === undefined ? undefined : openStore(ctx, storeName, true)
    return {
      process: (r): Step => (store === undefined ? ctx.forward(r) : emitChange(ctx, store, r, r.value as Change<Any>))
    }
  }

const serdeOr = (b: InternalBuilder, s: AnySerde | undefined, side: "key" | "value") =>
  s ?? (side === "key" ? b.config["default.key.serde"] : b.config["default.value.serde"])

/** Adds a foreign-key join of `left` with `right`; returns the result table's node and store. */
export const foreignKeyJoin = (
  left: { readonly position: Position; readonly queryableStoreName: string | undefined },
  right: { readonly position: Position; readonly queryableStoreName: string | undefined },
  extractor: (value: Any) => Any,
  joiner: Joiner,
  leftJoin: boolean,
  named: Named | undefined,
  materialized: Materialized<Any, Any> | undefined
): { readonly position: Position; readonly storeName: string | undefined } => {
  const b = left.position.builder
  const base = named?.name
  const name = (suffix: string, prefix: string) => (base === undefined ? b.newName(prefix) : `${base}${suffix}`)
  const storeName =
    materialized === undefined ? undefined : (materialized.storeName ?? b.newStoreName("KTABLE-FK-JOIN-OUTPUT-"))
  const registrationTopic = `${name("-subscription-registration", "KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-")}-topic`
  const sendName = name("-subscription-registration-processor", "KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-")
  const registrationSink = name("-subscription-registration-sink", "KTABLE-SINK-")
  const registrationSource = name("-subscription-registration-source", "KTABLE-SOURCE-")
  const receiveName = name("-subscription-receive", "KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-")
  const subscriptionStore = name("-subscription-store", "KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-")
  const fanOutName = name("-foreign-join-subscription", "KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-")
  const answerName = name("-subscription-join-foreign", "KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-")
  const responseTopic = `${name("-subscription-response", "KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-")}-topic`
  const responseSink = name("-subscription-response-sink", "KTABLE-SINK-")
  const responseSource = name("-subscription-response-source", "KTABLE-SOURCE-")
  const resolverName = name(
    "-subscription-response-resolver",
    "KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-"
  )
  const resultName = name("-result", "KTABLE-FK-JOIN-OUTPUT-")

  const leftStore = left.queryableStoreName
  const rightStore = right.queryableStoreName
  if (leftStore === undefined || rightStore === undefined) {
    b.fail(
      `${resultName}: both tables of a foreign-key join must be materialized (give their operations a Materialized)`
    )
  }
  const leftKey = serdeOr(b, left.position.keySerde, "key")
  const leftValue = serdeOr(b, left.position.valueSerde, "value")
  const foreignKey = serdeOr(b, right.position.keySerde, "key")
  const rightValue = serdeOr(b, right.position.valueSerde, "value")
  if (leftKey === undefined || leftValue === undefined || foreignKey === undefined || rightValue === undefined) {
    b.fail(`${resultName}: a foreign-key join needs the key and value serdes of both tables (or the default serdes)`)
  }
  const serdes: FkSerdes = {
    leftKey: leftKey ?? identity,
    leftValue: leftValue ?? identity,
    foreignKey: foreignKey ?? identity
  }
  for (const topic of [registrationTopic, responseTopic]) {
    b.addInternalTopic({ name: topic, kind: "repartition", numberOfPartitions: undefined, configs: repartitionConfigs })
  }

  b.addProcessor(sendName, sendSubscriptions(extractor, leftJoin, serdes, registrationSink, resultName, joiner), [
    left.position.node
  ])
  b.addSink(
    registrationSink,
    registrationTopic,
    [sendName],
    serdes.foreignKey,
    subscriptionSerde(serdes.leftKey),
    undefined
  )
  b.addSource(registrationSource, [registrationTopic], serdes.foreignKey, subscriptionSerde(serdes.leftKey))
  b.addStore({
    name: subscriptionStore,
    keySerde: identity,
    valueSerde: identity,
    loggingEnabled: true,
    cachingEnabled: false,
    logConfig: {},
    supplier: undefined,
    storeType: undefined,
    global: false,
    usedBy: `foreign-key join ${resultName}`
  })
  b.addProcessor(
    receiveName,
    receiveSubscriptions(subscriptionStore, serdes),
    [registrationSource],
    [subscriptionStore]
  )
  b.addProcessor(fanOutName, fanOut(subscriptionStore, serdes), [right.position.node], [subscriptionStore])
  b.addProcessor(
    answerName,
    answerSubscriptions(rightStore ?? ""),
    [receiveName],
    rightStore === undefined ? [] : [rightStore]
  )
  b.addSink(
    responseSink,
    responseTopic,
    [answerName, fanOutName],
    serdes.leftKey,
    responseSerde(rightValue ?? identity),
    undefined
  )
  b.addSource(responseSource, [responseTopic], serdes.leftKey, responseSerde(rightValue ?? identity))
  b.addProcessor(
    resolverName,
    resolveResponses(leftStore ?? "", leftJoin, serdes, joiner),
    [responseSource],
    leftStore === undefined ? [] : [leftStore]
  )
  const keySerde = materialized?.keySerde ?? left.position.keySerde
  if (storeName !== undefined)
    addStore(b, storeName, materialized, keySerde, undefined, `foreign-key join ${resultName}`)
  b.addProcessor(resultName, fkResult(storeName), [resolverName, sendName], storeName === undefined ? [] : [storeName])
  b.addCopartitionGroup([registrationSource, right.position.node])
  b.addCopartitionGroup([responseSource, left.position.node])
  return {
    position: {
      builder: b,
      node: resultName,
      keySerde,
      valueSerde: materialized?.valueSerde,
      repartitionRequired: false
    },
    storeName
  }
}
