/**
 * A sink connector's topics: the `topics` list, or the topics matching `topics.regex` when a task starts
 * (Kafka's rules: exactly one of them; the DLQ topic is not one of them); and the DLQ topic, created with
 * `errors.deadletterqueue.topic.replication.factor` when missing; missing sink topics are created too.
 */
import * as Admin from "@eddy/core/client/Admin"
import type * as ClientConfig from "@eddy/core/client/ClientConfig"
import { Effect } from "effect"
import type { ConfigValueInfo } from "../plugin/ConfigDef.js"
import { ConnectError } from "../plugin/ConnectError.js"
import type { Props } from "../plugin/Connector.js"
import { clientProps } from "./ClientProps.js"
import { errorSettings, sinkTopics } from "./ConnectorConfig.js"

/** Kafka's cross-key checks of a sink config, as extra errors of the `topics` key. */
export const validate = (config: Props): ReadonlyArray<string> => {
  const topics = sinkTopics(config)
  const regex = config["topics.regex"]?.trim() ?? ""
  const errors: Array<string> = []
  if (topics.length === 0 && regex === "") errors.push("Must configure one of topics or topics.regex")
  if (topics.length > 0 && regex !== "")
    errors.push("topics and topics.regex are mutually exclusive options, but both are set.")
  if (regex !== "") {
    try {
      new RegExp(regex)
    } catch {
      errors.push(`Invalid regular expression for topics.regex: ${regex}`)
    }
  }
  const dlq = errorSettings(config).dlqTopic
  if (dlq !== "" && topics.includes(dlq))
    errors.push(`The DLQ topic '${dlq}' may not be included in the list of topics ('topics') consumed by the connector`)
  return errors
}

/** Adds the cross-key errors to the `topics` entry of a validation result. */
export const withCrossChecks = (
  config: Props,
  values: ReadonlyArray<ConfigValueInfo>
): ReadonlyArray<ConfigValueInfo> => {
  const extra = validate(config)
  return extra.length === 0
    ? values
    : values.map((v) => (v.name === "topics" ? { ...v, errors: [...v.errors, ...extra] } : v))
}

const withAdmin = <A, E>(worker: Props, config: Props, f: (admin: Admin.Admin) => Effect.Effect<A, E>) =>
  Effect.scoped(Effect.flatMap(Admin.make(clientProps("admin", worker, config) as ClientConfig.ClientConfig), f))

/** The topics a sink task consumes. */
export const resolve = (worker: Props, config: Props) => {
  const topics = sinkTopics(config)
  const regex = config["topics.regex"]?.trim() ?? ""
  if (topics.length > 0 || regex === "") return Effect.succeed(topics)
  const pattern = new RegExp(`^(?:${regex})$`)
  return withAdmin(worker, config, (admin) => admin.listTopics()).pipe(
    Effect.map((all) => all.filter((t) => pattern.test(t)).sort()),
    Effect.mapError(
      (e) => new ConnectError({ message: `Could not list topics for topics.regex: ${e.message}`, cause: e })
    )
  )
}

/**
 * Creates missing sink topics with the broker's default partitions and replication, as a Java consumer's
 * metadata request auto-creates them: Eddy's consumer does not yet pick up a topic created after it joined
 * its group, so a sink started before its source would otherwise never see its records.
 */
export const ensureTopics = (worker: Props, config: Props, topics: ReadonlyArray<string>) =>
  topics.length === 0
    ? Effect.void
    : withAdmin(worker, config, (admin) =>
        Effect.flatMap(admin.listTopics(), (existing) => {
          const missing = topics.filter((t) => !existing.includes(t))
          return missing.length === 0 ? Effect.void : admin.createTopics(missing.map((name) => ({ name })))
        })
      ).pipe(
        Effect.catchIf(
          (e) => (e as { errorName?: string }).errorName === "TOPIC_ALREADY_EXISTS",
          () => Effect.void
        ),
        Effect.mapError(
          (e) => new ConnectError({ message: `Could not create the sink topics: ${e.message}`, cause: e })
        )
      )

/** Creates the DLQ topic when it is missing. */
export const ensureDlq = (worker: Props, config: Props) => {
  const settings = errorSettings(config)
  if (settings.dlqTopic === "") return Effect.void
  return withAdmin(worker, config, (admin) =>
    admin.createTopics([
      { name: settings.dlqTopic, numPartitions: 1, replicationFactor: settings.dlqReplicationFactor }
    ])
  ).pipe(
    Effect.catchIf(
      (e) => (e as { errorName?: string }).errorName === "TOPIC_ALREADY_EXISTS",
      () => Effect.void
    ),
    Effect.mapError(
      (e) =>
        new ConnectError({
          message: `Could not create the dead letter queue topic ${settings.dlqTopic}: ${e.message}`,
          cause: e
        })
    )
  )
}
