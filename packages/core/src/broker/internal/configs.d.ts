/**
 * Describing configuration entries (DescribeConfigs, CreateTopics v5+): effective values, sources,
 * synonyms and types for topic and broker resources.
 */
import * as BrokerConfig from "../BrokerConfig.js";
/** DescribeConfigs `config_source` codes. */
export declare const Source: {
    readonly UNKNOWN: 0;
    readonly DYNAMIC_TOPIC_CONFIG: 1;
    readonly DYNAMIC_BROKER_CONFIG: 2;
    readonly DYNAMIC_DEFAULT_BROKER_CONFIG: 3;
    readonly STATIC_BROKER_CONFIG: 4;
    readonly DEFAULT_CONFIG: 5;
};
/** Config resource types. */
export declare const ResourceType: {
    readonly TOPIC: 2;
    readonly BROKER: 4;
    readonly BROKER_LOGGER: 8;
};
/** A synonym: where a value could come from, most specific first. */
export interface Synonym {
    readonly name: string;
    readonly value: string | null;
    readonly source: number;
}
/** One described config entry. */
export interface Entry {
    readonly name: string;
    readonly value: string | null;
    readonly readOnly: boolean;
    readonly source: number;
    readonly isSensitive: boolean;
    readonly synonyms: ReadonlyArray<Synonym>;
    readonly configType: number;
    readonly documentation: string;
}
/** The entries of a topic with these overrides (all keys, or only `keys` when given). */
export declare const topicEntries: (broker: BrokerConfig.BrokerConfig, overrides: Readonly<Record<string, string>>, keys?: ReadonlyArray<string> | null) => Array<Entry>;
/** The entries of the broker's own configuration (all known keys, or only `keys`). */
export declare const brokerEntries: (broker: BrokerConfig.BrokerConfig, keys?: ReadonlyArray<string> | null) => Array<Entry>;
