import { GroupCoordinator } from "../GroupCoordinator.js";
import * as Handler from "../Handler.js";
export declare const handler: Handler.Handler<11, GroupCoordinator>;
