/**
 * Golden bytes for the generated codecs, written out by hand from the Kafka protocol guide and the JSON schemas
 * (one line per field). Each case checks encode(value) == bytes and decode(bytes) == value.
 */
import { assert, describe, it } from "@effect/vitest"
import * as ApiVersions from "../../src/protocol/generated/ApiVersions.js"
import * as Fetch from "../../src/protocol/generated/Fetch.js"
import * as JoinGroup from "../../src/protocol/generated/JoinGroup.js"
import * as Metadata from "../../src/protocol/generated/Metadata.js"
import * as Produce from "../../src/protocol/generated/Produce.js"
import { isProtocolError } from "../../src/protocol/ProtocolError.js"
import { Reader } from "../../src/protocol/Reader.js"
import { Writer } from "../../src/protocol/Writer.js"

/** Hex (whitespace ignored) to a plain Uint8Array. */
const bytes = (...parts: Array<string>): Uint8Array =>
  Uint8Array.from(Buffer.from(parts.join("").replace(/\s+/g, ""), "hex"))
/** The hex of an ASCII string's bytes (lengths are written by hand next to it). */
const ascii = (s: string): string => Buffer.from(s, "ascii").toString("hex")
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex")

const golden = <T>(
  encode: (w: Writer, v: T, version: number) => void,
  decode: (r: Reader, version: number) => T,
  version: number,
  value: T,
  expected: Uint8Array
): void => {
  const w = new Writer(8)
  encode(w, value, version)
  assert.strictEqual(hex(w.finish()), hex(expected))
  const r = new Reader(expected)
  assert.deepStrictEqual(decode(r, version), value)
  assert.strictEqual(r.remaining, 0)
}

const throwsProtocolError = (f: () => unknown): void => {
  try {
    f()
  } catch (e) {
    assert.isTrue(isProtocolError(e), `expected a ProtocolError, got ${String(e)}`)
    return
  }
  assert.fail("expected a ProtocolError")
}

describe("ApiVersions golden bytes", () => {
  const { encodeApiVersionsRequest: encReq, decodeApiVersionsRequest: decReq } = ApiVersions
  const { encodeApiVersionsResponse: encRes, decodeApiVersionsResponse: decRes } = ApiVersions

  it("request v0 has an empty body", () => {
    golden(encReq, decReq, 0, ApiVersions.makeApiVersionsRequest(), bytes(""))
  })

  it("request v0 drops the ignorable client software fields", () => {
    const w = new Writer()
    encReq(w, ApiVersions.makeApiVersionsRequest({ clientSoftwareName: "eddy" }), 0)
    assert.strictEqual(w.offset, 0)
  })

  it("request v3 uses compact strings and a tagged-field section", () => {
    golden(
      encReq,
      decReq,
      3,
      ApiVersions.makeApiVersionsRequest({ clientSoftwareName: "eddy", clientSoftwareVersion: "0.1" }),
      bytes(
        `05 ${ascii("eddy")}`, // client_software_name: compact string, uvarint(4 + 1)
        `04 ${ascii("0.1")}`, // client_software_version: uvarint(3 + 1)
        "00" // tagged fields: none
      )
    )
  })

  const apiKeys = [
    ApiVersions.makeApiVersionsResponseApiVersion({ apiKey: 0, minVersion: 0, maxVersion: 11 }),
    ApiVersions.makeApiVersionsResponseApiVersion({ apiKey: 18, minVersion: 0, maxVersion: 4 })
  ]

  it("response v0", () => {
    golden(
      encRes,
      decRes,
      0,
      ApiVersions.makeApiVersionsResponse({ errorCode: 0, apiKeys }),
      bytes(
        "0000", // error_code
        "00000002", // api_keys: int32 count
        "0000 0000 000b", // api_key 0 (Produce), min 0, max 11
        "0012 0000 0004" // api_key 18 (ApiVersions), min 0, max 4
        // no throttle_time_ms before v1
      )
    )
  })

  it("response v3 with tagged supported features and finalized-features epoch", () => {
    golden(
      encRes,
      decRes,
      3,
      ApiVersions.makeApiVersionsResponse({
        errorCode: 35,
        apiKeys,
        throttleTimeMs: 0,
        supportedFeatures: [
          ApiVersions.makeApiVersionsResponseSupportedFeatureKey({
            name: "metadata.version",
            minVersion: 1,
            maxVersion: 20
          })
        ],
        finalizedFeaturesEpoch: 5n
      }),
      bytes(
        "0023", // error_code 35 UNSUPPORTED_VERSION
        "03", // api_keys: compact array, uvarint(2 + 1)
        "0000 0000 000b 00", // Produce 0-11, element tagged fields: none
        "0012 0000 0004 00", // ApiVersions 0-4, element tagged fields: none
        "00000000", // throttle_time_ms
        "02", // tagged fields: 2 (finalized_features [] and zk_migration_ready false are defaults: not written)
        "00", // tag 0: supported_features
        "17", // size 23
        "02", // compact array of 1
        `11 ${ascii("metadata.version")}`, // name: uvarint(16 + 1)
        "0001", // min_version
        "0014", // max_version 20
        "00", // element tagged fields
        "01", // tag 1: finalized_features_epoch
        "08", // size 8
        "0000000000000005" // int64 5
      )
    )
  })

  it("response v3 keeps unknown tagged fields in tag order", () => {
    const expected = bytes(
      "0000", // error_code
      "01", // api_keys: empty compact array
      "00000000", // throttle_time_ms
      "03", // 3 tagged fields
      "01 08 0000000000000007", // tag 1 finalized_features_epoch = 7
      "05 02 abcd", // tag 5: unknown, 2 bytes
      "09 00" // tag 9: unknown, empty
    )
    const decoded = decRes(new Reader(expected), 3)
    assert.strictEqual(decoded.finalizedFeaturesEpoch, 7n)
    assert.deepStrictEqual(decoded._unknownTaggedFields, [
      { tag: 5, data: bytes("abcd") },
      { tag: 9, data: bytes("") }
    ])
    const w = new Writer()
    encRes(w, decoded, 3)
    assert.strictEqual(hex(w.finish()), hex(expected))
  })

  it("a tagged field over 127 bytes gets a two-byte size", () => {
    const supportedFeatures = Array.from({ length: 10 }, (_, i) =>
      ApiVersions.makeApiVersionsResponseSupportedFeatureKey({ name: `feature.0${i}`, minVersion: 0, maxVersion: 1 })
    )
    const w = new Writer(4)
    encRes(w, ApiVersions.makeApiVersionsResponse({ supportedFeatures }), 3)
    const out = w.finish()
    // error_code(2) api_keys(1) throttle(4) count(1) tag(1), then size 161 = 1 + 10 * (1 + 10 + 2 + 2 + 1)
    assert.strictEqual(hex(out.subarray(0, 11)), "0000" + "01" + "00000000" + "01" + "00" + "a101")
    assert.strictEqual(out.length, 11 + 161)
    assert.deepStrictEqual(decRes(new Reader(Uint8Array.from(out)), 3).supportedFeatures, supportedFeatures)
  })
})

