/**
 * Zombie fencing of exactly-once source tasks (KIP-618): before a new generation of a connector's tasks
 * starts, the transactional ids of the previous generation (`<group.id>-<connector>-0..n-1`) are fenced with
 * `Admin.fenceProducers`, so a task of the old generation still running somewhere (a zombie) can no longer
 * commit: its open transaction is aborted and its next commit fails with PRODUCER_FENCED.
 *
 * `fromConfigStore` keeps the task count in the config topic's task-count record (`tasks-fencing-<name>`,
 * `{"task-count": n}`, as Kafka's leader writes it), so it survives worker restarts; `make` keeps it in memory.
 *
 * Invariant: a generation's task count is recorded only after the previous generation was fenced, so a failed
 * fencing is retried (with the same previous count) by the next attempt to start tasks.
 */
import * as Admin from "@eddy/core/client/Admin"
import { Effect } from "effect"
import type { Props } from "../plugin/Connector.js"
import { clientProps } from "./ClientProps.js"
import type { ConfigStore } from "./ConfigStore.js"
import * as ExactlyOnce from "./ExactlyOnce.js"

/** Fences the transactional ids of `taskCount` tasks of a connector (a no-op for 0). */
export const fence = (workerProps: Props, connectorProps: Props, connector: string, taskCount: number) =>
  taskCount <= 0
    ? Effect.succeed([])
    : Effect.scoped(
        Effect.flatMap(Admin.make(clientProps("admin", workerProps, connectorProps) as never), (admin) =>
          admin.fenceProducers(ExactlyOnce.transactionalIds(ExactlyOnce.groupIdOf(workerProps), connector, taskCount))
        )
      )

/**
 * A fencer that remembers the task count of each connector's latest generation (in memory, for one worker
 * process) and fences the previous generation before recording the next.
 */
export const make = (workerProps: Props) => {
  const generations = new Map<string, number>()
  return (connector: string, connectorProps: Props, taskCount: number) =>
    Effect.gen(function* () {
      yield* fence(workerProps, connectorProps, connector, generations.get(connector) ?? 0)
      generations.set(connector, taskCount)
    })
}

/**
 * A fencer over the config topic: the previous generation's task count is the connector's task-count record;
 * after fencing it, the new count is written as the record (and read back).
 */
export const fromConfigStore =
  (workerProps: Props, store: ConfigStore) => (connector: string, connectorProps: Props, taskCount: number) =>
    Effect.gen(function* () {
      const snapshot = yield* store.snapshot
      yield* fence(workerProps, connectorProps, connector, snapshot.taskCounts.get(connector) ?? 0)
      yield* store.putTaskCountRecord(connector, taskCount)
      yield* store.readToEnd
    })
