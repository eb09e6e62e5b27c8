/**
 * The process id of an application instance, kept in `<state.dir>/<application.id>/kafka-streams-process-metadata`
 * as Kafka Streams keeps it, so a restarted instance reuses its transactional ids (and fences its own
 * zombie at once) instead of waiting for the old transactions to time out.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { Effect, Schema } from "effect"

const Metadata = Schema.parseJson(Schema.Struct({ processId: Schema.String }))

/** Reads the instance's process id, creating it on first start. */
export const processId = (stateDir: string, applicationId: string): Effect.Effect<string> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const dir = `${stateDir}/${applicationId}`
    const file = `${dir}/kafka-streams-process-metadata`
    const existing = yield* fs.readFileString(file).pipe(
      Effect.flatMap(Schema.decodeUnknown(Metadata)),
      Effect.map((m) => m.processId),
      Effect.option
    )
    if (existing._tag === "Some") return existing.value
    const id = crypto.randomUUID()
    yield* fs.makeDirectory(dir, { recursive: true })
    yield* fs.writeFileString(file, yield* Schema.encode(Metadata)({ processId: id }))
    return id
  }).pipe(Effect.provide(NodeFileSystem.layer), Effect.orDie)
