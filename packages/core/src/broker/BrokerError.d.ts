/**
 * Errors raised by broker services and handlers. Each carries its Kafka `errorCode`; a handler turns
 * one into wire fields with {@link toWire}, the single place where errors become codes.
 */
import { Cause, Schema } from "effect";
import { KafkaStorageError } from "../log/LogError.js";
/** Kafka error codes by name (the generated table from `errors.tsv`). */
export declare const Codes: {
    readonly UNKNOWN_SERVER_ERROR: -1;
    readonly NONE: 0;
    readonly OFFSET_OUT_OF_RANGE: 1;
    readonly CORRUPT_MESSAGE: 2;
    readonly UNKNOWN_TOPIC_OR_PARTITION: 3;
    readonly INVALID_FETCH_SIZE: 4;
    readonly LEADER_NOT_AVAILABLE: 5;
    readonly NOT_LEADER_OR_FOLLOWER: 6;
    readonly REQUEST_TIMED_OUT: 7;
    readonly BROKER_NOT_AVAILABLE: 8;
    readonly REPLICA_NOT_AVAILABLE: 9;
    readonly MESSAGE_TOO_LARGE: 10;
    readonly STALE_CONTROLLER_EPOCH: 11;
    readonly OFFSET_METADATA_TOO_LARGE: 12;
    readonly NETWORK_EXCEPTION: 13;
    readonly COORDINATOR_LOAD_IN_PROGRESS: 14;
    readonly COORDINATOR_NOT_AVAILABLE: 15;
    readonly NOT_COORDINATOR: 16;
    readonly INVALID_TOPIC_EXCEPTION: 17;
    readonly RECORD_LIST_TOO_LARGE: 18;
    readonly NOT_ENOUGH_REPLICAS: 19;
    readonly NOT_ENOUGH_REPLICAS_AFTER_APPEND: 20;
    readonly INVALID_REQUIRED_ACKS: 21;
    readonly ILLEGAL_GENERATION: 22;
    readonly INCONSISTENT_GROUP_PROTOCOL: 23;
    readonly INVALID_GROUP_ID: 24;
    readonly UNKNOWN_MEMBER_ID: 25;
    readonly INVALID_SESSION_TIMEOUT: 26;
    readonly REBALANCE_IN_PROGRESS: 27;
    readonly INVALID_COMMIT_OFFSET_SIZE: 28;
    readonly TOPIC_AUTHORIZATION_FAILED: 29;
    readonly GROUP_AUTHORIZATION_FAILED: 30;
    readonly CLUSTER_AUTHORIZATION_FAILED: 31;
    readonly INVALID_TIMESTAMP: 32;
    readonly UNSUPPORTED_SASL_MECHANISM: 33;
    readonly ILLEGAL_SASL_STATE: 34;
    readonly UNSUPPORTED_VERSION: 35;
    readonly TOPIC_ALREADY_EXISTS: 36;
    readonly INVALID_PARTITIONS: 37;
    readonly INVALID_REPLICATION_FACTOR: 38;
    readonly INVALID_REPLICA_ASSIGNMENT: 39;
    readonly INVALID_CONFIG: 40;
    readonly NOT_CONTROLLER: 41;
    readonly INVALID_REQUEST: 42;
    readonly UNSUPPORTED_FOR_MESSAGE_FORMAT: 43;
    readonly POLICY_VIOLATION: 44;
    readonly OUT_OF_ORDER_SEQUENCE_NUMBER: 45;
    readonly DUPLICATE_SEQUENCE_NUMBER: 46;
    readonly INVALID_PRODUCER_EPOCH: 47;
    readonly INVALID_TXN_STATE: 48;
    readonly INVALID_PRODUCER_ID_MAPPING: 49;
    readonly INVALID_TRANSACTION_TIMEOUT: 50;
    readonly CONCURRENT_TRANSACTIONS: 51;
    readonly TRANSACTION_COORDINATOR_FENCED: 52;
    readonly TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53;
    readonly SECURITY_DISABLED: 54;
    readonly OPERATION_NOT_ATTEMPTED: 55;
    readonly KAFKA_STORAGE_ERROR: 56;
    readonly LOG_DIR_NOT_FOUND: 57;
    readonly SASL_AUTHENTICATION_FAILED: 58;
    readonly UNKNOWN_PRODUCER_ID: 59;
    readonly REASSIGNMENT_IN_PROGRESS: 60;
    readonly DELEGATION_TOKEN_AUTH_DISABLED: 61;
    readonly DELEGATION_TOKEN_NOT_FOUND: 62;
    readonly DELEGATION_TOKEN_OWNER_MISMATCH: 63;
    readonly DELEGATION_TOKEN_REQUEST_NOT_ALLOWED: 64;
    readonly DELEGATION_TOKEN_AUTHORIZATION_FAILED: 65;
    readonly DELEGATION_TOKEN_EXPIRED: 66;
    readonly INVALID_PRINCIPAL_TYPE: 67;
    readonly NON_EMPTY_GROUP: 68;
    readonly GROUP_ID_NOT_FOUND: 69;
    readonly FETCH_SESSION_ID_NOT_FOUND: 70;
    readonly INVALID_FETCH_SESSION_EPOCH: 71;
    readonly LISTENER_NOT_FOUND: 72;
    readonly TOPIC_DELETION_DISABLED: 73;
    readonly FENCED_LEADER_EPOCH: 74;
    readonly UNKNOWN_LEADER_EPOCH: 75;
    readonly UNSUPPORTED_COMPRESSION_TYPE: 76;
    readonly STALE_BROKER_EPOCH: 77;
    readonly OFFSET_NOT_AVAILABLE: 78;
    readonly MEMBER_ID_REQUIRED: 79;
    readonly PREFERRED_LEADER_NOT_AVAILABLE: 80;
    readonly GROUP_MAX_SIZE_REACHED: 81;
    readonly FENCED_INSTANCE_ID: 82;
    readonly ELIGIBLE_LEADERS_NOT_AVAILABLE: 83;
    readonly ELECTION_NOT_NEEDED: 84;
    readonly NO_REASSIGNMENT_IN_PROGRESS: 85;
    readonly GROUP_SUBSCRIBED_TO_TOPIC: 86;
    readonly INVALID_RECORD: 87;
    readonly UNSTABLE_OFFSET_COMMIT: 88;
    readonly THROTTLING_QUOTA_EXCEEDED: 89;
    readonly PRODUCER_FENCED: 90;
    readonly RESOURCE_NOT_FOUND: 91;
    readonly DUPLICATE_RESOURCE: 92;
    readonly UNACCEPTABLE_CREDENTIAL: 93;
    readonly INCONSISTENT_VOTER_SET: 94;
    readonly INVALID_UPDATE_VERSION: 95;
    readonly FEATURE_UPDATE_FAILED: 96;
    readonly PRINCIPAL_DESERIALIZATION_FAILURE: 97;
    readonly SNAPSHOT_NOT_FOUND: 98;
    readonly UNKNOWN_TOPIC_ID: 100;
    readonly DUPLICATE_BROKER_REGISTRATION: 101;
    readonly BROKER_ID_NOT_REGISTERED: 102;
    readonly INCONSISTENT_TOPIC_ID: 103;
    readonly INCONSISTENT_CLUSTER_ID: 104;
    readonly TRANSACTIONAL_ID_NOT_FOUND: 105;
    readonly FETCH_SESSION_TOPIC_ID_ERROR: 106;
    readonly INELIGIBLE_REPLICA: 107;
    readonly NEW_LEADER_ELECTED: 108;
    readonly OFFSET_MOVED_TO_TIERED_STORAGE: 109;
    readonly FENCED_MEMBER_EPOCH: 110;
    readonly UNRELEASED_INSTANCE_ID: 111;
    readonly UNSUPPORTED_ASSIGNOR: 112;
    readonly STALE_MEMBER_EPOCH: 113;
    readonly MISMATCHED_ENDPOINT_TYPE: 114;
    readonly UNSUPPORTED_ENDPOINT_TYPE: 115;
    readonly UNKNOWN_CONTROLLER_ID: 116;
    readonly UNKNOWN_SUBSCRIPTION_ID: 117;
    readonly TELEMETRY_TOO_LARGE: 118;
    readonly INVALID_REGISTRATION: 119;
    readonly TRANSACTION_ABORTABLE: 120;
    readonly INVALID_RECORD_STATE: 121;
    readonly SHARE_SESSION_NOT_FOUND: 122;
    readonly INVALID_SHARE_SESSION_EPOCH: 123;
    readonly FENCED_STATE_EPOCH: 124;
    readonly INVALID_VOTER_KEY: 125;
    readonly DUPLICATE_VOTER: 126;
    readonly VOTER_NOT_FOUND: 127;
    readonly INVALID_REGULAR_EXPRESSION: 128;
};
declare const UnknownTopicOrPartition_base: Schema.TaggedErrorClass<UnknownTopicOrPartition, "UnknownTopicOrPartition", {
    readonly _tag: Schema.tag<"UnknownTopicOrPartition">;
} & {
    message: typeof Schema.String;
}>;
/** The topic does not exist (3). */
export declare class UnknownTopicOrPartition extends UnknownTopicOrPartition_base {
    readonly errorCode: 3;
}
declare const UnknownTopicId_base: Schema.TaggedErrorClass<UnknownTopicId, "UnknownTopicId", {
    readonly _tag: Schema.tag<"UnknownTopicId">;
} & {
    message: typeof Schema.String;
}>;
/** No topic has this id (100). */
export declare class UnknownTopicId extends UnknownTopicId_base {
    readonly errorCode: 100;
}
declare const InvalidTopic_base: Schema.TaggedErrorClass<InvalidTopic, "InvalidTopic", {
    readonly _tag: Schema.tag<"InvalidTopic">;
} & {
    message: typeof Schema.String;
}>;
/** The topic name is not legal or collides with another (17). */
export declare class InvalidTopic extends InvalidTopic_base {
    readonly errorCode: 17;
}
declare const TopicAlreadyExists_base: Schema.TaggedErrorClass<TopicAlreadyExists, "TopicAlreadyExists", {
    readonly _tag: Schema.tag<"TopicAlreadyExists">;
} & {
    message: typeof Schema.String;
}>;
/** A topic with this name already exists (36). */
export declare class TopicAlreadyExists extends TopicAlreadyExists_base {
    readonly errorCode: 36;
}
declare const InvalidPartitions_base: Schema.TaggedErrorClass<InvalidPartitions, "InvalidPartitions", {
    readonly _tag: Schema.tag<"InvalidPartitions">;
} & {
    message: typeof Schema.String;
}>;
/** The partition count is not acceptable (37). */
export declare class InvalidPartitions extends InvalidPartitions_base {
    readonly errorCode: 37;
}
declare const InvalidReplicationFactor_base: Schema.TaggedErrorClass<InvalidReplicationFactor, "InvalidReplicationFactor", {
    readonly _tag: Schema.tag<"InvalidReplicationFactor">;
} & {
    message: typeof Schema.String;
}>;
/** The replication factor is larger than the brokers available (38). */
export declare class InvalidReplicationFactor extends InvalidReplicationFactor_base {
    readonly errorCode: 38;
}
declare const InvalidConfig_base: Schema.TaggedErrorClass<InvalidConfig, "InvalidConfig", {
    readonly _tag: Schema.tag<"InvalidConfig">;
} & {
    message: typeof Schema.String;
}>;
/** A config name or value is not acceptable (40). */
export declare class InvalidConfig extends InvalidConfig_base {
    readonly errorCode: 40;
}
declare const InvalidRequest_base: Schema.TaggedErrorClass<InvalidRequest, "InvalidRequest", {
    readonly _tag: Schema.tag<"InvalidRequest">;
} & {
    message: typeof Schema.String;
}>;
/** The request is malformed at the semantic level (42). */
export declare class InvalidRequest extends InvalidRequest_base {
    readonly errorCode: 42;
}
declare const DuplicateResource_base: Schema.TaggedErrorClass<DuplicateResource, "DuplicateResource", {
    readonly _tag: Schema.tag<"DuplicateResource">;
} & {
    message: typeof Schema.String;
}>;
/** A duplicate resource in one request (92). */
export declare class DuplicateResource extends DuplicateResource_base {
    readonly errorCode: 92;
}
/** Reading or writing the data directory failed (56): the log engine's error, shared by the broker. */
export { KafkaStorageError };
/** Any broker error with a Kafka code. */
export type BrokerError = UnknownTopicOrPartition | UnknownTopicId | InvalidTopic | TopicAlreadyExists | InvalidPartitions | InvalidReplicationFactor | InvalidConfig | InvalidRequest | DuplicateResource | KafkaStorageError;
/** Wire form of an outcome: a code and an optional message. */
export interface WireError {
    readonly errorCode: number;
    readonly errorMessage: string | null;
}
/** No error. */
export declare const none: WireError;
/**
 * Turns a failure into wire fields: a broker error keeps its code and message; anything else is
 * UNKNOWN_SERVER_ERROR (-1) without details (the caller logs the cause).
 */
export declare const toWire: (error: unknown) => WireError;
/** {@link toWire} over a Cause: the first typed failure, else UNKNOWN_SERVER_ERROR. */
export declare const causeToWire: (cause: Cause.Cause<unknown>) => WireError;
