import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Admin from "../../src/client/Admin.js"
import * as ElectLeaders from "../../src/protocol/generated/ElectLeaders.js"
import { ErrorCode } from "../../src/protocol/generated/ErrorCode.js"
import { startEddy } from "../client/util.js"
import { connect } from "./util.js"

const codes = (results: ReadonlyArray<Admin.PartitionResult>) =>
  results.map((r) => [`${r.topic}-${r.partition}`, r.error?.errorCode ?? 0] as const)

describe("ElectLeaders, AlterPartitionReassignments and ListPartitionReassignments on one broker", () => {
  it.scopedLive(
    "the only replica already leads: ELECTION_NOT_NEEDED; unknown partitions: UNKNOWN_TOPIC_OR_PARTITION",
    () =>
      Effect.gen(function* () {
        const { bootstrap, port } = yield* startEddy()
        const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
        yield* admin.createTopics([{ name: "t", numPartitions: 2, replicationFactor: 1 }])
        for (const type of ["preferred", "unclean"] as const) {
          const results = yield* admin.electLeaders(type, [
            { topic: "t", partition: 0 },
            { topic: "t", partition: 1 },
            { topic: "t", partition: 2 },
            { topic: "missing", partition: 0 }
          ])
          assert.deepStrictEqual(codes(results), [
            ["t-0", ErrorCode.ELECTION_NOT_NEEDED],
            ["t-1", ErrorCode.ELECTION_NOT_NEEDED],
            ["t-2", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
            ["missing-0", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]
          ])
        }
        // every partition: only those that needed an election are answered
        assert.deepStrictEqual(yield* admin.electLeaders("preferred"), [])
        // every version on the wire, and an unknown election type
        const raw = yield* connect(port)
        for (let v = 0; v <= 2; v++) {
          const res = yield* raw.send(
            ElectLeaders.apiKey,
            v,
            ElectLeaders.makeElectLeadersRequest({
              electionType: 0,
              topicPartitions: [{ topic: "t", partitions: [0] }],
              timeoutMs: 1000
            })
          )
          assert.strictEqual(
            res.replicaElectionResults[0]!.partitionResult[0]!.errorCode,
            ErrorCode.ELECTION_NOT_NEEDED
          )
        }
        const bad = yield* raw.send(
          ElectLeaders.apiKey,
          2,
          ElectLeaders.makeElectLeadersRequest({ electionType: 7, topicPartitions: null, timeoutMs: 1000 })
        )
        assert.strictEqual(bad.errorCode, ErrorCode.INVALID_REQUEST)
      })
  )

  it.scopedLive(
    "a reassignment to this broker completes at once; other brokers are refused; nothing is in progress",
    () =>
      Effect.gen(function* () {
        const { bootstrap, broker } = yield* startEddy()
        const self = broker.nodeId
        const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
        yield* admin.createTopics([{ name: "r", numPartitions: 1, replicationFactor: 1 }])
        const results = yield* admin.alterPartitionReassignments([
          { topic: "r", partition: 0, replicas: [self] },
          { topic: "r", partition: 0, replicas: [self, self + 1] },
          { topic: "r", partition: 0, replicas: [self, self] },
          { topic: "r", partition: 0, replicas: [] },
          { topic: "r", partition: 0, replicas: null },
          { topic: "r", partition: 5, replicas: [self] }
        ])
        assert.deepStrictEqual(codes(results), [
          ["r-0", 0],
          ["r-0", ErrorCode.INVALID_REPLICA_ASSIGNMENT],
          ["r-0", ErrorCode.INVALID_REPLICA_ASSIGNMENT],
          ["r-0", ErrorCode.INVALID_REPLICA_ASSIGNMENT],
          ["r-0", ErrorCode.NO_REASSIGNMENT_IN_PROGRESS],
          ["r-5", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]
        ])
        assert.include(results[1]!.error!.message, `Broker ${self + 1} cannot hold a replica`)
        assert.deepStrictEqual(yield* admin.listPartitionReassignments(), [])
        assert.deepStrictEqual(yield* admin.listPartitionReassignments([{ topic: "r", partition: 0 }]), [])
      })
  )
})
