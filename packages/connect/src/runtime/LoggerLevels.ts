/**
 * The worker's logger levels as `/admin/loggers` shows and sets them (log4j level names). The `root`
 * level is effective: the `logger` layer makes the installed loggers drop entries below it.
 */
import { Effect, FiberRef, HashSet, Layer, Logger, LogLevel, Schema } from "effect"

/** An unknown level name. */
export class InvalidLevel extends Schema.TaggedError<InvalidLevel>()("InvalidLevel", { message: Schema.String }) {}

const LEVELS: Record<string, LogLevel.LogLevel> = {
  OFF: LogLevel.None,
  FATAL: LogLevel.Fatal,
  ERROR: LogLevel.Error,
  WARN: LogLevel.Warning,
  INFO: LogLevel.Info,
  DEBUG: LogLevel.Debug,
  TRACE: LogLevel.Trace
}

/** A logger's level and when it was last set (ms, null for the initial level). */
export interface Level {
  readonly level: string
  readonly last_modified: number | null
}

/** The levels of one worker. */
export const make = (rootLevel = "INFO") => {
  const levels = new Map<string, Level>([["root", { level: rootLevel, last_modified: null }]])
  const current = () => LEVELS[levels.get("root")!.level] ?? LogLevel.Info
  return {
    all: (): Record<string, Level> => Object.fromEntries([...levels.entries()].sort(([a], [b]) => a.localeCompare(b))),
    get: (name: string): Level | undefined => levels.get(name),
    /** Sets a level; the names of the loggers it changed. */
    set: (name: string, level: string): Effect.Effect<ReadonlyArray<string>, InvalidLevel> => {
      const upper = level.trim().toUpperCase()
      if (!(upper in LEVELS)) return Effect.fail(new InvalidLevel({ message: `Invalid log level '${level}'.` }))
      return Effect.sync(() => {
        levels.set(name, { level: upper, last_modified: Date.now() })
        return [name]
      })
    },
    /** Filters every installed logger by the root level (for the layer's scope). */
    logger: Layer.fiberRefLocallyScopedWith(FiberRef.currentLoggers, (loggers) =>
      HashSet.map(
        loggers,
        (l): Logger.Logger<unknown, unknown> =>
          Logger.filterLogLevel(l, (level) => LogLevel.greaterThanEqual(level, current()))
      )
    )
  }
}

/** The levels service type. */
export type LoggerLevels = ReturnType<typeof make>
