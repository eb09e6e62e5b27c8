/**
 * The command line of one `eddy broker` process of a test or bench cluster: node `id` on `port` over `dataDir`,
 * sharing the etcd at `etcdUrl` and the cluster id `clusterId`, with extra broker settings.
 */
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** The CLI entry point (`npm run build` builds what it runs). */
export const eddyBin = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
  "cli",
  "bin",
  "eddy.js"
)

/** The arguments after `node` that start the broker. */
export const brokerArgs = (options: {
  readonly id: number
  readonly port: number
  readonly dataDir: string
  readonly etcdUrl: string
  readonly clusterId: string
  readonly logLevel: string
  readonly settings: Readonly<Record<string, string>>
}): Array<string> => [
  eddyBin,
  "broker",
  "--port",
  String(options.port),
  "--data-dir",
  options.dataDir,
  "--log-level",
  options.logLevel,
  ...Object.entries({
    "node.id": String(options.id),
    "cluster.id": options.clusterId,
    "eddy.metadata.etcd.endpoints": options.etcdUrl,
    ...options.settings
  }).flatMap(([k, v]) => ["--set", `${k}=${v}`])
]