describe("Metadata golden bytes", () => {
  const { encodeMetadataRequest: encReq, decodeMetadataRequest: decReq } = Metadata

  it("request v1 with null topics (all topics)", () => {
    golden(encReq, decReq, 1, Metadata.makeMetadataRequest({ topics: null }), bytes("ffffffff")) // topics: int32 -1
  })

  it("request v0 cannot carry null topics", () => {
    throwsProtocolError(() => encReq(new Writer(), Metadata.makeMetadataRequest({ topics: null }), 0))
    throwsProtocolError(() => decReq(new Reader(bytes("ffffffff")), 0))
  })

  it("request v9 (flexible)", () => {
    golden(
      encReq,
      decReq,
      9,
      Metadata.makeMetadataRequest({
        topics: [Metadata.makeMetadataRequestTopic({ name: "t" })],
        allowAutoTopicCreation: true,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false
      }),
      bytes(
        "02", // topics: compact array of 1
        `02 ${ascii("t")}`, // name: compact string (topic_id is v10+)
        "00", // topic tagged fields
        "01", // allow_auto_topic_creation
        "00", // include_cluster_authorized_operations (v8-10)
        "00", // include_topic_authorized_operations
        "00" // tagged fields
      )
    )
  })

  it("request v12 with a topic id and a null name", () => {
    golden(
      encReq,
      decReq,
      12,
      Metadata.makeMetadataRequest({
        topics: [Metadata.makeMetadataRequestTopic({ topicId: bytes("0102030405060708090a0b0c0d0e0f10"), name: null })],
        includeTopicAuthorizedOperations: true
      }),
      bytes(
        "02", // topics: compact array of 1
        "0102030405060708090a0b0c0d0e0f10", // topic_id uuid
        "00", // name: compact nullable string, null
        "00", // topic tagged fields
        "01", // allow_auto_topic_creation (default true)
        // include_cluster_authorized_operations is gone after v10
        "01", // include_topic_authorized_operations
        "00" // tagged fields
      )
    )
  })

  it("request v12 refuses a non-ignorable field the version lacks", () => {
    const v = Metadata.makeMetadataRequest({ includeClusterAuthorizedOperations: true })
    throwsProtocolError(() => encReq(new Writer(), v, 12))
    encReq(new Writer(), v, 10)
  })

  it("response v1", () => {
    golden(
      Metadata.encodeMetadataResponse,
      Metadata.decodeMetadataResponse,
      1,
      Metadata.makeMetadataResponse({
        brokers: [Metadata.makeMetadataResponseBroker({ nodeId: 1, host: "localhost", port: 9092, rack: null })],
        controllerId: 1,
        topics: [
          Metadata.makeMetadataResponseTopic({
            errorCode: 0,
            name: "t",
            isInternal: false,
            partitions: [
              Metadata.makeMetadataResponsePartition({
                errorCode: 0,
                partitionIndex: 0,
                leaderId: 1,
                replicaNodes: [1],
                isrNodes: [1]
              })
            ]
          })
        ]
      }),
      bytes(
        // throttle_time_ms is v3+
        "00000001", // brokers: int32 count 1
        "00000001", // node_id
        `0009 ${ascii("localhost")}`, // host: int16 length 9
        "00002384", // port 9092
        "ffff", // rack: null (v1+)
        // cluster_id is v2+
        "00000001", // controller_id (v1+)
        "00000001", // topics: count 1
        "0000", // error_code
        `0001 ${ascii("t")}`, // name
        "00", // is_internal (v1+)
        "00000001", // partitions: count 1
        "0000", // error_code
        "00000000", // partition_index
        "00000001", // leader_id
        "00000001 00000001", // replica_nodes [1]
        "00000001 00000001" // isr_nodes [1]
      )
    )
  })

  it("response v12 (flexible) with a null cluster id and a topic id", () => {
    golden(
      Metadata.encodeMetadataResponse,
      Metadata.decodeMetadataResponse,
      12,
      Metadata.makeMetadataResponse({
        throttleTimeMs: 0,
        brokers: [Metadata.makeMetadataResponseBroker({ nodeId: 0, host: "h", port: 9092, rack: "r" })],
        clusterId: null,
        controllerId: 0,
        topics: [
          Metadata.makeMetadataResponseTopic({
            errorCode: 3,
            name: "t",
            topicId: bytes("00000000000000000000000000000001"),
            partitions: []
          })
        ]
      }),
      bytes(
        "00000000", // throttle_time_ms
        "02", // brokers: compact array of 1
        "00000000", // node_id
        `02 ${ascii("h")}`, // host
        "00002384", // port
        `02 ${ascii("r")}`, // rack
        "00", // broker tagged fields
        "00", // cluster_id: null
        "00000000", // controller_id
        "02", // topics: compact array of 1
        "0003", // error_code 3
        `02 ${ascii("t")}`, // name
        "00000000000000000000000000000001", // topic_id
        "00", // is_internal
        "01", // partitions: empty
        "80000000", // topic_authorized_operations default -2147483648
        "00", // topic tagged fields
        "00" // tagged fields (cluster_authorized_operations is v8-10 only)
      )
    )
  })
})

