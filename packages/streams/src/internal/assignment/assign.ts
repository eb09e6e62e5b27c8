/**
 * The `stream` assignor's decision as a pure function (Kafka Streams' `StreamsPartitionAssignor` with its
 * high-availability task assignor, KIP-441, in Eddy's own form): tasks, not partitions, go to clients
 * (instances, by process id) in proportion to their stream threads, then to the clients' members (threads).
 *
 * Invariants of the result: every task is active on exactly one member; a task's partitions travel together
 * (the task is the unit); a client never holds a task both as active and as standby; loads are balanced
 * (per thread, at most one task apart) except where a task stays on a caught-up client while a warm-up
 * replica catches up elsewhere; a task stays with its previous owner when the balance allows; a task moves
 * only to a caught-up client (lag <= `acceptableRecoveryLag`) if one exists, else a warm-up is placed on the
 * client the balance wants (at most `maxWarmups` in all) and the task stays.
 */

/** A task to place. */
export interface TaskSpec {
  /** `<subtopology>_<partition>`. */
  readonly id: string
  /** Whether the task has logged stores (lags and standbys apply). */
  readonly stateful: boolean
}

/** A member (stream thread) as the assignor sees it. */
export interface MemberSpec {
  readonly memberId: string
  readonly prevActive: ReadonlyArray<string>
  readonly prevStandby: ReadonlyArray<string>
}

/** A client (instance) and how far behind its local state is per stateful task. */
export interface ClientSpec {
  readonly processId: string
  readonly members: ReadonlyArray<MemberSpec>
  /** Stateful task id -> records its local state lags behind the changelogs (0 for the task's owner). */
  readonly lags: ReadonlyMap<string, number>
}

/** Standby and warm-up settings. */
export interface AssignConfig {
  readonly numStandbyReplicas: number
  readonly acceptableRecoveryLag: number
  readonly maxWarmupReplicas: number
}

/** One member's tasks. */
export interface MemberTasks {
  readonly active: Array<string>
  readonly standby: Array<string>
}

/** The assignment: per member, per client, and the warm-ups placed (a probing rebalance should follow). */
export interface Assignment {
  readonly members: Map<string, MemberTasks>
  readonly clients: Map<string, { readonly active: Array<string>; readonly standby: Array<string> }>
  readonly warmups: number
}

/** Task ids in `<subtopology>_<partition>` numeric order. */
export const compareTaskIds = (a: string, b: string): number => {
  const [as, ap] = a.split("_").map(Number) as [number, number]
  const [bs, bp] = b.split("_").map(Number) as [number, number]
  return as - bs || ap - bp || (a < b ? -1 : a > b ? 1 : 0)
}

const lagOf = (c: ClientSpec, task: string) => c.lags.get(task) ?? Number.POSITIVE_INFINITY

/** Places every task on one client, balanced by capacity and sticky to previous owners. */
const placeActive = (tasks: ReadonlyArray<TaskSpec>, clients: ReadonlyArray<ClientSpec>): Map<string, string> => {
  const capacity = new Map(clients.map((c) => [c.processId, Math.max(1, c.members.length)]))
  const total = [...capacity.values()].reduce((a, b) => a + b, 0)
  const load = new Map(clients.map((c) => [c.processId, 0]))
  const quota = (p: string) => Math.ceil((tasks.length * capacity.get(p)!) / total)
  const owner = new Map<string, string>()
  const prevOwner = new Map<string, string>()
  for (const c of clients) for (const m of c.members) for (const t of m.prevActive) prevOwner.set(t, c.processId)
  const byId = new Map(clients.map((c) => [c.processId, c]))
  const place = (task: string, p: string) => {
    owner.set(task, p)
    load.set(p, load.get(p)! + 1)
  }
  // 1. sticky: previous owners keep their tasks up to their share
  for (const t of tasks) {
    const p = prevOwner.get(t.id)
    if (p !== undefined && load.get(p)! < quota(p)) place(t.id, p)
  }
  // 2. the rest to the least loaded client (per thread), the least lagging first
  const share = (p: string, extra = 0) => (load.get(p)! + extra) / capacity.get(p)!
  for (const t of tasks) {
    if (owner.has(t.id)) continue
    let best: ClientSpec | undefined
    for (const c of clients) {
      if (best === undefined) best = c
      else {
        const d = share(c.processId, 1) - share(best.processId, 1)
        if (d < 0 || (d === 0 && t.stateful && lagOf(c, t.id) < lagOf(best, t.id))) best = c
      }
    }
    if (best !== undefined) place(t.id, best.processId)
  }
  // 3. balance: move tasks from a client to one that would still be less loaded per thread after the move
  for (let moved = true, rounds = 0; moved && rounds < tasks.length * clients.length; rounds++) {
    moved = false
    const sorted = [...clients].sort((a, b) => share(b.processId) - share(a.processId))
    const from = sorted[0]
    const to = sorted[sorted.length - 1]
    if (from === undefined || to === undefined || from === to) break
    if ((load.get(from.processId)! - 1) / capacity.get(from.processId)! < share(to.processId, 1)) break
    // move the task the destination is most caught up on (a stateless one costs nothing)
    const candidates = tasks.filter((t) => owner.get(t.id) === from.processId)
    candidates.sort(
      (a, b) =>
        (a.stateful ? lagOf(byId.get(to.processId)!, a.id) : -1) -
          (b.stateful ? lagOf(byId.get(to.processId)!, b.id) : -1) || compareTaskIds(a.id, b.id)
    )
    const t = candidates[0]
    if (t === undefined) break
    owner.set(t.id, to.processId)
    load.set(from.processId, load.get(from.processId)! - 1)
    load.set(to.processId, load.get(to.processId)! + 1)
    moved = true
  }
  return owner
}

