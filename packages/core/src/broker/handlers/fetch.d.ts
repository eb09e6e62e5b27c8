import * as Handler from "../Handler.js";
import { ReplicaManager } from "../ReplicaManager.js";
import { TopicRegistry } from "../TopicRegistry.js";
export declare const handler: Handler.Handler<1, ReplicaManager | TopicRegistry>;
