/** Helpers shared by the group handlers. */
import type { RequestContext } from "../Handler.js";
/** The client's host as Kafka reports it (`/127.0.0.1`), from the connection id `host:port-n`. */
export declare const clientHost: (context: RequestContext) => string;
