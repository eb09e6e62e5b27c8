/**
 * Consumer-group benchmark against a broker in its own process (`group.initial.rebalance.delay.ms=0`):
 * - time for a 10-member group to reach Stable over real sockets: every member asks for its id
 *   (MEMBER_ID_REQUIRED), joins with it, the leader assigns 12 partitions, everyone syncs;
 * - OffsetCommit throughput: members committing 12 partitions per request, pipelined, each commit an
 *   append to `__consumer_offsets` acknowledged before the answer.
 */
import * as child from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { decodeResponseFrame, encodeRequestFrame, FrameDecoder } from "../src/protocol/Frame.js"
import type { ApiKey, RequestTypes, ResponseTypes } from "../src/protocol/generated/ApiKey.js"
import * as CreateTopics from "../src/protocol/generated/CreateTopics.js"
import * as ConsumerProtocolAssignment from "../src/protocol/generated/data/ConsumerProtocolAssignment.js"
import * as ConsumerProtocolSubscription from "../src/protocol/generated/data/ConsumerProtocolSubscription.js"
import * as JoinGroup from "../src/protocol/generated/JoinGroup.js"
import * as OffsetCommit from "../src/protocol/generated/OffsetCommit.js"
import * as SyncGroup from "../src/protocol/generated/SyncGroup.js"
import { Writer } from "../src/protocol/Writer.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const MEMBERS = 10
const PARTITIONS = 12
const ROUNDS = 20
const COMMIT_SECONDS = 3

/** One connection with pipelined requests answered in order. */
class Conn {
  private readonly decoder = new FrameDecoder({ maxFrameSize: 1 << 30 })
  private readonly pending: Array<(frame: Uint8Array) => void> = []
  private correlation = 0
  private constructor(private readonly socket: net.Socket) {
    socket.on("data", (chunk) => {
      for (const f of this.decoder.push(chunk)) this.pending.shift()!(f)
    })
  }
  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: "127.0.0.1", port, noDelay: true }, () => resolve(new Conn(s)))
      s.once("error", reject)
    })
  }
  send<K extends ApiKey>(apiKey: K, version: number, body: RequestTypes[K]): Promise<ResponseTypes[K]> {
    const id = ++this.correlation
    return new Promise((resolve) => {
      this.pending.push((f) => resolve(decodeResponseFrame(apiKey, version, f).body))
      this.socket.write(encodeRequestFrame(apiKey, version, id, "bench", body))
    })
  }
  close() {
    this.socket.destroy()
  }
}

const spawnBroker = (dir: string) =>
  new Promise<{ port: number; proc: child.ChildProcess }>((resolve, reject) => {
    const fixture = path.join(here, "..", "test", "broker", "fixtures", "brokerProcess.js")
    const props = JSON.stringify({ "group.initial.rebalance.delay.ms": "0", "offsets.topic.num.partitions": "50" })
    const proc = child.spawn(process.execPath, ["--conditions=@eddy/source", "--import", "tsx", fixture, dir, props], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    proc.stdout!.on("data", (chunk: Buffer) => {
      const m = /LISTENING (\d+)/.exec(chunk.toString())
      if (m) resolve({ port: Number(m[1]), proc })
    })
    proc.once("exit", (code) => reject(new Error(`broker exited with ${code}`)))
  })

const subscription = (() => {
  const w = new Writer()
  w.int16(0)
  ConsumerProtocolSubscription.encodeConsumerProtocolSubscription(
    w,
    ConsumerProtocolSubscription.makeConsumerProtocolSubscription({ topics: ["bench"] }),
    0
  )
  return Uint8Array.from(w.finish())
})()

const assignment = (partitions: Array<number>) => {
  const w = new Writer()
  w.int16(0)
  ConsumerProtocolAssignment.encodeConsumerProtocolAssignment(
    w,
    ConsumerProtocolAssignment.makeConsumerProtocolAssignment({ assignedPartitions: [{ topic: "bench", partitions }] }),
    0
  )
  return Uint8Array.from(w.finish())
}

const joinRequest = (groupId: string, memberId: string) =>
  JoinGroup.makeJoinGroupRequest({
    groupId,
    sessionTimeoutMs: 30_000,
    rebalanceTimeoutMs: 30_000,
    memberId,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: subscription }]
  })

