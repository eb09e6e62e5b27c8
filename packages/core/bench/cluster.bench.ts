/**
 * The replicated cluster: three `eddy broker` processes and etcd on loopback (this process only generates load).
 *
 * - produce throughput with kafkajs (batches of 1000 x 1 KiB messages, 4 sends in flight, acks=all) to a topic of
 *   replication factor 3 against one of replication factor 1 on the same brokers, in the same run;
 *   goal: RF3 >= 0.5x RF1;
 * - fail-over time: from a SIGKILL of a partition's leader to the first acknowledged acks=all produce to that
 *   partition (a kafkajs producer sending one record every 5 ms), 3 times, stated against the broker session
 *   timeout (the metadata store's lease TTL, after which the controller sees the broker gone) and
 *   `replica.lag.time.max.ms`.
 * Needs the built CLI (`npm run build`) and etcd (`apt-get install etcd-server`); prints a note and skips otherwise.
 */
import * as child from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Exit, Scope } from "effect"
import { Kafka, logLevel } from "kafkajs"
import { hasEtcd, startEtcd } from "../test/broker/etcdServer.js"
import { brokerArgs } from "../test/cluster/brokerArgs.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const built = fs.existsSync(path.join(here, "..", "..", "cli", "dist", "main.js"))
const SESSION_TIMEOUT_MS = 2000
const LAG_TIME_MAX_MS = 3000
const MiB = 1 << 20

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

