// CPU that processes other than the run's own used on the host during a trial's window: another
// job on the machine competes with the path, and its figures are then not the path's alone.
// Parsing and accounting are pure; reading /proc is one small function at the edge.

import { readdirSync, readFileSync } from "node:fs";
import { splitStat } from "./task-stat.js";

/** One process's line of /proc/PID/stat, the fields this needs. */
export interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** utime + stime, in clock ticks (USER_HZ). */
  ticks: number;
  /** cutime + cstime: the ticks of the children it has waited for, whole lifetimes. */
  childTicks: number;
  /** A kernel thread (PF_KTHREAD): its work (softirqs, vhost before 6.4) is the path's, not another job's. */
  kernel: boolean;
}

const PF_KTHREAD = 0x0020_0000;

/** Parses /proc/PID/stat; null for a line that is not one (the process vanished mid-read). */
export function parsePidStat(line: string): ProcStat | null {
  const stat = splitStat(line);
  if (!stat) return null;
  const fields = [4, 9, 14, 15, 16, 17].map(stat.field);
  if (!fields.every(Number.isFinite)) return null;
  const [ppid, flags, utime, stime, cutime, cstime] = fields as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return {
    pid: stat.id,
    comm: stat.name,
    ppid,
    ticks: utime + stime,
    childTicks: cutime + cstime,
    kernel: (flags & PF_KTHREAD) !== 0,
  };
}

/** Every process of this host now, by PID. */
export function readProcStats(root = "/proc"): Map<number, ProcStat> {
  const stats = new Map<number, ProcStat>();
  for (const name of readdirSync(root)) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = parsePidStat(readFileSync(`${root}/${name}/stat`, "utf8"));
      if (stat) stats.set(stat.pid, stat);
    } catch {
      // exited meanwhile
    }
  }
  return stats;
}

export interface OtherLoad {
  /** CPU-seconds used by processes other than the run's own (and not kernel threads). */
  seconds: number;
  /** Over the window's capacity (wall × online CPUs). */
  fraction: number;
  /** The largest users, for the flag's detail. */
  top: Array<{ pid: number; comm: string; seconds: number }>;
}

/** `roots` and every process descending from one of them, in `stats`. */
function descendants(stats: ReadonlyMap<number, ProcStat>, roots: Iterable<number>): Set<number> {
  const ours = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const stat of stats.values())
      if (!ours.has(stat.pid) && ours.has(stat.ppid)) {
        ours.add(stat.pid);
        grew = true;
      }
  }
  return ours;
}

/**
 * The other processes' CPU between two readings: their ticks' growth (all of them for a process
 * started inside the window), leaving out the run's processes — `ours` and their descendants, at
 * either reading — and kernel threads. A process that starts and ends inside the window (a build's
 * compilers, a script's commands) is in neither reading: its ticks are found in its parent's
 * children's ticks (cutime + cstime), less what those already running had used by the first
 * reading. An orphan reaped by a process other than its ancestor is counted whole.
 */
export function otherLoadBetween(
  before: ReadonlyMap<number, ProcStat>,
  after: ReadonlyMap<number, ProcStat>,
  ours: Iterable<number>,
  capacitySeconds: number,
  userHz = 100,
): OtherLoad {
  const roots = [...ours];
  const excluded = new Set([...descendants(before, roots), ...descendants(after, roots)]);
  // A process gone by the second reading was waited for by its nearest ancestor still there, whose
  // children's ticks then hold its whole life: what it had used by the first reading is not the window's.
  const usedBeforeByAncestor = new Map<number, number>();
  for (const stat of before.values()) {
    if (after.has(stat.pid)) continue;
    let ancestor = stat.ppid;
    for (let depth = 0; depth < before.size && !after.has(ancestor) && before.has(ancestor); depth++)
      ancestor = before.get(ancestor)!.ppid;
    usedBeforeByAncestor.set(
      ancestor,
      (usedBeforeByAncestor.get(ancestor) ?? 0) + stat.ticks + stat.childTicks,
    );
  }
  const used: OtherLoad["top"] = [];
  for (const stat of after.values()) {
    if (stat.kernel || excluded.has(stat.pid)) continue;
    const earlier = before.get(stat.pid);
    // A PID reused by a new process reads fewer ticks than the old one had: count it whole.
    const same =
      earlier !== undefined && earlier.ticks <= stat.ticks && earlier.childTicks <= stat.childTicks;
    const own = same ? stat.ticks - earlier.ticks : stat.ticks;
    const reaped = same
      ? Math.max(0, stat.childTicks - earlier.childTicks - (usedBeforeByAncestor.get(stat.pid) ?? 0))
      : stat.childTicks;
    const ticks = own + reaped;
    if (ticks > 0) used.push({ pid: stat.pid, comm: stat.comm, seconds: ticks / userHz });
  }
  const seconds = used.reduce((sum, entry) => sum + entry.seconds, 0);
  return {
    seconds,
    fraction: capacitySeconds > 0 ? seconds / capacitySeconds : 0,
    top: used.sort((a, b) => b.seconds - a.seconds).slice(0, 3),
  };
}
