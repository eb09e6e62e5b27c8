import * as Handler from "../Handler.js";
import { TopicRegistry } from "../TopicRegistry.js";
import { TransactionCoordinator } from "../TransactionCoordinator.js";
export declare const handler: Handler.Handler<24, TopicRegistry | TransactionCoordinator>;
