import * as Handler from "../Handler.js";
import { TopicRegistry } from "../TopicRegistry.js";
export declare const handler: Handler.Handler<19, TopicRegistry>;
