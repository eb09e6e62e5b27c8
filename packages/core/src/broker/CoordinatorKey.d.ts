/**
 * Coordinator placement: which partition of `__consumer_offsets` (groups) or `__transaction_state`
 * (transactional ids) owns a key. Kafka hashes the key with Java's `String.hashCode`, so a key lands on
 * the same partition number here as on a Kafka cluster with the same partition count.
 */
/** FindCoordinator `key_type` values. */
export declare const KeyType: {
    readonly GROUP: 0;
    readonly TRANSACTION: 1;
};
/** Java's `String.hashCode`: `s[0]*31^(n-1) + ... + s[n-1]` over UTF-16 code units, with int32 overflow. */
export declare const javaStringHashCode: (s: string) => number;
/** Kafka's `Utils.abs`-free placement: `abs(hashCode) % n`, where `abs(Integer.MIN_VALUE)` is 0. */
export declare const partitionFor: (key: string, numPartitions: number) => number;
