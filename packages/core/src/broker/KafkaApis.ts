/**
 * The handler registry: the handlers this broker serves, one per api key, and the ApiVersions table
 * derived from them. To serve a new api, write `handlers/<api>.ts` and add its handler to
 * {@link handlers}; ApiVersions advertises it from then on.
 */
import { apiSpec } from "../protocol/generated/ApiKey.js"
import type { GroupCoordinator } from "./GroupCoordinator.js"
import type { AnyHandler, ApiVersionRange } from "./Handler.js"
import * as AddOffsetsToTxn from "./handlers/addOffsetsToTxn.js"
import * as AddPartitionsToTxn from "./handlers/addPartitionsToTxn.js"
import * as AlterConfigs from "./handlers/alterConfigs.js"
import * as AlterPartitionReassignments from "./handlers/alterPartitionReassignments.js"
import * as ApiVersions from "./handlers/apiVersions.js"
import * as CreatePartitions from "./handlers/createPartitions.js"
import * as CreateTopics from "./handlers/createTopics.js"
import * as DeleteGroups from "./handlers/deleteGroups.js"
import * as DeleteRecords from "./handlers/deleteRecords.js"
import * as DeleteTopics from "./handlers/deleteTopics.js"
import * as DescribeCluster from "./handlers/describeCluster.js"
import * as DescribeConfigs from "./handlers/describeConfigs.js"
import * as DescribeGroups from "./handlers/describeGroups.js"
import * as DescribeLogDirs from "./handlers/describeLogDirs.js"
import * as DescribeTransactions from "./handlers/describeTransactions.js"
import * as ElectLeaders from "./handlers/electLeaders.js"
import * as EndTxn from "./handlers/endTxn.js"
import * as Fetch from "./handlers/fetch.js"
import * as FindCoordinator from "./handlers/findCoordinator.js"
import * as Heartbeat from "./handlers/heartbeat.js"
import * as IncrementalAlterConfigs from "./handlers/incrementalAlterConfigs.js"
import * as InitProducerId from "./handlers/initProducerId.js"
import * as JoinGroup from "./handlers/joinGroup.js"
import * as LeaveGroup from "./handlers/leaveGroup.js"
import * as ListGroups from "./handlers/listGroups.js"
import * as ListOffsets from "./handlers/listOffsets.js"
import * as ListPartitionReassignments from "./handlers/listPartitionReassignments.js"
import * as ListTransactions from "./handlers/listTransactions.js"
import * as Metadata from "./handlers/metadata.js"
import * as OffsetCommit from "./handlers/offsetCommit.js"
import * as OffsetDelete from "./handlers/offsetDelete.js"
import * as OffsetFetch from "./handlers/offsetFetch.js"
import * as OffsetForLeaderEpoch from "./handlers/offsetForLeaderEpoch.js"
import * as Produce from "./handlers/produce.js"
import * as SyncGroup from "./handlers/syncGroup.js"
import * as TxnOffsetCommit from "./handlers/txnOffsetCommit.js"
import * as WriteTxnMarkers from "./handlers/writeTxnMarkers.js"
import type { PartitionManager } from "./PartitionManager.js"
import type { ReplicaManager } from "./ReplicaManager.js"
import type { TopicRegistry } from "./TopicRegistry.js"
import type { TransactionCoordinator } from "./TransactionCoordinator.js"

/** The services the built-in handlers need. */
export type Requirements = TopicRegistry | PartitionManager | ReplicaManager | GroupCoordinator | TransactionCoordinator

/** The built-in handlers. */
export const handlers: ReadonlyArray<AnyHandler<Requirements>> = [
  ApiVersions.handler,
  Metadata.handler,
  CreateTopics.handler,
  DeleteTopics.handler,
  CreatePartitions.handler,
  DescribeConfigs.handler,
  AlterConfigs.handler,
  IncrementalAlterConfigs.handler,
  DescribeCluster.handler,
  DescribeLogDirs.handler,
  ElectLeaders.handler,
  AlterPartitionReassignments.handler,
  ListPartitionReassignments.handler,
  Produce.handler,
  Fetch.handler,
  ListOffsets.handler,
  DeleteRecords.handler,
  OffsetForLeaderEpoch.handler,
  // consumer groups (classic protocol)
  FindCoordinator.handler,
  JoinGroup.handler,
  SyncGroup.handler,
  Heartbeat.handler,
  LeaveGroup.handler,
  OffsetCommit.handler,
  OffsetFetch.handler,
  OffsetDelete.handler,
  DescribeGroups.handler,
  ListGroups.handler,
  DeleteGroups.handler,
  // idempotent producers and transactions
  InitProducerId.handler,
  AddPartitionsToTxn.handler,
  AddOffsetsToTxn.handler,
  EndTxn.handler,
  TxnOffsetCommit.handler,
  DescribeTransactions.handler,
  ListTransactions.handler,
  WriteTxnMarkers.handler
]

/** A set of handlers indexed by api key, with the version table ApiVersions advertises. */
export interface Registry<R> {
  readonly get: (apiKey: number) => AnyHandler<R> | undefined
  /** Served ranges, sorted by api key. */
  readonly apis: ReadonlyArray<ApiVersionRange>
}

/** Options of {@link make}. */
export interface RegistryOptions {
  /**
   * `unstable.api.versions.enable`: serve the latest version of an api whose schema marks it unstable
   * (`latestVersionUnstable`). Off (the default), a handler declaring that version serves up to the one below,
   * so ApiVersions does not advertise it and a request in it is refused as any unsupported version is.
   */
  readonly unstableApiVersions?: boolean
}

/**
 * Indexes handlers by api key. Fails (throws) on two handlers for one key or a range outside what the
 * generated codec supports: both are programming errors caught at start-up.
 */
export const make = <R>(list: ReadonlyArray<AnyHandler<R>>, options: RegistryOptions = {}): Registry<R> => {
  const byKey = new Map<number, AnyHandler<R>>()
  for (const h of list) {
    const spec = apiSpec(h.apiKey)
    if (spec === undefined) throw new Error(`handler for unknown api key ${h.apiKey}`)
    if (byKey.has(h.apiKey)) throw new Error(`two handlers for ${spec.name} (api key ${h.apiKey})`)
    if (h.minVersion < spec.minVersion || h.maxVersion > spec.maxVersion || h.minVersion > h.maxVersion) {
      throw new Error(
        `${spec.name} handler serves v${h.minVersion}-${h.maxVersion}, the codec supports v${spec.minVersion}-${spec.maxVersion}`
      )
    }
    const unstable =
      spec.latestVersionUnstable && h.maxVersion === spec.maxVersion && options.unstableApiVersions !== true
    // a handler serving nothing but the unstable version is left out
    if (!unstable) byKey.set(h.apiKey, h)
    else if (h.maxVersion > h.minVersion) byKey.set(h.apiKey, { ...h, maxVersion: h.maxVersion - 1 })
  }
  const apis = [...byKey.values()]
    .map((h) => ({ apiKey: h.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }))
    .sort((a, b) => a.apiKey - b.apiKey)
  return { get: (apiKey) => byKey.get(apiKey), apis }
}
