/**
 * The application's state machine as data (Kafka Streams' `KafkaStreams.State`): a pure `step` from the
 * current model and an event to the next model, with the state change to announce (if any).
 *
 * Invariants: only Kafka's transitions happen (CREATED -> REBALANCING | PENDING_SHUTDOWN; REBALANCING ->
 * RUNNING | PENDING_SHUTDOWN | PENDING_ERROR; RUNNING -> REBALANCING | PENDING_SHUTDOWN | PENDING_ERROR;
 * PENDING_SHUTDOWN -> NOT_RUNNING; PENDING_ERROR -> ERROR); the application is RUNNING exactly when every
 * live thread is running; an event that would break a transition leaves the model as it is.
 */

/** The states of a streams application. */
export type State =
  | "CREATED"
  | "REBALANCING"
  | "RUNNING"
  | "PENDING_SHUTDOWN"
  | "NOT_RUNNING"
  | "PENDING_ERROR"
  | "ERROR"

/** What a thread is doing, as the application sees it. */
export type ThreadState = "rebalancing" | "running" | "dead"

/** The model: the application's state and each thread's. */
export interface Model {
  readonly state: State
  readonly threads: ReadonlyArray<ThreadState>
}

/** Something that happened. */
export type Event =
  | { readonly _tag: "Start"; readonly threads: number }
  | { readonly _tag: "ThreadRebalancing"; readonly thread: number }
  | { readonly _tag: "ThreadRunning"; readonly thread: number }
  | { readonly _tag: "ThreadDied"; readonly thread: number }
  | { readonly _tag: "ThreadReplaced"; readonly thread: number }
  | { readonly _tag: "Close" }
  | { readonly _tag: "Closed" }
  | { readonly _tag: "Fail" }
  | { readonly _tag: "Failed" }

const transitions: Record<State, ReadonlyArray<State>> = {
  CREATED: ["REBALANCING", "PENDING_SHUTDOWN"],
  REBALANCING: ["RUNNING", "REBALANCING", "PENDING_SHUTDOWN", "PENDING_ERROR"],
  RUNNING: ["REBALANCING", "RUNNING", "PENDING_SHUTDOWN", "PENDING_ERROR"],
  PENDING_SHUTDOWN: ["NOT_RUNNING"],
  NOT_RUNNING: [],
  PENDING_ERROR: ["ERROR"],
  ERROR: []
}

/** True when Kafka allows `from -> to`. */
export const isValidTransition = (from: State, to: State): boolean => transitions[from].includes(to)

/** The model before `start`. */
export const initial: Model = { state: "CREATED", threads: [] }

const withThread = (model: Model, thread: number, s: ThreadState): ReadonlyArray<ThreadState> =>
  model.threads.map((t, i) => (i === thread ? s : t))

const aggregate = (threads: ReadonlyArray<ThreadState>): State => {
  const live = threads.filter((t) => t !== "dead")
  return live.length > 0 && live.every((t) => t === "running") ? "RUNNING" : "REBALANCING"
}

/** The next model and the state change to announce (undefined when the state stays). */
export const step = (model: Model, event: Event): { readonly model: Model; readonly changed: State | undefined } => {
  const to = (state: State, threads = model.threads) => {
    if (!isValidTransition(model.state, state)) return { model, changed: undefined }
    return { model: { state, threads }, changed: state === model.state ? undefined : state }
  }
  const running = model.state === "REBALANCING" || model.state === "RUNNING"
  switch (event._tag) {
    case "Start":
      return model.state === "CREATED"
        ? to(
            "REBALANCING",
            Array.from({ length: event.threads }, () => "rebalancing" as const)
          )
        : { model, changed: undefined }
    case "ThreadRebalancing":
    case "ThreadRunning":
    case "ThreadDied":
    case "ThreadReplaced": {
      if (!running) return { model, changed: undefined }
      const s: ThreadState =
        event._tag === "ThreadRunning" ? "running" : event._tag === "ThreadDied" ? "dead" : "rebalancing"
      const threads = withThread(model, event.thread, s)
      return to(aggregate(threads), threads)
    }
    case "Close":
      return to("PENDING_SHUTDOWN")
    case "Closed":
      return to("NOT_RUNNING")
    case "Fail":
      return to("PENDING_ERROR")
    case "Failed":
      return to("ERROR")
  }
}
