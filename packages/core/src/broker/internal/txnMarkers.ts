/**
 * Writing one transaction marker to a partition this broker leads: the path of the local transaction coordinator
 * and of WriteTxnMarkers (a coordinator on another broker). After a marker on `__consumer_offsets`, the group
 * coordinator applies (commit) or drops (abort) that producer's pending transactional offsets.
 *
 * Invariants:
 * - A marker is answered only once the partition's high watermark passes it (acks=all through the ISR, as Kafka
 *   writes markers), so a new leader of the partition holds every marker a coordinator was told of.
 * - A broker that does not lead the partition (or loses it before the marker is replicated) answers
 *   NOT_LEADER_OR_FOLLOWER; a partition it does not host, UNKNOWN_TOPIC_OR_PARTITION.
 */
import { Effect } from "effect"
import type { GroupCoordinator } from "../GroupCoordinator.js"
import { NotLeaderOrFollower, UnknownTopicOrPartition } from "../PartitionError.js"
import type { AppendError, TxnMarker } from "../PartitionReplica.js"
import type { ReplicaManager } from "../ReplicaManager.js"
import { CONSUMER_OFFSETS } from "../TopicRegistry.js"
import { awaitReplicated } from "./replicated.js"

/** Writes `marker` to `topic`-`partition`, which this broker must lead, and waits for the ISR. */
export const writeLocalMarker = (
  replicas: ReplicaManager["Type"],
  groups: GroupCoordinator["Type"],
  topic: string,
  partition: number,
  marker: TxnMarker
): Effect.Effect<void, AppendError | NotLeaderOrFollower | UnknownTopicOrPartition> =>
  Effect.gen(function* () {
    const replica = replicas.get(topic, partition)
    if (replica === undefined) {
      return yield* new UnknownTopicOrPartition({ message: `${topic}-${partition} is not hosted here.` })
    }
    const notLeader = () => new NotLeaderOrFollower({ message: `This broker does not lead ${topic}-${partition}.` })
    if (!replica.isLeader()) return yield* notLeader()
    const epoch = replica.leaderEpoch
    const result = yield* replica.writeTxnMarker(marker)
    if (!(yield* awaitReplicated(replica, epoch, result.lastOffset))) return yield* notLeader()
    if (topic === CONSUMER_OFFSETS) yield* groups.completeTransaction(marker.producerId, marker.commit, partition)
  })
