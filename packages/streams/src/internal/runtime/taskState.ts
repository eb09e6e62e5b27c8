/**
 * A task's lifecycle as data: a pure `step` from its state and an event to the next state and the actions
 * the stream thread runs (restore stores, commit, close stores).
 *
 * Invariants: a task processes records only in RUNNING; it is RESTORING from creation until its stores
 * reach the end of their changelogs; a revoked task is committed before it is SUSPENDED (so a reassignment
 * resumes it without a restore) and a suspended task not reassigned is CLOSED; a task closed dirty (its
 * state may be ahead of the committed offsets, e.g. after a failed exactly-once commit) drops its stores
 * so the next owner restores them.
 */

/** A task's state. */
export type TaskState = "CREATED" | "RESTORING" | "RUNNING" | "SUSPENDED" | "CLOSED"

/** What the thread does for a transition. */
export type Action = "restore" | "commit" | "closeClean" | "closeDirty"

/** Something that happened to a task. */
export type TaskEvent = "assigned" | "restored" | "revoked" | "reassigned" | "unassigned" | "corrupted"

/** The next state and the actions to run, in order (unchanged state and no action for an event that does not apply). */
export const step = (
  state: TaskState,
  event: TaskEvent
): { readonly state: TaskState; readonly actions: ReadonlyArray<Action> } => {
  switch (event) {
    case "assigned":
      return state === "CREATED" ? { state: "RESTORING", actions: ["restore"] } : { state, actions: [] }
    case "restored":
      return state === "RESTORING" ? { state: "RUNNING", actions: [] } : { state, actions: [] }
    case "revoked":
      if (state === "RUNNING") return { state: "SUSPENDED", actions: ["commit"] }
      if (state === "RESTORING" || state === "CREATED") return { state: "CLOSED", actions: ["closeClean"] }
      return { state, actions: [] }
    case "reassigned":
      return state === "SUSPENDED" ? { state: "RUNNING", actions: [] } : { state, actions: [] }
    case "unassigned":
      return state === "SUSPENDED" ? { state: "CLOSED", actions: ["closeClean"] } : { state, actions: [] }
    case "corrupted":
      return state === "CLOSED" ? { state, actions: [] } : { state: "CLOSED", actions: ["closeDirty"] }
  }
}