/** Member tasks of one client: sticky to the member that had each task, then to the least loaded. */
const distribute = (client: ClientSpec, active: ReadonlyArray<string>, standby: ReadonlyArray<string>) => {
  const members = [...client.members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0))
  const out = new Map<string, MemberTasks>(members.map((m) => [m.memberId, { active: [], standby: [] }]))
  if (members.length === 0) return out
  const cap = Math.ceil(active.length / members.length)
  const leastLoaded = (count: (t: MemberTasks) => number) => {
    let best = members[0]!
    for (const m of members) if (count(out.get(m.memberId)!) < count(out.get(best.memberId)!)) best = m
    return out.get(best.memberId)!
  }
  const rest: Array<string> = []
  for (const t of active) {
    const prev = members.find((m) => m.prevActive.includes(t))
    const tasks = prev === undefined ? undefined : out.get(prev.memberId)!
    if (tasks !== undefined && tasks.active.length < cap) tasks.active.push(t)
    else rest.push(t)
  }
  for (const t of rest) leastLoaded((x) => x.active.length).active.push(t)
  for (const t of standby) {
    const prev = members.find((m) => m.prevStandby.includes(t))
    const tasks = prev === undefined ? leastLoaded((x) => x.active.length + x.standby.length) : out.get(prev.memberId)!
    tasks.standby.push(t)
  }
  return out
}

/** Assigns `tasks` to the members of `clients` (see the module's invariants). */
export const assign = (
  tasks: ReadonlyArray<TaskSpec>,
  clients: ReadonlyArray<ClientSpec>,
  config: AssignConfig
): Assignment => {
  const ordered = [...clients].sort((a, b) => (a.processId < b.processId ? -1 : a.processId > b.processId ? 1 : 0))
  const sortedTasks = [...tasks].sort((a, b) => compareTaskIds(a.id, b.id))
  const owner = placeActive(sortedTasks, ordered)
  const byId = new Map(ordered.map((c) => [c.processId, c]))
  const standbys = new Map<string, Set<string>>(ordered.map((c) => [c.processId, new Set()]))
  // high availability: a stateful task moves only to a caught-up client; else it stays and a warm-up goes there
  let warmups = 0
  for (const t of sortedTasks) {
    if (!t.stateful) continue
    const target = byId.get(owner.get(t.id)!)!
    if (lagOf(target, t.id) <= config.acceptableRecoveryLag) continue
    let best: ClientSpec | undefined
    for (const c of ordered) {
      if (
        lagOf(c, t.id) <= config.acceptableRecoveryLag &&
        (best === undefined || lagOf(c, t.id) < lagOf(best, t.id))
      ) {
        best = c
      }
    }
    if (best === undefined) continue
    owner.set(t.id, best.processId)
    if (warmups < config.maxWarmupReplicas) {
      standbys.get(target.processId)!.add(t.id)
      warmups++
    }
  }
  // standby replicas on other clients, the most caught up (then the least loaded) first
  for (const t of sortedTasks) {
    if (!t.stateful) continue
    const active = owner.get(t.id)!
    standbys.get(active)!.delete(t.id)
    const holders = () => ordered.filter((c) => standbys.get(c.processId)!.has(t.id)).length
    while (holders() < config.numStandbyReplicas) {
      const candidates = ordered.filter((c) => c.processId !== active && !standbys.get(c.processId)!.has(t.id))
      if (candidates.length === 0) break
      candidates.sort(
        (a, b) =>
          lagOf(a, t.id) - lagOf(b, t.id) ||
          standbys.get(a.processId)!.size / Math.max(1, a.members.length) -
            standbys.get(b.processId)!.size / Math.max(1, b.members.length)
      )
      standbys.get(candidates[0]!.processId)!.add(t.id)
    }
  }
  const members = new Map<string, MemberTasks>()
  const perClient = new Map<string, { active: Array<string>; standby: Array<string> }>()
  for (const c of ordered) {
    const active = sortedTasks.filter((t) => owner.get(t.id) === c.processId).map((t) => t.id)
    const standby = [...standbys.get(c.processId)!].sort(compareTaskIds)
    perClient.set(c.processId, { active, standby })
    for (const [m, tasks] of distribute(c, active, standby)) members.set(m, tasks)
  }
  return { members, clients: perClient, warmups }
}
