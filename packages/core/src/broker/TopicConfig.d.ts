/**
 * Topic-level configuration: Kafka's topic config names, their broker-level synonyms and types,
 * validation (INVALID_CONFIG) and the effective {@link LogConfig} of a topic.
 */
import * as LogConfig from "../log/LogConfig.js";
import * as BrokerConfig from "./BrokerConfig.js";
/** One topic-level key and the broker key whose value is its default. */
export interface TopicConfigKey {
    readonly name: string;
    readonly type: BrokerConfig.ConfigType;
    /** Broker keys consulted for the default, most specific first (e.g. `log.retention.ms`, `.hours`). */
    readonly synonyms: ReadonlyArray<string>;
    readonly doc: string;
    readonly validate?: (value: string) => string | undefined;
}
/** The topic-level keys Eddy accepts, in Kafka's names. */
export declare const keys: ReadonlyArray<TopicConfigKey>;
/** The topic-level key called `name`, if any. */
export declare const findKey: (name: string) => TopicConfigKey | undefined;
/** Validates one topic config value; returns an error text naming the key, or undefined when valid. */
export declare const check: (name: string, value: string | null) => string | undefined;
/** Normalizes a valid value as Kafka stores it (trimmed, lists without spaces, booleans lower-case). */
export declare const normalize: (name: string, value: string) => string;
/** Where a topic key's effective value comes from. */
export interface ResolvedValue {
    readonly value: string | null;
    /** DescribeConfigs config_source: 1 topic, 4 static broker config, 5 default. */
    readonly source: 1 | 4 | 5;
    /** The key the value was read from (the topic key itself, or a broker synonym). */
    readonly from: string;
}
/** The broker-level default for a topic key, following its synonyms (hours/minutes scaled to ms). */
export declare const brokerDefault: (broker: BrokerConfig.BrokerConfig, k: TopicConfigKey) => ResolvedValue;
/** The effective value of every topic key given the topic's overrides. */
export declare const effective: (broker: BrokerConfig.BrokerConfig, overrides: Readonly<Record<string, string>>) => ReadonlyMap<string, ResolvedValue>;
/** The {@link LogConfig.LogConfig} of a topic: its overrides over the broker's defaults. */
export declare const toLogConfig: (broker: BrokerConfig.BrokerConfig, overrides: Readonly<Record<string, string>>) => LogConfig.LogConfig;
