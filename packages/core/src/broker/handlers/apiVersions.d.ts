import * as ApiVersions from "../../protocol/generated/ApiVersions.js";
import * as Handler from "../Handler.js";
/** Serves ApiVersions from the registered handlers' ranges (never a hand-written list). */
export declare const handler: Handler.Handler<18, never>;
/** The response's api key list. */
export declare const apiKeys: (apis: ReadonlyArray<Handler.ApiVersionRange>) => Array<ApiVersions.ApiVersionsResponseApiVersion>;
