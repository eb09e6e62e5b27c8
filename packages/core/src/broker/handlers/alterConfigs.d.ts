import { type WireError } from "../BrokerError.js";
import * as Handler from "../Handler.js";
import { TopicRegistry } from "../TopicRegistry.js";
/** The answer for a broker resource: Eddy has no dynamic broker configs yet. */
export declare const brokerAlterError: (resourceName: string, nodeId: number) => WireError;
export declare const handler: Handler.Handler<33, TopicRegistry>;
