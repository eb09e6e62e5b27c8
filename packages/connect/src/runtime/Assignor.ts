/**
 * The incremental cooperative assignor of distributed Connect workers (KIP-415), as a pure function the
 * group leader calls once per rebalance: from what each member says it runs, what is configured, the
 * leader's memory of the previous round and the time, it computes what each member gains and gives up.
 *
 * Rules (Kafka Connect's behaviour): members keep what they run; deleted connectors and tasks are revoked;
 * work a member runs twice is revoked from all but one; the work of a member that left is held for it for
 * `scheduled.rebalance.max.delay.ms` (the answer carries the remaining delay, and the leader rebalances
 * again when it ends): a member that joins in the meantime with nothing gets it (the departed worker come
 * back), otherwise at the deadline it goes to everyone. New work goes to the least-loaded members;
 * connectors and tasks are balanced separately (loads differ by at most one), revoking only the excess of
 * overloaded members; revoked work is assigned in the follow-up rebalance its owners ask for.
 *
 * Invariant: the function is pure; time comes in as `now`.
 */
import type { Load, TaskId } from "./ConnectProtocol.js"

/** The leader's memory between rounds. */
export interface AssignorState {
  /** Each member's full assignment after the previous round (what it keeps plus what it was given). */
  readonly previous: ReadonlyMap<string, Load>
  /** Work of departed members held back, and when it is released to everyone (0: nothing held). */
  readonly held: Load
  readonly deadline: number
}

/** The state of a leader that has seen no round. */
export const initialState: AssignorState = { previous: new Map(), held: { connectors: [], tasks: [] }, deadline: 0 }

/** One round's input. */
export interface AssignorInput {
  readonly now: number
  /** `scheduled.rebalance.max.delay.ms`. */
  readonly maxDelayMs: number
  /** What each member of this generation says it runs (its metadata's allocation). */
  readonly members: ReadonlyMap<string, Load>
  /** Every connector and task the config topic has. */
  readonly configured: Load
}

/** What one member gains and gives up. */
export interface MemberAssignment {
  readonly assigned: Load
  readonly revoked: Load
}

/** One round's answer. */
export interface AssignorOutput {
  readonly assignments: ReadonlyMap<string, MemberAssignment>
  /** ms until held work is released (0: nothing held). */
  readonly delay: number
  readonly state: AssignorState
}

/** A task's key in sets. */
export const taskKey = (t: TaskId) => `${t.connector}\u0000${t.task}`
const taskOf = (key: string): TaskId => {
  const at = key.lastIndexOf("\u0000")
  return { connector: key.slice(0, at), task: Number(key.slice(at + 1)) }
}

interface Pools {
  readonly connectors: ReadonlyArray<string>
  readonly tasks: ReadonlyArray<string>
}
type Pool = keyof Pools

const toPools = (l: Load): Pools => ({ connectors: [...l.connectors], tasks: l.tasks.map(taskKey) })
const toLoad = (p: Pools): Load => ({ connectors: [...p.connectors].sort(), tasks: [...p.tasks].sort().map(taskOf) })
const POOLS: ReadonlyArray<Pool> = ["connectors", "tasks"]

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * The most each member may keep so the pool ends balanced: `total mod n` members (the most loaded first)
 * may keep the ceiling, the others the floor.
 */
const capacities = (load: ReadonlyMap<string, number>, total: number): Map<string, number> => {
  const members = [...load.keys()].sort((a, b) => load.get(b)! - load.get(a)! || byName(a, b))
  const n = members.length
  const floor = Math.floor(total / n)
  const extra = total - floor * n
  return new Map(members.map((m, i) => [m, i < extra ? floor + 1 : floor]))
}

