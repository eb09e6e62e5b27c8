import * as Metadata from "../../protocol/generated/Metadata.js";
import * as Handler from "../Handler.js";
import { type Topic, TopicRegistry } from "../TopicRegistry.js";
/** `topic_authorized_operations` / `cluster_authorized_operations` when not requested. */
export declare const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;
/** Every topic operation (no ACLs yet): READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS. */
export declare const TOPIC_OPERATIONS: number;
/** Every cluster operation: CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE, CREATE_TOKENS, DESCRIBE_TOKENS. */
export declare const CLUSTER_OPERATIONS: number;
/** The Metadata description of one topic hosted by this node. */
export declare const describeTopic: (topic: Topic, nodeId: number, includeOperations: boolean) => Metadata.MetadataResponseTopic;
export declare const handler: Handler.Handler<3, TopicRegistry>;
