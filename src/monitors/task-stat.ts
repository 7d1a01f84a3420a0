// Parsers for /proc/PID/task/TID/stat (identity, tick-sampled times) and schedstat (exact run time).

export interface TaskStat {
  tid: number;
  /** The thread name (comm); may hold spaces and parentheses. */
  name: string;
  state: string;
  /** Tick-sampled; use schedstat for CPU time, these are kept for cross-checks only. */
  utimeTicks: number;
  stimeTicks: number;
  /** The CPU it last ran on. */
  processor: number;
}

/** Parses one task's stat line; throws on a line that is not one. */
export function parseTaskStat(text: string): TaskStat {
  // comm is inside the first "(" and the LAST ")": a name like "w) (x y" holds both.
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) throw new Error(`not a /proc stat line: "${text.slice(0, 80)}"`);
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // After comm: state(3) ppid ... utime(14) stime(15) ... processor(39); rest[0] is field 3.
  const field = (n: number): number => {
    const value = Number(rest[n - 3]);
    if (!Number.isFinite(value))
      throw new Error(`/proc stat line has no numeric field ${n}: "${text.slice(0, 80)}"`);
    return value;
  };
  return {
    tid: Number(text.slice(0, open).trim()),
    name: text.slice(open + 1, close),
    state: rest[0] ?? "?",
    utimeTicks: field(14),
    stimeTicks: field(15),
    processor: field(39),
  };
}

export interface Schedstat {
  /** Time spent running on a CPU, nanoseconds (exact: sum_exec_runtime). */
  runNs: number;
  /** Time spent runnable but waiting for a CPU, nanoseconds. */
  waitNs: number;
  timeslices: number;
}

/** Parses /proc/.../schedstat ("run_ns wait_ns timeslices"). */
export function parseSchedstat(text: string): Schedstat {
  const fields = text.trim().split(/\s+/).map(Number);
  if (fields.length < 3 || fields.some((n) => !Number.isFinite(n))) {
    throw new Error(`not a schedstat line: "${text.trim().slice(0, 80)}"`);
  }
  return { runNs: fields[0]!, waitNs: fields[1]!, timeslices: fields[2]! };
}