describe("Produce golden bytes", () => {
  const { encodeProduceRequest: enc, decodeProduceRequest: dec } = Produce

  it("request v3", () => {
    golden(
      enc,
      dec,
      3,
      Produce.makeProduceRequest({
        transactionalId: null,
        acks: -1,
        timeoutMs: 30000,
        topicData: [
          Produce.makeProduceRequestTopicProduceData({
            name: "t",
            partitionData: [Produce.makeProduceRequestPartitionProduceData({ index: 0, records: bytes("aabbcc") })]
          })
        ]
      }),
      bytes(
        "ffff", // transactional_id: null (int16 -1)
        "ffff", // acks -1
        "00007530", // timeout_ms 30000
        "00000001", // topic_data: count 1
        `0001 ${ascii("t")}`, // name
        "00000001", // partition_data: count 1
        "00000000", // index
        "00000003 aabbcc" // records: int32 length + bytes
      )
    )
  })

  it("request v9 (flexible)", () => {
    golden(
      enc,
      dec,
      9,
      Produce.makeProduceRequest({
        transactionalId: "tx",
        acks: 1,
        timeoutMs: 30000,
        topicData: [
          Produce.makeProduceRequestTopicProduceData({
            name: "t",
            partitionData: [Produce.makeProduceRequestPartitionProduceData({ index: 2, records: bytes("aabbcc") })]
          })
        ]
      }),
      bytes(
        `03 ${ascii("tx")}`, // transactional_id: compact nullable string
        "0001", // acks
        "00007530", // timeout_ms
        "02", // topic_data: compact array of 1
        `02 ${ascii("t")}`, // name
        "02", // partition_data: compact array of 1
        "00000002", // index
        "04 aabbcc", // records: compact bytes, uvarint(3 + 1)
        "00", // partition tagged fields
        "00", // topic tagged fields
        "00" // tagged fields
      )
    )
  })

  it("records are returned as a view over the input, without copying", () => {
    const input = bytes("00 0001 00007530 02 0274 02 00000002 04aabbcc 00 00 00")
    const decoded = dec(new Reader(input), 9)
    const records = decoded.topicData[0]!.partitionData[0]!.records!
    assert.strictEqual(records.buffer, input.buffer)
    assert.strictEqual(records.byteOffset, input.byteOffset + 16) // 1 + 2 + 4 + 1 + 2 + 1 + 4 + 1 bytes before it
  })

  it("request v2 refuses a transactional id", () => {
    throwsProtocolError(() => enc(new Writer(), Produce.makeProduceRequest({ transactionalId: "tx" }), 2))
  })
})

