/**
 * Fail-over of a real three-broker cluster: etcd and three `eddy broker` processes on loopback; kafkajs,
 * librdkafka (python3-confluent-kafka) and kcat produce unique values with acks=all and idempotence (kafka-python,
 * which has no idempotence, with acks=all and no retries) to a topic of
 * replication factor 3 and `min.insync.replicas=2`, Eddy's transactional producer commits transactions, Eddy's
 * reader polls and a consumer group consumes and commits, while the leader of each partition in turn is
 * SIGKILLed and restarted (`CLUSTER_KILL_ROUNDS`, 10 by default). Afterwards the Jepsen-style checker must find
 * no anomaly in the history (no acknowledged send lost, no duplicate, no aborted or torn transaction read), and the
 * group must have committed up to the end of every partition.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Either, Fiber, Schedule } from "effect"
import * as Admin from "../../src/client/Admin.js"
import * as Consumer from "../../src/client/Consumer.js"
import * as Fetcher from "../../src/client/Fetcher.js"
import * as Producer from "../../src/client/Producer.js"
import * as Topic from "../../src/client/Topic.js"
import * as HistoryChecker from "../../src/testing/HistoryChecker.js"
import { hasEtcd, startEtcd } from "../broker/etcdServer.js"
import { brokerArgs } from "./brokerArgs.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const built = fs.existsSync(path.join(here, "..", "..", "..", "cli", "dist", "main.js"))
const fixtures = path.join(here, "fixtures")
const python = "/usr/bin/python3"
/** Whether Debian's python3 can import `module`. */
const pythonHas = (module: string) =>
  new Promise<boolean>((resolve) => {
    if (!fs.existsSync(python)) return resolve(false)
    const p = spawn(python, ["-c", `import ${module}`], { stdio: "ignore" })
    p.on("exit", (code) => resolve(code === 0))
    p.on("error", () => resolve(false))
  })
const hasConfluent = await pythonHas("confluent_kafka")
const hasKafkaPython = await pythonHas("kafka")
const hasKcat = await new Promise<boolean>((resolve) => {
  const p = spawn("kcat", ["-V"], { stdio: "ignore" })
  p.on("exit", (code) => resolve(code === 0))
  p.on("error", () => resolve(false))
})
const ROUNDS = Number(process.env.CLUSTER_KILL_ROUNDS ?? 10)
const TOPIC = "ha"
const TXN_TOPIC = "ha-txn"
const PARTITIONS = 3

if (!hasEtcd)
  console.warn("NOTE: etcd is not installed (apt-get install etcd-server): the cluster kill test is skipped")
if (!built) console.warn("NOTE: packages/cli is not built (npm run build): the cluster kill test is skipped")
if (!hasConfluent) console.warn("NOTE: python3-confluent-kafka is missing: the cluster kill test runs without it")
if (!hasKafkaPython) console.warn("NOTE: python3-kafka is missing: the cluster kill test runs without kafka-python")
if (!hasKcat) console.warn("NOTE: kcat is missing: the cluster kill test runs without it")

const freePort = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as net.AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** A child process with its output kept and its exit awaited. */
interface Child {
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
  readonly output: () => string
}

const children: Array<ChildProcess> = []
const start = (command: string, args: ReadonlyArray<string>, cwd?: string): Child => {
  const child = spawn(command, args, { cwd, stdio: ["pipe", "pipe", "pipe"] })
  children.push(child)
  let output = ""
  child.stdout!.on("data", (d) => (output += d))
  child.stderr!.on("data", (d) => (output += d))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return { child, exited, output: () => output }
}

const eventually = <A, E>(check: Effect.Effect<A | undefined, E>, what: string, timeoutMs = 30_000) =>
  check.pipe(
    Effect.flatMap((a) => (a === undefined ? Effect.fail("not yet" as const) : Effect.succeed(a))),
    Effect.retry(Schedule.spaced(Duration.millis(100))),
    Effect.timeoutFail({ duration: Duration.millis(timeoutMs), onTimeout: () => new Error(`timed out: ${what}`) }),
    Effect.orDie
  )

