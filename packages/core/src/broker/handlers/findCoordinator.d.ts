import { GroupCoordinator } from "../GroupCoordinator.js";
import * as Handler from "../Handler.js";
import { TransactionCoordinator } from "../TransactionCoordinator.js";
export declare const handler: Handler.Handler<10, GroupCoordinator | TransactionCoordinator>;
