/**
 * The consumer's partition assignors (pure functions run by the group leader) and the encodings of the
 * subscription and assignment bytes (ConsumerProtocolSubscription / ConsumerProtocolAssignment, each prefixed
 * by an int16 version), compatible with the Java client and librdkafka: same protocol names, same bytes.
 */
import * as CPA from "../../protocol/generated/data/ConsumerProtocolAssignment.js"
import * as CPS from "../../protocol/generated/data/ConsumerProtocolSubscription.js"
import { Reader } from "../../protocol/Reader.js"
import { Writer } from "../../protocol/Writer.js"

/** The assignors this client implements, by their protocol names. */
export type AssignorName = "range" | "roundrobin" | "cooperative-sticky"

/** Partitions by topic. */
export type PartitionsByTopic = ReadonlyMap<string, ReadonlyArray<number>>

/** A member as the leader sees it in JoinGroup. */
export interface MemberSubscription {
  readonly memberId: string
  readonly groupInstanceId: string | null
  readonly topics: ReadonlyArray<string>
  readonly ownedPartitions: PartitionsByTopic
  /** The generation the owned partitions belong to (-1 when unknown). */
  readonly generationId: number
  /** The subscription's user data (a custom assignor's bytes; null when none). */
  readonly userData?: Uint8Array | null
}

/** memberId -> its partitions by topic. */
export type GroupAssignment = Map<string, Map<string, Array<number>>>

/** Whether an assignor uses the cooperative rebalance protocol (KIP-429). */
export const isCooperative = (name: string): boolean => name === "cooperative-sticky"

// ---------------------------------------------------------------------------------------------------------
// encodings

const SUBSCRIPTION_VERSION = 3
const ASSIGNMENT_VERSION = 0

const toList = (m: PartitionsByTopic) =>
  [...m].filter(([, ps]) => ps.length > 0).map(([topic, partitions]) => ({ topic, partitions: [...partitions] }))

/** The subscription bytes (version 3: topics, user data, owned partitions, generation, rack). */
export const encodeSubscription = (s: {
  readonly topics: ReadonlyArray<string>
  readonly userData: Uint8Array | null
  readonly ownedPartitions: PartitionsByTopic
  readonly generationId: number
}): Uint8Array => {
  const w = new Writer()
  w.int16(SUBSCRIPTION_VERSION)
  CPS.encodeConsumerProtocolSubscription(
    w,
    CPS.makeConsumerProtocolSubscription({
      topics: [...s.topics],
      userData: s.userData,
      ownedPartitions: toList(s.ownedPartitions),
      generationId: s.generationId,
      rackId: null
    }),
    SUBSCRIPTION_VERSION
  )
  return w.finish()
}

/** Reads subscription bytes of any version (newer versions only add fields, so they read as the newest known). */
export const decodeSubscription = (memberId: string, groupInstanceId: string | null, bytes: Uint8Array) => {
  const r = new Reader(bytes)
  const version = Math.min(r.int16(), CPS.validVersions.max)
  const s = CPS.decodeConsumerProtocolSubscription(r, version)
  const owned = new Map<string, Array<number>>()
  for (const tp of s.ownedPartitions) owned.set(tp.topic, [...(owned.get(tp.topic) ?? []), ...tp.partitions])
  // the cooperative-sticky assignor also carries the generation as an int32 in user data (before version 2)
  let generationId = version >= 2 ? s.generationId : -1
  if (generationId < 0 && s.userData !== null && s.userData.length >= 4) {
    generationId = new DataView(s.userData.buffer, s.userData.byteOffset, 4).getInt32(0)
  }
  return {
    memberId,
    groupInstanceId,
    topics: s.topics,
    ownedPartitions: owned,
    generationId,
    userData: s.userData
  } satisfies MemberSubscription
}

/** The user data of a subscription for `assignor` (cooperative-sticky: the generation as an int32). */
export const subscriptionUserData = (assignor: string, generationId: number): Uint8Array | null => {
  if (assignor !== "cooperative-sticky") return null
  const b = new Uint8Array(4)
  new DataView(b.buffer).setInt32(0, generationId)
  return b
}