/** One line of a sender fixture. */
interface SendLine {
  readonly v: string
  readonly p: number
  /** The acknowledged offset; null when the client acknowledged the send without one (see {@link sendOps}). */
  readonly o?: number | null
  readonly err?: string
  readonly t0: number
  readonly t1: number
}

const parseLines = (output: string): Array<SendLine> =>
  output
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as SendLine)

/**
 * A sender's lines as history operations. librdkafka acknowledges some sends without an offset (a send whose own
 * answer was lost is implied delivered once a later send of the same idempotent producer is acknowledged): such a
 * send is acknowledged with its offset unknown, and the checker still finds it in the final reads.
 */
const sendOps = (lines: ReadonlyArray<SendLine>, process: number): Array<Omit<HistoryChecker.Operation, "index">> =>
  lines.map((l) => ({
    process,
    f: "send",
    type: l.o !== undefined ? "ok" : "info",
    invokedAt: l.t0,
    completedAt: l.t1,
    mops: [
      typeof l.o === "number"
        ? { _tag: "Send", key: `${TOPIC}-${l.p}`, value: l.v, offset: l.o }
        : { _tag: "Send", key: `${TOPIC}-${l.p}`, value: l.v }
    ]
  }))

/** Adds a fetched record to a poll's `key -> [offset, value]` lists. */
const addRecord = (
  records: Record<string, Array<readonly [number, string]>>,
  topic: string,
  r: { readonly partition: number; readonly offset: number; readonly value: Uint8Array | null }
) => {
  const key = `${topic}-${r.partition}`
  const list = records[key] ?? []
  list.push([r.offset, decode(r.value)])
  records[key] = list
}

const text = new TextEncoder()
/** A final-read key (`topic-partition`) of the topic the group consumes (not of `ha-txn`, which also starts with `ha-`). */
const isGroupPartition = (key: string) => new RegExp(`^${TOPIC}-\\d+$`).test(key)
const decode = (b: Uint8Array | null) => (b === null ? "" : new TextDecoder().decode(b))

