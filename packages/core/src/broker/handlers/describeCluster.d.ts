import * as Handler from "../Handler.js";
export declare const handler: Handler.Handler<60, never>;