/** One round of the assignor. */
export const assign = (input: AssignorInput, state: AssignorState): AssignorOutput => {
  const members = [...input.members.keys()].sort(byName)
  const configured = toPools(input.configured)
  const assignments = new Map(
    members.map((m) => [m, { assigned: { connectors: [], tasks: [] }, revoked: { connectors: [], tasks: [] } }])
  ) as Map<string, { assigned: { [P in Pool]: Array<string> }; revoked: { [P in Pool]: Array<string> } }>
  if (members.length === 0) return { assignments: new Map(), delay: 0, state: { ...state, previous: new Map() } }

  const departed = [...state.previous.keys()].filter((m) => !input.members.has(m))
  const newcomers = members.filter(
    (m) => !state.previous.has(m) && input.members.get(m)!.connectors.length + input.members.get(m)!.tasks.length === 0
  )
  const held = toPools(state.held)
  let deadline = state.deadline
  const final = new Map<string, { [P in Pool]: Set<string> }>(
    members.map((m) => [m, { connectors: new Set(), tasks: new Set() }])
  )
  const nextHeld: { [P in Pool]: Array<string> } = { connectors: [], tasks: [] }

  // The held-work decision is shared by both pools.
  const lostNow: { [P in Pool]: Array<string> } = { connectors: [], tasks: [] }
  const owners: { [P in Pool]: Map<string, string> } = { connectors: new Map(), tasks: new Map() }
  for (const pool of POOLS) {
    const wanted = new Set(configured[pool])
    for (const m of members) {
      const owned = toPools(input.members.get(m)!)[pool]
      for (const item of owned) {
        if (!wanted.has(item) || owners[pool].has(item)) assignments.get(m)!.revoked[pool].push(item)
        else {
          owners[pool].set(item, m)
          final.get(m)![pool].add(item)
        }
      }
    }
    const heldSet = new Set(held[pool])
    for (const m of departed)
      for (const item of toPools(state.previous.get(m)!)[pool])
        if (wanted.has(item) && !owners[pool].has(item) && !heldSet.has(item)) lostNow[pool].push(item)
  }
  const allHeld: { [P in Pool]: Array<string> } = {
    connectors: [...held.connectors, ...lostNow.connectors],
    tasks: [...held.tasks, ...lostNow.tasks]
  }
  for (const pool of POOLS) {
    const wanted = new Set(configured[pool])
    allHeld[pool] = allHeld[pool].filter((item) => wanted.has(item) && !owners[pool].has(item))
  }
  const anyHeld = allHeld.connectors.length + allHeld.tasks.length > 0
  let release: "none" | "newcomers" | "all" = "none"
  if (anyHeld) {
    if (deadline === 0) deadline = input.now + input.maxDelayMs
    if (input.now >= deadline) release = "all"
    else if (newcomers.length > 0) release = "newcomers"
  }
  if (release !== "none" || !anyHeld) deadline = 0

  for (const pool of POOLS) {
    const heldItems = new Set(release === "none" ? allHeld[pool] : [])
    if (release === "none") nextHeld[pool].push(...allHeld[pool])
    // work for the newcomers (a departed worker back within the delay) goes to them alone, balanced among them
    const toNewcomers = release === "newcomers" ? [...allHeld[pool]].sort(byName) : []
    const load = (m: string) => final.get(m)![pool].size
    for (const item of toNewcomers) {
      const target = [...newcomers].sort((a, b) => load(a) - load(b) || byName(a, b))[0]!
      final.get(target)![pool].add(item)
      assignments.get(target)!.assigned[pool].push(item)
      owners[pool].set(item, target)
    }
    const unowned = configured[pool].filter((item) => !owners[pool].has(item) && !heldItems.has(item)).sort(byName)
    // balance: revoke the excess of overloaded members, unless work is held back (it will come back)
    if (heldItems.size === 0) {
      const total = owners[pool].size + unowned.length
      const caps = capacities(new Map(members.map((m) => [m, load(m)])), total)
      for (const m of members) {
        const cap = caps.get(m)!
        const mine = [...final.get(m)![pool]].sort(byName)
        for (const item of mine.slice(cap)) {
          final.get(m)![pool].delete(item)
          assignments.get(m)!.revoked[pool].push(item)
          owners[pool].delete(item)
        }
      }
    }
    for (const item of unowned) {
      const target = [...members].sort((a, b) => load(a) - load(b) || byName(a, b))[0]!
      final.get(target)![pool].add(item)
      assignments.get(target)!.assigned[pool].push(item)
    }
  }

  const out = new Map<string, MemberAssignment>()
  for (const [m, a] of assignments) out.set(m, { assigned: toLoad(a.assigned), revoked: toLoad(a.revoked) })
  return {
    assignments: out,
    delay: nextHeld.connectors.length + nextHeld.tasks.length > 0 ? Math.max(0, deadline - input.now) : 0,
    state: {
      previous: new Map(
        members.map((m) => [m, toLoad({ connectors: [...final.get(m)!.connectors], tasks: [...final.get(m)!.tasks] })])
      ),
      held: toLoad(nextHeld),
      deadline: nextHeld.connectors.length + nextHeld.tasks.length > 0 ? deadline : 0
    }
  }
}
