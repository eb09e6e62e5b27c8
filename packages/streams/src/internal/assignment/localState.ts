/**
 * What an instance reports about state it keeps on disk for tasks it does not run (Kafka Streams reads the
 * task directories' checkpoints for its subscription): per task directory under
 * `<state.dir>/<application.id>/`, the sum of its checkpointed changelog offsets. The leader subtracts it
 * from the changelogs' end to know how little a move to this instance would restore.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { Effect } from "effect"
import * as Checkpoint from "../../state/Checkpoint.js"

const TASK_DIR = /^\d+_\d+$/

/** Task id -> sum of its checkpoint's offsets, for the task directories not in `skip`. */
export const checkpointedOffsetSums = (
  stateDir: string,
  applicationId: string,
  skip: ReadonlySet<string>
): Effect.Effect<Record<string, number>> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const dir = `${stateDir}/${applicationId}`
    const names = yield* fs.readDirectory(dir).pipe(Effect.orElseSucceed(() => [] as Array<string>))
    const out: Record<string, number> = {}
    for (const name of names) {
      if (!TASK_DIR.test(name) || skip.has(name)) continue
      const entries = yield* Checkpoint.read(`${dir}/${name}/${Checkpoint.FILE_NAME}`).pipe(
        Effect.orElseSucceed(() => [] as ReadonlyArray<Checkpoint.CheckpointEntry>)
      )
      const known = entries.filter((e) => e.offset >= 0)
      if (known.length > 0) out[name] = known.reduce((n, e) => n + e.offset, 0)
    }
    return out
  }).pipe(Effect.provide(NodeFileSystem.layer))
