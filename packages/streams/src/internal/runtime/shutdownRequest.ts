/**
 * SHUTDOWN_APPLICATION (Kafka Streams' `StreamsUncaughtExceptionHandler` answer): the instance whose thread
 * failed tells every instance of the application to stop, through the group. A short-lived member joins the
 * application's group with the `stream` assignor and SHUTDOWN_REQUESTED in its subscription; the leader
 * answers every member with that error code, and each instance's threads, on that assignment, shut their
 * instance down (PENDING_ERROR, then ERROR). This works whether or not a thread of this instance still runs.
 */
import * as Consumer from "@eddy/core/client/Consumer"
import { Deferred, Duration, Effect, Stream } from "effect"
import type * as StreamsConfig from "../../StreamsConfig.js"
import * as Topology from "../../topology/Topology.js"
import * as Info from "../assignment/info.js"
import * as StreamAssignor from "../assignment/streamAssignor.js"

/** Joins the group asking for the application's shutdown; returns once the group answered (or `timeoutMs`). */
export const requestApplicationShutdown = (
  topology: Topology.Topology<unknown>,
  config: StreamsConfig.StreamsConfig,
  processId: string,
  timeoutMs: number
): Effect.Effect<boolean> =>
  Effect.scoped(
    Effect.gen(function* () {
      const applicationId = config["application.id"]
      const answered = yield* Deferred.make<void>()
      const assignor = StreamAssignor.make({
        topology,
        config,
        processId,
        subscription: Effect.succeed({
          prevActive: [],
          prevStandby: [],
          offsetSums: {},
          errorCode: Info.ErrorCode.SHUTDOWN_REQUESTED
        }),
        endOffsets: () => Effect.succeed(new Map()),
        onAssignment: (_, info) =>
          info?.errorCode === Info.ErrorCode.SHUTDOWN_REQUESTED ? Deferred.succeed(answered, undefined) : Effect.void
      })
      const consumer = yield* Consumer.make({
        "bootstrap.servers": config["bootstrap.servers"] ?? "localhost:9092",
        "client.id": `${config["client.id"] ?? applicationId}-shutdown-request`,
        "group.id": applicationId,
        "enable.auto.commit": false,
        commitConsumedOnRevoke: false,
        "partition.assignment.strategy": [assignor],
        ...(config["session.timeout.ms"] === undefined ? {} : { "session.timeout.ms": config["session.timeout.ms"] }),
        ...(config["heartbeat.interval.ms"] === undefined
          ? {}
          : { "heartbeat.interval.ms": config["heartbeat.interval.ms"] })
      })
      const topics = topology.subtopologies.flatMap((s) =>
        s.sourceTopics.map((t) => Topology.resolveTopic(topology, applicationId, t))
      )
      yield* consumer.batches(topics).pipe(Stream.runDrain, Effect.ignore, Effect.forkScoped)
      const result = yield* Deferred.await(answered).pipe(Effect.timeout(Duration.millis(timeoutMs)), Effect.option)
      return result._tag === "Some"
    })
  ).pipe(
    Effect.catchAllCause((cause) =>
      Effect.as(Effect.logWarning("cannot ask the application to shut down", cause), false)
    )
  )
