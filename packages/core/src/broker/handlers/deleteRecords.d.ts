import * as Handler from "../Handler.js";
import { ReplicaManager } from "../ReplicaManager.js";
export declare const handler: Handler.Handler<21, ReplicaManager>;
