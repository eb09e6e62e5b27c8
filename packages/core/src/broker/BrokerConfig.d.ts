import { Effect, Schema } from "effect";
/** Kafka's ConfigDef types, with the DescribeConfigs `config_type` codes (KIP-569). */
export type ConfigType = "boolean" | "string" | "int" | "short" | "long" | "double" | "list" | "class" | "password";
/** DescribeConfigs `config_type` code for a {@link ConfigType}. */
export declare const configTypeCode: Record<ConfigType, number>;
/** `Long.MAX_VALUE` as Kafka prints it. */
export declare const LONG_MAX = "9223372036854775807";
/** One known configuration key. */
export interface ConfigKey {
    readonly name: string;
    readonly type: ConfigType;
    /** The default as Kafka prints it; `null` when the key has no default. */
    readonly default: string | null;
    /** A one-line description. */
    readonly doc: string;
    /** Validates an already type-checked value; returns an error text or undefined. */
    readonly validate?: (value: string) => string | undefined;
    /** Read-only keys cannot be altered at runtime (AlterConfigs on a broker resource). */
    readonly readOnly?: boolean;
}
declare const BrokerConfigError_base: Schema.TaggedErrorClass<BrokerConfigError, "BrokerConfigError", {
    readonly _tag: Schema.tag<"BrokerConfigError">;
} & {
    key: typeof Schema.String;
    message: typeof Schema.String;
}>;
/** Raised when a key's value does not parse or validate; the message names the key. */
export declare class BrokerConfigError extends BrokerConfigError_base {
}
/** Compression codecs a topic may be configured with. */
export declare const compressionTypes: readonly ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"];
/** The broker keys Eddy knows, with Kafka's defaults (single-node KRaft quick start where Kafka has none). */
export declare const keys: ReadonlyArray<ConfigKey>;
/** The known key called `name`, if any. */
export declare const findKey: (name: string) => ConfigKey | undefined;
/** Kafka's defaults for every known key that has one. */
export declare const defaults: Readonly<Record<string, string>>;
/** A broker configuration: the raw values that were set, validated against {@link keys}. */
export interface BrokerConfig {
    /** Values set explicitly (file and overrides), by Kafka key name; known keys are validated. */
    readonly values: Readonly<Record<string, string>>;
    /** Keys that were set but are not known to Eddy (kept, logged as unused). */
    readonly unknownKeys: ReadonlyArray<string>;
}
/** Type-checks and validates one value of a known key; returns an error text or undefined. */
export declare const checkValue: (k: ConfigKey, value: string) => string | undefined;
/**
 * Builds a config from explicit values; fails with a {@link BrokerConfigError} naming the first
 * key whose value does not type-check, then checks the listeners.
 */
export declare const make: (values: Readonly<Record<string, string>>) => Effect.Effect<BrokerConfig, BrokerConfigError>;
/** The built-in defaults only (node 1, 127.0.0.1:9092, data in ./data). */
export declare const empty: BrokerConfig;
/** Parses `server.properties` text then applies `key=value` overrides (later wins). */
export declare const fromProperties: (text: string, overrides?: ReadonlyArray<string>) => Effect.Effect<BrokerConfig, BrokerConfigError>;
/** Returns a copy of `config` with `values` set (validated). */
export declare const set: (config: BrokerConfig, values: Readonly<Record<string, string>>) => Effect.Effect<BrokerConfig, BrokerConfigError>;
/** The raw value of `name` (explicit, else default), or undefined when neither exists. */
export declare const get: (config: BrokerConfig, name: string) => string | undefined;
/** True when `name` was set explicitly. */
export declare const isSet: (config: BrokerConfig, name: string) => boolean;
/** A numeric key (int, long or double); `Long.MAX_VALUE` becomes `Number.MAX_SAFE_INTEGER`. */
export declare const getNumber: (config: BrokerConfig, name: string) => number;
/** A boolean key. */
export declare const getBoolean: (config: BrokerConfig, name: string) => boolean;
/** A list key, split on commas. */
export declare const getList: (config: BrokerConfig, name: string) => ReadonlyArray<string>;
/** `node.id`, falling back to `broker.id`. */
export declare const nodeId: (config: BrokerConfig) => number;
/** The data directories: `log.dirs`, else `log.dir`. */
export declare const logDirs: (config: BrokerConfig) => ReadonlyArray<string>;
/** The first data directory, absolute; Eddy keeps its metadata there. */
export declare const dataDir: (config: BrokerConfig) => string;
/** `log.retention.ms`, else minutes, else hours (Kafka's precedence); -1 means forever. */
export declare const retentionMs: (config: BrokerConfig) => number;
/** `log.roll.ms`, else `log.roll.hours`. */
export declare const rollMs: (config: BrokerConfig) => number;
/** `log.roll.jitter.ms`, else `log.roll.jitter.hours`. */
export declare const rollJitterMs: (config: BrokerConfig) => number;
/** `log.flush.interval.ms`, else `log.flush.scheduler.interval.ms`. */
export declare const flushIntervalMs: (config: BrokerConfig) => number;
/** One listener: `NAME://host:port`. */
export interface Listener {
    readonly name: string;
    readonly host: string;
    readonly port: number;
}
/** Parses a listener list; fails naming `key` on a malformed entry. */
export declare const parseListeners: (key: string, value: string) => ReadonlyArray<Listener>;
/** The client listener the broker binds: the first listener that is not a controller listener. */
export declare const listener: (config: BrokerConfig) => Listener;
/**
 * The address clients are told to connect to: the advertised listener with the bound listener's
 * name (else the first), with a wildcard or empty host replaced by this machine's host name and
 * port 0 replaced by `boundPort`.
 */
export declare const advertisedListener: (config: BrokerConfig, boundPort: number) => Listener;
export {};
