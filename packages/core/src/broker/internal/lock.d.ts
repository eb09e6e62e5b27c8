import { Effect, type Scope } from "effect";
import { KafkaStorageError } from "../BrokerError.js";
/** Locks `dir` for the life of the scope. */
export declare const acquire: (dir: string) => Effect.Effect<void, KafkaStorageError, Scope.Scope>;
