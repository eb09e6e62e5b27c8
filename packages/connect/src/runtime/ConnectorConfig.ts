/**
 * The configs every connector has (Kafka's ConnectorConfig, SinkConnectorConfig and SourceConnectorConfig):
 * name, class, tasks, converters, transforms, predicates and the `errors.*` settings, with Kafka's defaults.
 * A connector is validated against these merged with its plugin's own definition.
 */
import * as ConfigDef from "../plugin/ConfigDef.js"

const common = "Common"
const transforms = "Transforms"
const predicates = "Predicates"
const errors = "Error Handling"

/** Keys of every connector. */
export const base = ConfigDef.make({
  name: ConfigDef.string({
    group: common,
    importance: "HIGH",
    documentation: "Globally unique name to use for this connector."
  }),
  "connector.class": ConfigDef.className({
    group: common,
    importance: "HIGH",
    documentation:
      "Name or alias of the class for this connector: Kafka's class name, its simple name, the simple name without 'Connector', or a module path"
  }),
  "tasks.max": ConfigDef.int({
    group: common,
    default: 1,
    min: 1,
    importance: "HIGH",
    documentation: "Maximum number of tasks to use for this connector."
  }),
  "tasks.max.enforce": ConfigDef.boolean({
    group: common,
    default: true,
    importance: "LOW",
    documentation: "Fail tasks beyond tasks.max."
  }),
  "key.converter": ConfigDef.className({
    group: common,
    default: null,
    importance: "LOW",
    documentation: "Converter for record keys; overrides the worker's."
  }),
  "value.converter": ConfigDef.className({
    group: common,
    default: null,
    importance: "LOW",
    documentation: "Converter for record values; overrides the worker's."
  }),
  "header.converter": ConfigDef.className({
    group: common,
    default: null,
    importance: "LOW",
    documentation: "Converter for record headers; overrides the worker's."
  }),
  transforms: ConfigDef.list({
    group: transforms,
    default: "",
    importance: "LOW",
    documentation: "Aliases for the transformations to be applied to records."
  }),
  predicates: ConfigDef.list({
    group: predicates,
    default: "",
    importance: "LOW",
    documentation: "Aliases for the predicates used by transformations."
  }),
  "errors.retry.timeout": ConfigDef.long({
    group: errors,
    default: 0,
    importance: "MEDIUM",
    documentation:
      "Maximum duration in milliseconds that a failed operation will be reattempted. 0 means no retries; -1 infinite."
  }),
  "errors.retry.delay.max.ms": ConfigDef.long({
    group: errors,
    default: 60000,
    importance: "MEDIUM",
    documentation: "Maximum duration in milliseconds between consecutive retry attempts."
  }),
  "errors.tolerance": ConfigDef.oneOf(["none", "all"], {
    group: errors,
    default: "none",
    importance: "MEDIUM",
    documentation:
      "Behavior for tolerating errors during connector operation: 'none' fails the task, 'all' skips problematic records."
  }),
  "errors.log.enable": ConfigDef.boolean({
    group: errors,
    default: false,
    importance: "MEDIUM",
    documentation: "Log each error and the details of the failed operation."
  }),
  "errors.log.include.messages": ConfigDef.boolean({
    group: errors,
    default: false,
    importance: "MEDIUM",
    documentation: "Include the record's topic, partition, offset and timestamp in the error log."
  })
})

/** Keys of sink connectors. */
export const sink = ConfigDef.make({
  ...base.keys,
  topics: ConfigDef.list({
    group: common,
    default: "",
    importance: "HIGH",
    documentation: "List of topics to consume, separated by commas"
  }),
  "topics.regex": ConfigDef.string({
    group: common,
    default: "",
    importance: "HIGH",
    documentation: "Regular expression giving topics to consume (resolved when a task starts)."
  }),
  "errors.deadletterqueue.topic.name": ConfigDef.string({
    group: errors,
    default: "",
    importance: "MEDIUM",
    documentation: "The name of the topic to be used as the dead letter queue (DLQ) for failed records."
  }),
  "errors.deadletterqueue.topic.replication.factor": ConfigDef.int({
    group: errors,
    default: 3,
    importance: "MEDIUM",
    documentation: "Replication factor used to create the dead letter queue topic when it doesn't already exist."
  }),
  "errors.deadletterqueue.context.headers.enable": ConfigDef.boolean({
    group: errors,
    default: false,
    importance: "MEDIUM",
    documentation: "If true, add headers containing error context to the messages written to the dead letter queue."
  })
})

/** Keys of source connectors. */
export const source = ConfigDef.make({
  ...base.keys,
  "exactly.once.support": ConfigDef.oneOf(["requested", "required"], {
    group: "Exactly Once Support",
    default: "requested",
    importance: "MEDIUM",
    documentation: "Whether exactly-once support is required for the connector (distributed workers only)."
  }),
  "transaction.boundary": ConfigDef.oneOf(["poll", "interval", "connector"], {
    group: "Exactly Once Support",
    default: "poll",
    importance: "MEDIUM",
    documentation:
      "Transaction boundaries for exactly-once sources (distributed workers only): 'poll' commits each polled batch, 'interval' every transaction.boundary.interval.ms, 'connector' when the task's TransactionContext asks."
  }),
  "transaction.boundary.interval.ms": ConfigDef.long({
    group: "Exactly Once Support",
    default: null,
    min: 0,
    importance: "LOW",
    documentation:
      "With transaction.boundary=interval, how often a task commits its transaction; the worker's offset.flush.interval.ms when unset."
  }),
  "offsets.storage.topic": ConfigDef.string({
    group: "Exactly Once Support",
    default: null,
    importance: "LOW",
    documentation:
      "The connector's own offsets topic; the worker's offset.storage.topic when unset (distributed workers only)."
  })
})

/** The typed errors settings of a connector. */
export interface ErrorSettings {
  readonly tolerance: "none" | "all"
  readonly retryTimeoutMs: number
  readonly retryDelayMaxMs: number
  readonly logEnable: boolean
  readonly logIncludeMessages: boolean
  readonly dlqTopic: string
  readonly dlqReplicationFactor: number
  readonly dlqContextHeaders: boolean
}

const num = (v: string | undefined, d: number) => (v === undefined || v.trim() === "" ? d : Number(v))
const bool = (v: string | undefined, d: boolean) => (v === undefined ? d : v.trim().toLowerCase() === "true")

/** Reads the `errors.*` settings. */
export const errorSettings = (props: Readonly<Record<string, string>>): ErrorSettings => ({
  tolerance: props["errors.tolerance"]?.trim().toLowerCase() === "all" ? "all" : "none",
  retryTimeoutMs: num(props["errors.retry.timeout"], 0),
  retryDelayMaxMs: num(props["errors.retry.delay.max.ms"], 60000),
  logEnable: bool(props["errors.log.enable"], false),
  logIncludeMessages: bool(props["errors.log.include.messages"], false),
  dlqTopic: props["errors.deadletterqueue.topic.name"]?.trim() ?? "",
  dlqReplicationFactor: num(props["errors.deadletterqueue.topic.replication.factor"], 3),
  dlqContextHeaders: bool(props["errors.deadletterqueue.context.headers.enable"], false)
})

/** `tasks.max` of a connector config. */
export const tasksMax = (props: Readonly<Record<string, string>>): number => Math.max(1, num(props["tasks.max"], 1))

/** The sink's topic list. */
export const sinkTopics = (props: Readonly<Record<string, string>>): ReadonlyArray<string> =>
  (props.topics ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "")