const listening = async (port: number, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => {
        s.destroy()
        resolve(true)
      })
      s.on("error", () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`broker on ${port} did not start`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const fmt = (n: number) => n.toFixed(n >= 100 ? 0 : n >= 10 ? 1 : 2)

export const run = async (): Promise<void> => {
  if (!hasEtcd || !built) {
    console.log("NOTE: the cluster bench needs etcd (apt-get install etcd-server) and the built CLI (npm run build)")
    return
  }
  const scope = Effect.runSync(Scope.make())
  const procs = new Map<number, child.ChildProcess>()
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "eddy-cluster-bench-"))
  try {
    const etcd = await Effect.runPromise(Scope.extend(startEtcd, scope))
    const ids = [1, 2, 3]
    const ports = new Map<number, number>()
    for (const id of ids) ports.set(id, await freePort())
    const startNode = async (id: number) => {
      const proc = child.spawn(
        process.execPath,
        brokerArgs({
          id,
          port: ports.get(id)!,
          dataDir: path.join(root, `node-${id}`),
          etcdUrl: etcd.url,
          clusterId: "cluster-bench",
          logLevel:
            process.env.EDDY_BENCH_VERBOSE === "debug" ? "debug" : process.env.EDDY_BENCH_VERBOSE ? "info" : "error",
          settings: {
            "broker.session.timeout.ms": String(SESSION_TIMEOUT_MS),
            "replica.lag.time.max.ms": String(LAG_TIME_MAX_MS),
            "offsets.topic.replication.factor": "3"
          }
        }),
        process.env.EDDY_BENCH_VERBOSE
          ? { stdio: ["ignore", fs.openSync(path.join(root, `broker-${id}.log`), "a"), "inherit"] }
          : { stdio: "ignore" }
      )
      procs.set(id, proc)
      await listening(ports.get(id)!)
    }
    for (const id of ids) await startNode(id)
    const brokers = ids.map((id) => `127.0.0.1:${ports.get(id)}`)
    const kafka = new Kafka({
      clientId: "cluster-bench",
      brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 20, initialRetryTime: 50, maxRetryTime: 500 }
    })
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: "rf1", numPartitions: 4, replicationFactor: 1 },
        {
          topic: "rf3",
          numPartitions: 4,
          replicationFactor: 3,
          configEntries: [{ name: "min.insync.replicas", value: "2" }]
        },
        {
          topic: "failover",
          numPartitions: 1,
          replicationFactor: 3,
          configEntries: [{ name: "min.insync.replicas", value: "2" }]
        }
      ]
    })

    // throughput, RF1 then RF3 then RF1 again (the machine warms up), the better RF1 is the baseline
    const producer = kafka.producer({ allowAutoTopicCreation: false })
    await producer.connect()
    const value = Buffer.alloc(1024, 0x62)
    const messages = Array.from({ length: 1000 }, (_, i) => ({ value, partition: i % 4 }))
    const throughput = async (topic: string, sends: number) => {
      const t0 = performance.now()
      let next = 0
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next++ < sends) await producer.send({ topic, acks: -1, messages })
        })
      )
      return (sends * 1000 * 1024) / MiB / ((performance.now() - t0) / 1000)
    }
    const sends = Number(process.env.EDDY_BENCH_CLUSTER_SENDS ?? 100)
    await throughput("rf1", 10)
    const rf1a = await throughput("rf1", sends)
    const rf3 = await throughput("rf3", sends)
    const rf1b = await throughput("rf1", sends)
    const rf1 = Math.max(rf1a, rf1b)
    console.log("| produce, kafkajs, 1 KiB, acks=all | MiB/s | ratio to RF1 |")
    console.log("| --- | --- | --- |")
    console.log(`| replication factor 1 (baseline) | ${fmt(rf1)} | 1.00x |`)
    console.log(
      `| replication factor 3, min.insync.replicas=2 | ${fmt(rf3)} | ${(rf3 / rf1).toFixed(2)}x (goal >= 0.5x) |`
    )

    await producer.disconnect()

    // fail-over: kill the leader of `failover-0` while a producer sends one record every 5 ms. The producer is a
    // fresh one that only ever targets `failover`: kafkajs refreshes metadata for every topic a producer has sent to
    // and fails the whole refresh on any partition error, and the replication-factor-1 partitions the kill takes
    // offline rightly answer LEADER_NOT_AVAILABLE (as Kafka's do) until their broker is back.
    const failoverProducer = kafka.producer({ allowAutoTopicCreation: false })
    await failoverProducer.connect()
    const times: Array<number> = []
    for (let round = 0; round < 3; round++) {
      const meta = await admin.fetchTopicMetadata({ topics: ["failover"] })
      const leader = meta.topics[0]!.partitions[0]!.leader
      if (process.env.EDDY_BENCH_VERBOSE) console.log("killing", leader, JSON.stringify(meta.topics[0]!.partitions[0]))
      let stop = false
      let acknowledgedAfterKill = 0
      let killedAt = 0
      const sender = (async () => {
        while (!stop) {
          try {
            await failoverProducer.send({ topic: "failover", acks: -1, messages: [{ value: "x", partition: 0 }] })
            if (killedAt > 0 && acknowledgedAfterKill === 0) acknowledgedAfterKill = Date.now()
          } catch (e) {
            // retried by the next loop
            if (process.env.EDDY_BENCH_VERBOSE) console.log(Date.now() - killedAt, String(e))
          }
          await new Promise((r) => setTimeout(r, 5))
        }
      })()
      await new Promise((r) => setTimeout(r, 500))
      killedAt = Date.now()
      procs.get(leader)!.kill("SIGKILL")
      while (acknowledgedAfterKill === 0 && Date.now() - killedAt < 60_000) await new Promise((r) => setTimeout(r, 10))
      stop = true
      await sender
      // no acknowledged produce within 60 s counts as a fail-over that did not happen (printed as "> 60000")
      times.push(acknowledgedAfterKill === 0 ? Number.POSITIVE_INFINITY : acknowledgedAfterKill - killedAt)
      await startNode(leader)
      // the restarted broker catches up before the next round
      for (;;) {
        const m = await admin.fetchTopicMetadata({ topics: ["failover"] })
        if (m.topics[0]!.partitions[0]!.isr.length === 3) break
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    await failoverProducer.disconnect()
    await admin.disconnect()
    const sorted = [...times].sort((a, b) => a - b)
    console.log("")
    console.log("| fail-over (SIGKILL of the leader -> first acknowledged acks=all produce) | ms |")
    console.log("| --- | --- |")
    const ms = (t: number) => (Number.isFinite(t) ? String(t) : "> 60000")
    console.log(`| runs | ${times.map(ms).join(", ")} |`)
    console.log(`| median | ${ms(sorted[1]!)} |`)
    console.log(
      `| median / broker.session.timeout.ms (${SESSION_TIMEOUT_MS}, the lease TTL) | ${(sorted[1]! / SESSION_TIMEOUT_MS).toFixed(2)}x |`
    )
    console.log(`| replica.lag.time.max.ms | ${LAG_TIME_MAX_MS} |`)
  } finally {
    for (const p of procs.values()) if (p.exitCode === null) p.kill("SIGKILL")
    await Effect.runPromise(Scope.close(scope, Exit.void))
    if (process.env.EDDY_BENCH_VERBOSE) console.log(`broker logs kept in ${root}`)
    else fs.rmSync(root, { recursive: true, force: true })
  }
}