describe.skipIf(!hasEtcd || !built)("a three-broker cluster with etcd, leaders SIGKILLed in turn", () => {
  it.scopedLive(
    `${ROUNDS} rounds: no acknowledged record lost, no duplicate, transactions whole, the group keeps working`,
    () =>
      Effect.gen(function* () {
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL")
          })
        )
        const etcd = yield* startEtcd
        const root = yield* Effect.acquireRelease(
          Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "eddy-cluster-"))),
          (d) => Effect.sync(() => fs.rmSync(d, { recursive: true, force: true }))
        )
        const ids = [1, 2, 3]
        const ports = new Map<number, number>()
        for (const id of ids) ports.set(id, yield* freePort)
        const bootstrap = ids.map((id) => `127.0.0.1:${ports.get(id)}`).join(",")
        const nodes = new Map<number, Child>()
        const startNode = (id: number) =>
          Effect.gen(function* () {
            const node = start(
              process.execPath,
              brokerArgs({
                id,
                port: ports.get(id)!,
                dataDir: path.join(root, `node-${id}`),
                etcdUrl: etcd.url,
                clusterId: "cluster-kill-test",
                logLevel: process.env.CLUSTER_KILL_LOG_LEVEL ?? "warning",
                settings: {
                  "broker.session.timeout.ms": "2000",
                  "replica.lag.time.max.ms": "3000",
                  "default.replication.factor": "3",
                  "min.insync.replicas": "2",
                  "offsets.topic.replication.factor": "3",
                  "transaction.state.log.replication.factor": "3",
                  "transaction.state.log.min.isr": "2",
                  "num.partitions": "3"
                }
              })
            )
            nodes.set(id, node)
            brokerOutputs.push({ id, node })
            const port = ports.get(id)!
            yield* eventually(
              Effect.async<boolean | undefined>((resume) => {
                const s = net.connect({ host: "127.0.0.1", port }, () => {
                  s.destroy()
                  resume(Effect.succeed(true))
                })
                s.on("error", () => resume(Effect.succeed(undefined)))
              }),
              `broker ${id} listening`
            ).pipe(Effect.tapDefect(() => Effect.sync(() => console.log(node.output()))))
          })
        const brokerOutputs: Array<{ readonly id: number; readonly node: Child }> = []
        for (const id of ids) yield* startNode(id)

        const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
        yield* eventually(
          Effect.map(admin.describeCluster(), (c) => (c.brokers.length === 3 ? true : undefined)),
          "three live brokers"
        )
        yield* admin.createTopics([
          { name: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3 },
          { name: TXN_TOPIC, numPartitions: 1, replicationFactor: 3 }
        ])
        const describe = (topic: string) =>
          Effect.map(admin.describeTopics([topic]), (ts) => ts[0]!.partitions).pipe(
            Effect.catchAll(() => Effect.succeed(undefined))
          )
        const allInSync = Effect.gen(function* () {
          for (const t of [TOPIC, TXN_TOPIC]) {
            const ps = yield* describe(t)
            if (ps === undefined || ps.some((p) => p.leader < 0 || p.isr.length < 3)) return undefined
          }
          return true
        })
        yield* eventually(allInSync, "every replica in sync")

        const history: Array<Omit<HistoryChecker.Operation, "index">> = []
        const record = (op: Omit<HistoryChecker.Operation, "index">) => Effect.sync(() => history.push(op))
        const now = Effect.sync(() => Date.now())

        // the senders: kafkajs and librdkafka run through every round; kcat sends a burst each round
        // a long-running sender: `<fixture> <bootstrap> <topic> <prefix> <count> <partitions>`, one JSON line per send
        const sender = (command: string, runtimeArgs: ReadonlyArray<string>, fixture: string, prefix: string) =>
          start(command, [
            ...runtimeArgs,
            path.join(fixtures, fixture),
            bootstrap,
            TOPIC,
            prefix,
            "100000",
            String(PARTITIONS)
          ])
        const kafkajs = sender(process.execPath, ["--import", "tsx"], "kafkajsSender.ts", "kj")
        const confluent = hasConfluent ? sender(python, [], "confluentSender.py", "cf") : undefined
        const kafkaPython = hasKafkaPython ? sender(python, [], "kafkaPythonSender.py", "kp") : undefined
        const kcatRuns: Array<{
          readonly child: Child
          readonly values: Array<string>
          readonly t0: number
          readonly p: number
        }> = []
        const kcatBurst = (round: number) =>
          Effect.sync(() => {
            if (!hasKcat) return
            const p = round % PARTITIONS
            const values = Array.from({ length: 20 }, (_, i) => `kc-${round}-${i}`)
            const child = start("kcat", [
              "-P",
              "-b",
              bootstrap,
              "-t",
              TOPIC,
              "-p",
              String(p),
              "-X",
              "enable.idempotence=true",
              "-X",
              "acks=all",
              "-X",
              "message.timeout.ms=30000",
              "-v",
              "-v"
            ])
            child.child.stdin!.end(`${values.join("\n")}\n`)
            kcatRuns.push({ child, values, t0: Date.now(), p })
          })

        // Eddy's transactional producer: transactions of 3 records, each whole or not at all
        const txnProducer = yield* Producer.make({
          "bootstrap.servers": bootstrap,
          "transactional.id": "ha-txn-producer",
          "transaction.timeout.ms": 20000,
          "delivery.timeout.ms": 20000,
          "request.timeout.ms": 5000
        } as Producer.ProducerConfig)
        let stopping = false
        const txns = Effect.gen(function* () {
          for (let n = 0; !stopping; n++) {
            const values = [0, 1, 2].map((i) => `tx-${n}-${i}`)
            const invokedAt = yield* now
            const sent = yield* Effect.either(
              txnProducer
                .transaction(
                  Effect.forEach(values, (v) =>
                    txnProducer.send(TXN_TOPIC, { partition: 0, key: null, value: text.encode(v) })
                  )
                )
                .pipe(Effect.timeout("30 seconds"))
            )
            const completedAt = yield* now
            yield* record({
              process: 10,
              f: "txn",
              type: Either.isRight(sent) ? "ok" : "info",
              invokedAt,
              completedAt,
              mops: values.map((v, i) =>
                Either.isRight(sent)
                  ? { _tag: "Send" as const, key: `${TXN_TOPIC}-0`, value: v, offset: sent.right[i]!.offset }
                  : { _tag: "Send" as const, key: `${TXN_TOPIC}-0`, value: v }
              )
            })
            if (Either.isLeft(sent)) yield* Effect.sleep("200 millis")
          }
        })
        const txnFiber = yield* Effect.fork(txns)

        // a group member consuming and committing all along
        const consumed = new Set<string>()
        const groupFiber = yield* Effect.fork(
          Effect.scoped(
            Effect.gen(function* () {
              const consumer = yield* Consumer.make({
                "bootstrap.servers": bootstrap,
                "group.id": "ha-group",
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 10000,
                "heartbeat.interval.ms": 500
              } as Consumer.ConsumerConfig)
              return yield* consumer.forEach([Topic.raw(TOPIC)], (r) =>
                Effect.sync(() => consumed.add(decode(r.value as Uint8Array | null)))
              )
            })
          ).pipe(Effect.catchAllCause((c) => Effect.logWarning("group member stopped", c)))
        )

        // Eddy's reader polling the topic all along (assign mode)
        const reader = (process: number, topic: string, partitions: number) =>
          Effect.gen(function* () {
            const fetcher = yield* Fetcher.make({
              "bootstrap.servers": bootstrap,
              "isolation.level": "read_committed"
            } as Fetcher.FetcherConfig)
            let positions = new Map<number, number>(Array.from({ length: partitions }, (_, p) => [p, 0] as const))
            for (;;) {
              const invokedAt = yield* now
              const round = yield* Effect.either(fetcher.fetchOnce(Topic.raw(topic), positions))
              if (Either.isLeft(round)) {
                yield* record({ process, f: "crash", type: "info", invokedAt, completedAt: yield* now, mops: [] })
                yield* Effect.sleep("100 millis")
                continue
              }
              const records: Record<string, Array<readonly [number, string]>> = {}
              for (const r of round.right.records) addRecord(records, topic, r)
              positions = new Map(round.right.positions)
              yield* record({
                process,
                f: "poll",
                type: "ok",
                invokedAt,
                completedAt: yield* now,
                mops: [{ _tag: "Poll", records }]
              })
            }
          }).pipe(Effect.scoped)
        const readerFiber = yield* Effect.fork(reader(20, TOPIC, PARTITIONS))
        const txnReaderFiber = yield* Effect.fork(reader(21, TXN_TOPIC, 1))

        const senderList = () =>
          (
            [
              ["kafkajs", kafkajs],
              ["librdkafka", confluent],
              ["kafka-python", kafkaPython]
            ] as const
          ).flatMap(([name, sender]) => (sender === undefined ? [] : [[name, sender] as const]))
        // every long-running sender is under way before the first kill
        const acknowledged = (sender: Child, after: number) =>
          parseLines(sender.output()).some((l) => typeof l.o === "number" && l.t1 > after)
        for (const [name, sender] of senderList()) {
          yield* eventually(
            Effect.sync(() => (acknowledged(sender, 0) ? true : undefined)),
            `${name} has a first send acknowledged`,
            60_000
          ).pipe(
            Effect.tapDefect(() => Effect.sync(() => console.log(`${name}'s output:\n${sender.output().slice(-4000)}`)))
          )
        }

        // the rounds: SIGKILL the leader of partition `round % 3`, wait for a new leader, restart, wait for the ISR
        const failovers: Array<number> = []
        let lastKilledAt = 0
        for (let round = 0; round < ROUNDS; round++) {
          yield* kcatBurst(round)
          yield* Effect.sleep("500 millis")
          const p = round % PARTITIONS
          const before = (yield* eventually(describe(TOPIC), "metadata"))[p]!
          const victim = nodes.get(before.leader)!
          const killedAt = Date.now()
          lastKilledAt = killedAt
          victim.child.kill("SIGKILL")
          yield* Effect.promise(() => victim.exited)
          const after = yield* eventually(
            Effect.map(describe(TOPIC), (ps) => {
              const q = ps?.[p]
              return q !== undefined &&
                q.leader >= 0 &&
                q.leader !== before.leader &&
                q.leaderEpoch > before.leaderEpoch
                ? q
                : undefined
            }),
            `a new leader of ${TOPIC}-${p} after broker ${before.leader} was killed`
          )
          failovers.push(Date.now() - killedAt)
          console.log(
            `round ${round}: killed broker ${before.leader} (leader of ${TOPIC}-${p}, epoch ${before.leaderEpoch}); ` +
              `broker ${after.leader} leads epoch ${after.leaderEpoch} after ${Date.now() - killedAt} ms`
          )
          yield* startNode(before.leader)
          yield* eventually(allInSync, `every replica back in sync after round ${round}`, 60_000)
        }

        // every long-running client followed the leader changes: it gets sends acknowledged after the last kill
        for (const [name, sender] of senderList()) {
          yield* eventually(
            Effect.sync(() => (acknowledged(sender, lastKilledAt) ? true : undefined)),
            `${name} has a send acknowledged after the last kill`,
            60_000
          ).pipe(
            Effect.tapDefect(() =>
              Effect.sync(() => console.log(`${name}'s last output:\n${sender.output().slice(-4000)}`))
            )
          )
        }
        console.log("rounds done; stopping the senders")
        // stop the senders, let the last sends complete
        stopping = true
        kafkajs.child.kill("SIGTERM")
        confluent?.child.kill("SIGTERM")
        kafkaPython?.child.kill("SIGTERM")
        yield* Effect.promise(() =>
          Promise.all([kafkajs.exited, confluent?.exited, kafkaPython?.exited, ...kcatRuns.map((k) => k.child.exited)])
        )
        yield* Fiber.join(txnFiber).pipe(Effect.timeout("60 seconds"), Effect.ignore)
        yield* Fiber.interrupt(readerFiber)
        yield* Fiber.interrupt(txnReaderFiber)

        console.log("senders stopped; final reads")
        for (const op of sendOps(parseLines(kafkajs.output()), 1)) history.push(op)
        if (confluent) for (const op of sendOps(parseLines(confluent.output()), 2)) history.push(op)
        if (kafkaPython) for (const op of sendOps(parseLines(kafkaPython.output()), 3)) history.push(op)
        kcatRuns.forEach((run, i) => {
          // kcat reports deliveries of one partition in order: the n-th report is the n-th value
          const reports = run.child
            .output()
            .split("\n")
            .filter((l) => /Message delivered|Delivery failed/.test(l))
          run.values.forEach((v, n) => {
            const m = /Message delivered to partition \d+ \(offset (\d+)\)/.exec(reports[n] ?? "")
            history.push({
              process: 100 + i,
              f: "send",
              type: m ? "ok" : "info",
              invokedAt: run.t0,
              completedAt: Date.now(),
              mops: [
                m
                  ? { _tag: "Send", key: `${TOPIC}-${run.p}`, value: v, offset: Number(m[1]) }
                  : { _tag: "Send", key: `${TOPIC}-${run.p}`, value: v }
              ]
            })
          })
        })

        // final reads after healing: every partition from the start to its end
        const finalRead = (topic: string, partitions: number) =>
          Effect.gen(function* () {
            const fetcher = yield* Fetcher.make({
              "bootstrap.servers": bootstrap,
              "isolation.level": "read_committed"
            } as Fetcher.FetcherConfig)
            let positions = new Map<number, number>(Array.from({ length: partitions }, (_, p) => [p, 0] as const))
            const records: Record<string, Array<readonly [number, string]>> = {}
            const deadline = Date.now() + 60_000
            for (;;) {
              const round = yield* fetcher.fetchOnce(Topic.raw(topic), positions)
              for (const r of round.records) addRecord(records, topic, r)
              positions = new Map(round.positions)
              // read_committed stops at the last stable offset: an open transaction must end (commit or abort)
              if ([...positions].every(([q, o]) => o >= (round.highWatermarks.get(q) ?? 0))) return records
              if (Date.now() > deadline)
                assert.fail(
                  `the final read of ${topic} is stuck at ${JSON.stringify([...positions])}, high watermarks ` +
                    JSON.stringify([...round.highWatermarks])
                )
            }
          }).pipe(Effect.scoped)
        const invokedAt = Date.now()
        const finals = { ...(yield* finalRead(TOPIC, PARTITIONS)), ...(yield* finalRead(TXN_TOPIC, 1)) }
        history.push({ process: 200, f: "assign", type: "ok", invokedAt, completedAt: Date.now(), mops: [] })
        history.push({
          process: 200,
          f: "poll",
          type: "ok",
          invokedAt,
          completedAt: Date.now(),
          mops: [{ _tag: "Poll", records: finals }]
        })

        console.log("final reads done; checking")
        const ordered = history
          .slice()
          .sort((a, b) => a.completedAt - b.completedAt)
          .map((op, index) => ({ ...op, index }))
        const report = HistoryChecker.check(ordered, { finalReads: true })
        console.log(`cluster kill history: ${HistoryChecker.summary(report)}; fail-overs (ms): ${failovers.join(", ")}`)
        if (!report.valid) {
          // the evidence for a failed check: the history, the anomalies and every sender's own output
          const file = path.join(os.tmpdir(), `cluster-kill-${Date.now()}.json`)
          fs.writeFileSync(
            file,
            JSON.stringify({
              anomalies: report.anomalies,
              history: ordered,
              kcat: kcatRuns.map((k) => k.child.output()),
              kafkajs: kafkajs.output(),
              confluent: confluent?.output(),
              kafkaPython: kafkaPython?.output(),
              brokers: brokerOutputs.map(({ id, node }) => ({ id, output: node.output() }))
            })
          )
          console.log(`cluster kill evidence in ${file}`)
        }
        assert.isTrue(report.valid, HistoryChecker.summary(report))
        assert.isAbove(report.stats.acknowledged, ROUNDS * 20)

        // the group carried on: it consumed every value read back in the end
        const everything = Object.entries(finals)
          .filter(([k]) => isGroupPartition(k))
          .flatMap(([, rs]) => rs.map(([, v]) => v))
        assert.isAbove(everything.length, ROUNDS * 20)
        yield* eventually(
          Effect.sync(() => (everything.every((v) => consumed.has(v)) ? true : undefined)),
          "the group consumed everything",
          60_000
        ).pipe(
          Effect.tapDefect(() =>
            Effect.gen(function* () {
              const missing = Object.entries(finals)
                .filter(([k]) => isGroupPartition(k))
                .map(([k, rs]) => [k, rs.filter(([, v]) => !consumed.has(v))] as const)
              for (const [k, rs] of missing)
                console.log(`${k}: ${rs.length} not consumed, first ${JSON.stringify(rs.slice(0, 3))}`)
              console.log(`consumed ${consumed.size} values`)
              const group = yield* Effect.either(admin.describeGroups(["ha-group"]))
              console.log("group", JSON.stringify(group))
              const offsets = yield* Effect.either(admin.listGroupOffsets("ha-group"))
              console.log("committed", JSON.stringify(offsets))
            })
          )
        )
        // and it committed up to the end of every partition
        const ends = new Map(
          Object.entries(finals)
            .filter(([k]) => isGroupPartition(k))
            .map(([k, rs]) => [Number(k.slice(TOPIC.length + 1)), Math.max(...rs.map(([o]) => o)) + 1] as const)
        )
        yield* eventually(
          Effect.map(admin.listGroupOffsets("ha-group", [TOPIC]), (offsets) =>
            [...ends].every(([p, end]) => offsets.some((o) => o.partition === p && o.offset >= end)) ? true : undefined
          ).pipe(Effect.catchAll(() => Effect.succeed(undefined))),
          "the group committed the end of every partition",
          30_000
        )
        yield* Fiber.interrupt(groupFiber)
      }),
    Math.max(300_000, ROUNDS * 40_000)
  )
})
