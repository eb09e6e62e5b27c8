/**
 * Helpers of the client tests: a real Eddy broker in-process on an ephemeral port, and its bootstrap address.
 */
import { Effect } from "effect";
import { startBroker } from "../broker/util.js";
/** Starts a broker in the scope; returns it with its `bootstrap.servers` value. */
export declare const startEddy: (options?: Parameters<typeof startBroker>[0]) => Effect.Effect<{
    bootstrap: string;
    port: number;
    broker: {
        readonly config: import("../../src/broker/BrokerConfig.js").BrokerConfig;
        readonly nodeId: number;
        readonly clusterId: string;
        readonly dataDir: string;
        readonly address: {
            readonly host: string;
            readonly port: number;
        };
        readonly advertised: {
            readonly host: string;
            readonly port: number;
        };
    };
    dir: string;
    context: import("effect/Context").Context<import("../../src/broker/PartitionManager.js").PartitionManager | import("../../src/broker/ReplicaManager.js").ReplicaManager | import("../../src/broker/TopicRegistry.js").TopicRegistry | import("../../src/broker/GroupCoordinator.js").GroupCoordinator | import("../../src/broker/TransactionCoordinator.js").TransactionCoordinator | import("../../src/broker/Broker.js").Broker>;
}, import("../../src/broker/BrokerConfig.js").BrokerConfigError | import("../../src/broker/Broker.js").StartError, import("effect/Scope").Scope>;
