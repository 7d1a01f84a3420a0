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

/**
 * A /proc/PID/stat (or task stat) line split around its name, which may hold spaces and
 * parentheses (a name like "w) (x y"): the id, the name, and field(n) as numbered in proc(5);
 * null for a line that is not one (the process vanished mid-read).
 */
export function splitStat(
  text: string,
): { id: number; name: string; state: string; field(n: number): number } | null {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  // After the name: state is field 3, so rest[n - 3] is field n.
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  return {
    id: Number(text.slice(0, open).trim()),
    name: text.slice(open + 1, close),
    state: rest[0] ?? "?",
    field: (n) => Number(rest[n - 3]),
  };
}

/** Parses one task's stat line; throws on a line that is not one. */
export function parseTaskStat(text: string): TaskStat {
  const stat = splitStat(text);
  if (!stat) throw new Error(`not a /proc stat line: "${text.slice(0, 80)}"`);
  const field = (n: number): number => {
    const value = stat.field(n);
    if (!Number.isFinite(value))
      throw new Error(`/proc stat line has no numeric field ${n}: "${text.slice(0, 80)}"`);
    return value;
  };
  return {
    tid: stat.id,
    name: stat.name,
    state: stat.state,
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
