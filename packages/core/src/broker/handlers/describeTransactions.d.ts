import * as Handler from "../Handler.js";
import { TransactionCoordinator } from "../TransactionCoordinator.js";
export declare const handler: Handler.Handler<65, TransactionCoordinator>;