describe("Fetch golden bytes", () => {
  const { encodeFetchRequest: enc, decodeFetchRequest: dec } = Fetch

  it("request v4", () => {
    golden(
      enc,
      dec,
      4,
      Fetch.makeFetchRequest({
        replicaId: -1,
        maxWaitMs: 500,
        minBytes: 1,
        maxBytes: 1048576,
        isolationLevel: 1,
        topics: [
          Fetch.makeFetchRequestFetchTopic({
            topic: "t",
            partitions: [
              Fetch.makeFetchRequestFetchPartition({ partition: 0, fetchOffset: 10n, partitionMaxBytes: 1048576 })
            ]
          })
        ]
      }),
      bytes(
        "ffffffff", // replica_id -1
        "000001f4", // max_wait_ms 500
        "00000001", // min_bytes
        "00100000", // max_bytes (v3+) 1 MiB
        "01", // isolation_level (v4+) READ_COMMITTED
        // session_id/session_epoch are v7+
        "00000001", // topics: count 1
        `0001 ${ascii("t")}`, // topic
        "00000001", // partitions: count 1
        "00000000", // partition
        // current_leader_epoch is v9+
        "000000000000000a", // fetch_offset 10
        // log_start_offset is v5+
        "00100000" // partition_max_bytes
        // forgotten_topics_data is v7+, rack_id v11+
      )
    )
  })

  it("request v12 (flexible) with a tagged cluster id", () => {
    golden(
      enc,
      dec,
      12,
      Fetch.makeFetchRequest({
        clusterId: "c",
        replicaId: -1,
        maxWaitMs: 500,
        minBytes: 1,
        maxBytes: 1048576,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          Fetch.makeFetchRequestFetchTopic({
            topic: "t",
            partitions: [
              Fetch.makeFetchRequestFetchPartition({
                partition: 0,
                currentLeaderEpoch: 5,
                fetchOffset: 10n,
                lastFetchedEpoch: -1,
                logStartOffset: -1n,
                partitionMaxBytes: 1048576
              })
            ]
          })
        ],
        forgottenTopicsData: [],
        rackId: ""
      }),
      bytes(
        "ffffffff", // replica_id
        "000001f4", // max_wait_ms
        "00000001", // min_bytes
        "00100000", // max_bytes
        "00", // isolation_level
        "00000000", // session_id
        "ffffffff", // session_epoch -1
        "02", // topics: compact array of 1
        `02 ${ascii("t")}`, // topic (v0-12)
        "02", // partitions: compact array of 1
        "00000000", // partition
        "00000005", // current_leader_epoch
        "000000000000000a", // fetch_offset
        "ffffffff", // last_fetched_epoch (v12+)
        "ffffffffffffffff", // log_start_offset
        "00100000", // partition_max_bytes
        "00", // partition tagged fields
        "00", // topic tagged fields
        "01", // forgotten_topics_data: empty compact array
        "01", // rack_id: "" as a compact string
        "01", // tagged fields: 1
        "00 02", // tag 0 (cluster_id), size 2
        `02 ${ascii("c")}` // compact nullable string "c"
      )
    )
  })
})

describe("JoinGroup golden bytes", () => {
  it("request v5", () => {
    golden(
      JoinGroup.encodeJoinGroupRequest,
      JoinGroup.decodeJoinGroupRequest,
      5,
      JoinGroup.makeJoinGroupRequest({
        groupId: "g",
        sessionTimeoutMs: 10000,
        rebalanceTimeoutMs: 60000,
        memberId: "",
        groupInstanceId: null,
        protocolType: "consumer",
        protocols: [JoinGroup.makeJoinGroupRequestProtocol({ name: "range", metadata: bytes("0102") })]
      }),
      bytes(
        `0001 ${ascii("g")}`, // group_id
        "00002710", // session_timeout_ms 10000
        "0000ea60", // rebalance_timeout_ms 60000 (v1+)
        "0000", // member_id ""
        "ffff", // group_instance_id: null (v5+)
        `0008 ${ascii("consumer")}`, // protocol_type
        "00000001", // protocols: count 1
        `0005 ${ascii("range")}`, // name
        "00000002 0102" // metadata: int32 length + bytes
        // reason is v8+
      )
    )
  })
})
