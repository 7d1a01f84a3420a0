// Per-thread CPU time from successive schedstat readings, grouped by the process selection it belongs to.

import type { AttributedProcess, AttributedThread } from "./cpu-report.js";

export interface TaskIdentity {
  /** The selection's name ("qemu", "generator", ...). */
  group: string;
  pid: number;
  tid: number;
  name: string;
}

interface TaskState extends TaskIdentity {
  firstNs: number;
  lastNs: number;
  started: boolean;
  exited: boolean;
}

const key = (group: string, tid: number) => `${group}/${tid}`;

/** Accumulates schedstat run time (ns) per task; pure bookkeeping, the monitor does the reading. */
export class TaskLedger {
  private readonly tasks = new Map<string, TaskState>();
  private interval = new Map<string, number>();
  readonly warnings: string[] = [];

  has(group: string, tid: number): boolean {
    return this.tasks.has(key(group, tid));
  }

  /**
   * Starts following a task. One present when the window opened counts from runNs; one that started
   * inside the window (`started`) counts its whole run time, so runNs is added to the current interval.
   */
  add(task: TaskIdentity, runNs: number, started: boolean): void {
    this.tasks.set(key(task.group, task.tid), {
      ...task,
      firstNs: started ? 0 : runNs,
      lastNs: runNs,
      started,
      exited: false,
    });
    if (started) this.addToInterval(task.group, runNs);
  }

  /** The window opens now: run time so far is not counted, for every task followed. */
  openWindow(): void {
    for (const task of this.tasks.values()) task.firstNs = task.lastNs;
    this.interval = new Map();
  }

  /** Records a new reading of a followed task. */
  update(group: string, tid: number, runNs: number): void {
    const task = this.tasks.get(key(group, tid));
    if (!task || task.exited) return;
    if (runNs < task.lastNs) {
      // Run time never decreases for one thread: the TID was reused by a new thread. Keep the old total.
      this.warnings.push(
        `thread ${tid} (${task.name}) run time went backwards: TID reused? kept the last value`,
      );
      task.exited = true;
      return;
    }
    this.addToInterval(group, runNs - task.lastNs);
    task.lastNs = runNs;
  }

  /** The task could not be read any more: it exited; its time up to the last reading stays counted. */
  markExited(group: string, tid: number): void {
    const task = this.tasks.get(key(group, tid));
    if (task) task.exited = true;
  }

  /** Live tasks to read at the next sample. */
  live(): TaskIdentity[] {
    return [...this.tasks.values()].filter((t) => !t.exited);
  }

  /** Seconds per group since the previous call (for the timeline). */
  takeInterval(): Record<string, number> {
    const result = Object.fromEntries([...this.interval].map(([group, ns]) => [group, ns / 1e9]));
    this.interval = new Map();
    return result;
  }

  /** The attributed totals of one group. */
  process(group: string): AttributedProcess {
    const threads: AttributedThread[] = [...this.tasks.values()]
      .filter((t) => t.group === group)
      .map((t) => ({
        pid: t.pid,
        tid: t.tid,
        name: t.name,
        seconds: (t.lastNs - t.firstNs) / 1e9,
        started: t.started,
        exited: t.exited,
      }))
      .sort((a, b) => b.seconds - a.seconds);
    return {
      name: group,
      pids: [...new Set(threads.map((t) => t.pid))].sort((a, b) => a - b),
      seconds: threads.reduce((s, t) => s + t.seconds, 0),
      threads,
    };
  }

  private addToInterval(group: string, ns: number): void {
    this.interval.set(group, (this.interval.get(group) ?? 0) + ns);
  }
}