/** The assignment bytes of one member (user data: a custom assignor's bytes; none for the built-in ones). */
export const encodeAssignment = (partitions: PartitionsByTopic, userData: Uint8Array | null = null): Uint8Array => {
  const w = new Writer()
  w.int16(ASSIGNMENT_VERSION)
  CPA.encodeConsumerProtocolAssignment(
    w,
    CPA.makeConsumerProtocolAssignment({ assignedPartitions: toList(partitions), userData }),
    ASSIGNMENT_VERSION
  )
  return w.finish()
}

/** Reads assignment bytes of any version with their user data; empty bytes are an empty assignment. */
export const decodeAssignmentWithUserData = (
  bytes: Uint8Array
): { readonly partitions: Map<string, Array<number>>; readonly userData: Uint8Array | null } => {
  const partitions = new Map<string, Array<number>>()
  if (bytes.length === 0) return { partitions, userData: null }
  const r = new Reader(bytes)
  const version = Math.min(r.int16(), CPA.validVersions.max)
  const a = CPA.decodeConsumerProtocolAssignment(r, version)
  for (const tp of a.assignedPartitions) {
    partitions.set(tp.topic, [...(partitions.get(tp.topic) ?? []), ...tp.partitions])
  }
  return { partitions, userData: a.userData }
}

/** Reads assignment bytes of any version; empty bytes are an empty assignment. */
export const decodeAssignment = (bytes: Uint8Array): Map<string, Array<number>> =>
  decodeAssignmentWithUserData(bytes).partitions

// ---------------------------------------------------------------------------------------------------------
// assignors

/** Java's member order: static members (by instance id) first, then by member id. */
const compareMembers = (a: MemberSubscription, b: MemberSubscription): number => {
  if (a.groupInstanceId !== null && b.groupInstanceId !== null) {
    return a.groupInstanceId < b.groupInstanceId ? -1 : a.groupInstanceId > b.groupInstanceId ? 1 : 0
  }
  if (a.groupInstanceId !== null) return -1
  if (b.groupInstanceId !== null) return 1
  return a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0
}

const emptyAssignment = (members: ReadonlyArray<MemberSubscription>): GroupAssignment =>
  new Map(members.map((m) => [m.memberId, new Map<string, Array<number>>()]))

const add = (a: GroupAssignment, memberId: string, topic: string, partition: number) => {
  const byTopic = a.get(memberId)!
  const list = byTopic.get(topic)
  if (list === undefined) byTopic.set(topic, [partition])
  else list.push(partition)
}

const sortedTopics = (partitionCounts: ReadonlyMap<string, number>) => [...partitionCounts.keys()].sort()

/**
 * range: per topic, the members subscribed to it (in member order) get consecutive ranges; the first
 * `partitions % members` get one extra.
 */
export const range = (
  members: ReadonlyArray<MemberSubscription>,
  partitionCounts: ReadonlyMap<string, number>
): GroupAssignment => {
  const out = emptyAssignment(members)
  for (const topic of sortedTopics(partitionCounts)) {
    const n = partitionCounts.get(topic)!
    const subscribed = members.filter((m) => m.topics.includes(topic)).sort(compareMembers)
    if (subscribed.length === 0) continue
    const per = Math.floor(n / subscribed.length)
    const extra = n % subscribed.length
    subscribed.forEach((m, i) => {
      const start = i * per + Math.min(i, extra)
      const length = per + (i < extra ? 1 : 0)
      for (let p = start; p < start + length; p++) add(out, m.memberId, topic, p)
    })
  }
  return out
}

/**
 * roundrobin: every partition of every subscribed topic (by topic, then partition) goes to the next member
 * in a circular order of members that is subscribed to its topic.
 */
export const roundrobin = (
  members: ReadonlyArray<MemberSubscription>,
  partitionCounts: ReadonlyMap<string, number>
): GroupAssignment => {
  const out = emptyAssignment(members)
  const ordered = [...members].sort(compareMembers)
  if (ordered.length === 0) return out
  let next = 0
  for (const topic of sortedTopics(partitionCounts)) {
    if (!ordered.some((m) => m.topics.includes(topic))) continue
    const n = partitionCounts.get(topic)!
    for (let p = 0; p < n; p++) {
      while (!ordered[next % ordered.length]!.topics.includes(topic)) next++
      add(out, ordered[next % ordered.length]!.memberId, topic, p)
      next++
    }
  }
  return out
}

