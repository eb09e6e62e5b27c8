/**
 * Exactly-once source support (KIP-618) as data: the worker's `exactly.once.source.support`, a connector's
 * `exactly.once.support`, `transaction.boundary`, `transaction.boundary.interval.ms` and `offsets.storage.topic`,
 * the preflight checks that `PUT .../config/validate` and connector creation run, and the names a distributed
 * worker derives from them (transactional ids, the offsets topic).
 */
import type { ConfigValueInfo } from "../plugin/ConfigDef.js"
import type { Props, SourcePlugin } from "../plugin/Connector.js"

/** The worker's `exactly.once.source.support`. */
export type WorkerSupport = "disabled" | "preparing" | "enabled"

/** A connector's `transaction.boundary`. */
export type TransactionBoundary = "poll" | "interval" | "connector"

/** Kafka Connect's default `offset.storage.topic`. */
export const DEFAULT_OFFSETS_TOPIC = "connect-offsets"

/** Kafka Connect's default `group.id`. */
export const DEFAULT_GROUP_ID = "connect-cluster"

const supports: ReadonlyArray<WorkerSupport> = ["disabled", "preparing", "enabled"]

/** The worker's `exactly.once.source.support` (default `disabled`), or the message of an invalid value. */
export const workerSupport = (workerProps: Props): { readonly support: WorkerSupport } | { readonly error: string } => {
  const raw = workerProps["exactly.once.source.support"]
  if (raw === undefined) return { support: "disabled" }
  const v = supports.find((s) => s === raw.trim().toLowerCase())
  return v
    ? { support: v }
    : {
        error: `Invalid value ${raw} for configuration exactly.once.source.support: String must be one of: ${supports.join(", ")}`
      }
}

/** The message of a standalone worker given `exactly.once.source.support` (Kafka supports it in distributed mode only). */
export const standaloneMessage = (value: string) =>
  `exactly.once.source.support=${value.trim()} is not supported by the standalone worker: exactly-once source connectors need a distributed worker (eddy connect distributed).`

/** Whether source tasks of a worker run with transactions: only `enabled` (not `preparing`). */
export const tasksUseTransactions = (support: WorkerSupport) => support === "enabled"

/** A connector's `transaction.boundary` (default `poll`). */
export const boundaryOf = (props: Props): TransactionBoundary => {
  const v = props["transaction.boundary"]?.trim().toLowerCase()
  return v === "interval" || v === "connector" ? v : "poll"
}

/** The commit interval of `transaction.boundary=interval`: the connector's setting, else `offset.flush.interval.ms`. */
export const intervalMsOf = (props: Props, workerProps: Props): number => {
  const own = props["transaction.boundary.interval.ms"]?.trim()
  if (own !== undefined && own !== "") return Number(own)
  return Number(workerProps["offset.flush.interval.ms"] ?? 60000)
}

/** The worker's `group.id` (Kafka's default `connect-cluster`). */
export const groupIdOf = (workerProps: Props): string => workerProps["group.id"]?.trim() || DEFAULT_GROUP_ID

/** The transactional id of a source task: `<group.id>-<connector>-<task>`. */
export const transactionalId = (groupId: string, connector: string, task: number): string =>
  `${groupId}-${connector}-${task}`

/** The transactional ids of a generation of `taskCount` tasks. */
export const transactionalIds = (groupId: string, connector: string, taskCount: number): ReadonlyArray<string> =>
  Array.from({ length: taskCount }, (_, task) => transactionalId(groupId, connector, task))

/** The offsets topic a connector's transactions write to: its `offsets.storage.topic`, else the worker's. */
export const offsetsTopicOf = (props: Props, workerProps: Props): string =>
  props["offsets.storage.topic"]?.trim() || workerProps["offset.storage.topic"]?.trim() || DEFAULT_OFFSETS_TOPIC

/** The message of a connector whose `exactlyOnceSupport` gave nothing. */
export const NO_PREFLIGHT_API =
  'The connector does not implement the API required for preflight validation of exactly-once source support. Please consult the documentation for the connector to determine whether it supports exactly-once semantics, and then consider reconfiguring the connector to use the value "requested" for this property (which will disable this preflight check and allow the connector to be created).'

/** The message of a connector that cannot give exactly-once guarantees with a config. */
export const UNSUPPORTED = "The connector does not support exactly-once semantics with the provided configuration."

/** The message of `exactly.once.support=required` on a worker without exactly-once support. */
export const WORKER_NOT_ENABLED = "This worker does not have exactly-once source support enabled."

/** The message of `transaction.boundary=connector` for a connector that cannot define boundaries. */
export const NO_CONNECTOR_BOUNDARIES =
  "The connector does not support connector-defined transaction boundaries with the given configuration. Please reconfigure it to use a different transaction boundary definition."

const unexpected = (e: unknown) => {
  const m = e instanceof Error ? e.message.trim() : String(e).trim()
  return m === ""
    ? "An unexpected error occurred during validation; please see the worker logs for more details."
    : `An unexpected error occurred during validation: ${m}`
}

/** The errors of `exactly.once.support` for a source connector config (Kafka's preflight check). */
export const exactlyOnceSupportErrors = (
  plugin: SourcePlugin,
  props: Props,
  support: WorkerSupport
): ReadonlyArray<string> => {
  if (props["exactly.once.support"]?.trim().toLowerCase() !== "required") return []
  const errors: Array<string> = []
  if (support !== "enabled") errors.push(WORKER_NOT_ENABLED)
  try {
    const answer = plugin.exactlyOnceSupport ? plugin.exactlyOnceSupport(props) : null
    if (answer === null || answer === undefined) errors.push(NO_PREFLIGHT_API)
    else if (answer !== "SUPPORTED") errors.push(UNSUPPORTED)
  } catch (e) {
    errors.push(unexpected(e))
  }
  return errors
}

/** The errors of `transaction.boundary` for a source connector config. */
export const transactionBoundaryErrors = (plugin: SourcePlugin, props: Props): ReadonlyArray<string> => {
  if (boundaryOf(props) !== "connector") return []
  try {
    const answer = plugin.canDefineTransactionBoundaries ? plugin.canDefineTransactionBoundaries(props) : "UNSUPPORTED"
    return answer === "SUPPORTED" ? [] : [NO_CONNECTOR_BOUNDARIES]
  } catch (e) {
    return [unexpected(e)]
  }
}

/**
 * Adds the exactly-once preflight errors of a distributed worker to a source connector's validation results:
 * on `exactly.once.support` and `transaction.boundary`, when those keys are otherwise valid.
 */
export const preflight = (
  plugin: SourcePlugin,
  props: Props,
  support: WorkerSupport,
  values: ReadonlyArray<ConfigValueInfo>
): ReadonlyArray<ConfigValueInfo> =>
  values.map((v) => {
    if (v.errors.length > 0) return v
    const extra =
      v.name === "exactly.once.support"
        ? exactlyOnceSupportErrors(plugin, props, support)
        : v.name === "transaction.boundary"
          ? transactionBoundaryErrors(plugin, props)
          : []
    return extra.length === 0 ? v : { ...v, errors: [...v.errors, ...extra] }
  })
