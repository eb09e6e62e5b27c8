/**
 * The records a task has fetched but not processed, per input partition (Kafka Streams' `PartitionGroup`),
 * and the choice of the next one: the head record with the smallest timestamp across partitions, so a task
 * reading several partitions (a merge, a cogroup, a join) processes them in event-time order.
 *
 * `max.task.idle.ms`: while some input partition has no buffered record, a task with `maxTaskIdleMs > 0`
 * waits up to that long (wall-clock, from the moment it first found a partition empty) for data before it
 * processes the others anyway; `0` and `-1` never wait (Kafka's 0 waits only for partitions it knows have
 * data to fetch; Eddy's client does not report the fetch lag, so 0 behaves as -1).
 *
 * Invariants: records of one partition leave in the order they were added; the idle deadline is set when
 * the group first finds a partition empty while others have data, and cleared once every partition has
 * data (or nothing is buffered); pure data, time passed in by the caller.
 */

interface Queue<R> {
  records: Array<R>
  head: number
}

/** Buffered records of a task's input partitions. */
export class PartitionGroup<R extends { readonly timestamp: number }> {
  private readonly queues = new Map<string, Queue<R>>()
  private idleDeadline: number | undefined = undefined
  private buffered = 0

  constructor(
    partitions: ReadonlyArray<string>,
    private readonly maxTaskIdleMs: number
  ) {
    for (const p of partitions) this.queues.set(p, { records: [], head: 0 })
  }

  /** Number of records buffered. */
  get size(): number {
    return this.buffered
  }

  /** When the task waits for an empty partition: the wall-clock time it will process the others anyway. */
  get deadline(): number | undefined {
    return this.idleDeadline
  }

  /** Buffers fetched records of `partition`. */
  add(partition: string, records: ReadonlyArray<R>): void {
    let q = this.queues.get(partition)
    if (q === undefined) {
      q = { records: [], head: 0 }
      this.queues.set(partition, q)
    }
    if (q.head === q.records.length) {
      q.records = [...records]
      q.head = 0
    } else for (const r of records) q.records.push(r)
    this.buffered += records.length
  }

  /** Drops every buffered record (the partitions were revoked: they are fetched again from the committed offsets). */
  clear(): void {
    for (const q of this.queues.values()) {
      q.records = []
      q.head = 0
    }
    this.buffered = 0
    this.idleDeadline = undefined
  }

  /** The next record to process and its partition, or undefined (nothing buffered, or waiting until `deadline`). */
  next(now: number): { readonly partition: string; readonly record: R } | undefined {
    if (this.buffered === 0) {
      this.idleDeadline = undefined
      return undefined
    }
    let best: { partition: string; queue: Queue<R> } | undefined
    let empty = false
    for (const [partition, queue] of this.queues) {
      if (queue.head === queue.records.length) {
        empty = true
        continue
      }
      if (best === undefined || queue.records[queue.head]!.timestamp < best.queue.records[best.queue.head]!.timestamp)
        best = { partition, queue }
    }
    if (empty && this.maxTaskIdleMs > 0) {
      if (this.idleDeadline === undefined) this.idleDeadline = now + this.maxTaskIdleMs
      if (now < this.idleDeadline) return undefined
    } else if (!empty) this.idleDeadline = undefined
    const q = best!.queue
    const record = q.records[q.head++]!
    this.buffered--
    if (q.head === q.records.length) {
      q.records = []
      q.head = 0
    }
    return { partition: best!.partition, record }
  }
}