/** Joins `conns.length` members to a new group and syncs; resolves when every member has its assignment. */
const formGroup = async (conns: ReadonlyArray<Conn>, groupId: string) => {
  // every member gets its id first: pending ids hold the rebalance until all have joined (a member that
  // completed a generation alone would have to heartbeat and rejoin, which this driver does not do)
  const ids = await Promise.all(conns.map((c) => c.send(11, 5, joinRequest(groupId, ""))))
  const joined = await Promise.all(
    conns.map(async (c, i) => {
      const j = await c.send(11, 5, joinRequest(groupId, ids[i]!.memberId))
      if (j.errorCode !== 0) throw new Error(`JoinGroup failed with ${j.errorCode}`)
      return j
    })
  )
  const leader = joined.find((j) => j.members.length > 0)!
  const memberIds = leader.members.map((m) => m.memberId).sort()
  const assignments = memberIds.map((memberId, i) => ({
    memberId,
    assignment: assignment(Array.from({ length: PARTITIONS }, (_, p) => p).filter((p) => p % memberIds.length === i))
  }))
  const synced = await Promise.all(
    conns.map((c, i) =>
      c.send(
        14,
        3,
        SyncGroup.makeSyncGroupRequest({
          groupId,
          generationId: joined[i]!.generationId,
          memberId: joined[i]!.memberId,
          assignments: joined[i] === leader ? assignments : []
        })
      )
    )
  )
  for (const s of synced) if (s.errorCode !== 0) throw new Error(`SyncGroup failed with ${s.errorCode}`)
  return joined.map((j) => ({ memberId: j.memberId, generationId: j.generationId }))
}

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

const fmt = (n: number, digits = 1) => n.toLocaleString("en-US", { maximumFractionDigits: digits })

export const run = async (): Promise<void> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "eddy-bench-groups-"))
  const { port, proc } = await spawnBroker(dir)
  const conns = await Promise.all(Array.from({ length: MEMBERS }, () => Conn.open(port)))
  try {
    const created = await conns[0]!.send(
      19,
      4,
      CreateTopics.makeCreateTopicsRequest({
        timeoutMs: 5000,
        topics: [{ name: "bench", numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] }]
      })
    )
    if (created.topics[0]!.errorCode !== 0) throw new Error(`CreateTopics failed with ${created.topics[0]!.errorCode}`)
    await formGroup(conns, "warmup") // creates __consumer_offsets

    const times: Array<number> = []
    let members: Array<{ memberId: string; generationId: number }> = []
    for (let round = 0; round < ROUNDS; round++) {
      const t0 = performance.now()
      members = await formGroup(conns, `g${round}`)
      times.push(performance.now() - t0)
    }
    times.sort((a, b) => a - b)
    console.log("| case | runs | median | p99 |")
    console.log("| --- | --- | --- | --- |")
    console.log(
      `| ${MEMBERS}-member group to Stable (join x2 + sync, ${PARTITIONS} partitions) | ${ROUNDS} | ${fmt(percentile(times, 50), 2)} ms | ${fmt(percentile(times, 99), 2)} ms |`
    )

    // commits: every member of the last group commits its partitions, 8 requests in flight per member
    const groupId = `g${ROUNDS - 1}`
    const request = (m: { memberId: string; generationId: number }, offset: bigint) =>
      OffsetCommit.makeOffsetCommitRequest({
        groupId,
        generationIdOrMemberEpoch: m.generationId,
        memberId: m.memberId,
        topics: [
          {
            name: "bench",
            partitions: Array.from({ length: PARTITIONS }, (_, partitionIndex) => ({
              partitionIndex,
              committedOffset: offset,
              committedLeaderEpoch: -1,
              commitTimestamp: -1n,
              committedMetadata: null
            }))
          }
        ]
      })
    for (const inFlight of [1, 8]) {
      let requests = 0
      const deadline = performance.now() + COMMIT_SECONDS * 1000
      const t0 = performance.now()
      await Promise.all(
        conns.map((c, i) =>
          Promise.all(
            Array.from({ length: inFlight }, async () => {
              while (performance.now() < deadline) {
                const r = await c.send(8, 8, request(members[i]!, BigInt(requests)))
                if (r.topics[0]!.partitions[0]!.errorCode !== 0) {
                  throw new Error(`OffsetCommit failed with ${r.topics[0]!.partitions[0]!.errorCode}`)
                }
                requests++
              }
            })
          )
        )
      )
      const secs = (performance.now() - t0) / 1000
      if (inFlight === 1) {
        console.log("\n| case | commits/s | offsets/s |")
        console.log("| --- | --- | --- |")
      }
      console.log(
        `| OffsetCommit, ${MEMBERS} members x ${inFlight} in flight, ${PARTITIONS} partitions each | ${fmt(requests / secs, 0)} | ${fmt((requests * PARTITIONS) / secs, 0)} |`
      )
    }
  } finally {
    for (const c of conns) c.close()
    proc.kill("SIGTERM")
    await new Promise((r) => proc.once("exit", r))
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
