import * as Handler from "../Handler.js";
import { PartitionManager } from "../PartitionManager.js";
export declare const handler: Handler.Handler<35, PartitionManager>;