/**
 * cooperative-sticky: members keep the partitions they own (a partition claimed by two members goes to the
 * claim of the highest generation), free partitions go to the least loaded eligible member, and partitions
 * move from the most to the least loaded members until no eligible member has two fewer. A partition that
 * moves away from a member still in the group is left out of this assignment (its owner revokes it first and
 * rejoins; the next rebalance hands it over): Kafka's cooperative protocol.
 */
export const cooperativeSticky = (
  members: ReadonlyArray<MemberSubscription>,
  partitionCounts: ReadonlyMap<string, number>
): GroupAssignment => {
  const ordered = [...members].sort(compareMembers)
  const owner = new Map<string, { memberId: string; generation: number }>()
  const key = (t: string, p: number) => `${t}\u0000${p}`
  for (const m of ordered) {
    for (const [topic, ps] of m.ownedPartitions) {
      const n = partitionCounts.get(topic)
      if (n === undefined || !m.topics.includes(topic)) continue
      for (const p of ps) {
        if (p >= n) continue
        const prev = owner.get(key(topic, p))
        if (prev === undefined || m.generationId > prev.generation) {
          owner.set(key(topic, p), { memberId: m.memberId, generation: m.generationId })
        }
      }
    }
  }
  const current = new Map<string, string>() // partition key -> member
  const load = new Map<string, number>(ordered.map((m) => [m.memberId, 0]))
  for (const [k, o] of owner) {
    current.set(k, o.memberId)
    load.set(o.memberId, load.get(o.memberId)! + 1)
  }
  const eligible = (topic: string) => ordered.filter((m) => m.topics.includes(topic))
  const leastLoaded = (candidates: ReadonlyArray<MemberSubscription>) => {
    let best: MemberSubscription | undefined
    for (const m of candidates) if (best === undefined || load.get(m.memberId)! < load.get(best.memberId)!) best = m
    return best
  }
  const all: Array<[string, number]> = []
  for (const topic of sortedTopics(partitionCounts)) {
    for (let p = 0; p < partitionCounts.get(topic)!; p++) all.push([topic, p])
  }
  for (const [topic, p] of all) {
    if (current.has(key(topic, p))) continue
    const m = leastLoaded(eligible(topic))
    if (m === undefined) continue
    current.set(key(topic, p), m.memberId)
    load.set(m.memberId, load.get(m.memberId)! + 1)
  }
  // balance: move partitions from a member to an eligible one with at least two fewer
  for (let moved = true, rounds = 0; moved && rounds < all.length * 2; rounds++) {
    moved = false
    for (const [topic, p] of all) {
      const from = current.get(key(topic, p))
      if (from === undefined) continue
      const to = leastLoaded(eligible(topic))
      if (to !== undefined && load.get(to.memberId)! + 2 <= load.get(from)!) {
        current.set(key(topic, p), to.memberId)
        load.set(from, load.get(from)! - 1)
        load.set(to.memberId, load.get(to.memberId)! + 1)
        moved = true
      }
    }
  }
  const out = emptyAssignment(ordered)
  for (const [topic, p] of all) {
    const m = current.get(key(topic, p))
    if (m === undefined) continue
    const prev = owner.get(key(topic, p))
    // still owned by another member: that member revokes it first
    if (prev !== undefined && prev.memberId !== m) continue
    add(out, m, topic, p)
  }
  return out
}

/** The assignor named `name`. */
export const assignors: Record<
  AssignorName,
  (members: ReadonlyArray<MemberSubscription>, partitionCounts: ReadonlyMap<string, number>) => GroupAssignment
> = { range, roundrobin, "cooperative-sticky": cooperativeSticky }

/** Whether `name` is an assignor this client implements. */
export const isAssignorName = (name: string): name is AssignorName => name in assignors
