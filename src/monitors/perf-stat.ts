// Parser for `perf stat -x,` output (CSV), in plain or interval (-I) mode, and a summary of its counts.

export interface PerfRow {
  /** Seconds since perf started counting (interval mode only). */
  time: number | null;
  event: string;
  /** null when perf printed "<not supported>" or "<not counted>". */
  value: number | null;
  status: "counted" | "not supported" | "not counted";
  unit: string;
}

/**
 * Parses the CSV lines of `perf stat -x,` (from its stderr); other lines (headers, errors) are skipped.
 * Plain: value,unit,event,run,pct,...  Interval: time,value,unit,event,run,pct,...
 */
export function parsePerfStat(text: string, mode: "plain" | "interval"): PerfRow[] {
  const rows: PerfRow[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const fields = line.trim().split(",");
    const time = mode === "interval" ? Number(fields.shift()) : null;
    if (time !== null && !Number.isFinite(time)) continue;
    const [raw, unit, event] = fields;
    if (raw === undefined || unit === undefined || !event) continue;
    if (raw === "<not supported>" || raw === "<not counted>") {
      rows.push({
        time,
        event,
        value: null,
        status: raw === "<not supported>" ? "not supported" : "not counted",
        unit,
      });
      continue;
    }
    const value = Number(raw);
    if (raw === "" || !Number.isFinite(value)) continue;
    rows.push({ time, event, value, status: "counted", unit });
  }
  return rows;
}

export interface PerfCounts {
  cycles: number | null;
  instructions: number | null;
  /** CPU clock seconds perf counted (with -a this is wall × CPUs, idle included). */
  taskClockSeconds: number | null;
  /** Seconds the counts cover; counts are scaled from this to the monitor's window. */
  coveredSeconds: number;
  /** Why a count is missing, for the report. */
  note: string | null;
}

const TO_SECONDS: Record<string, number> = { msec: 1e-3, usec: 1e-6, nsec: 1e-9, sec: 1 };

function total(rows: PerfRow[], event: string): { value: number | null; why: string | null } {
  const mine = rows.filter((r) => r.event === event || r.event.startsWith(`${event}:`));
  if (mine.length === 0) return { value: null, why: `${event} not reported by perf` };
  if (mine.some((r) => r.status === "not supported"))
    return { value: null, why: `${event} not supported on this machine` };
  const counted = mine.filter((r) => r.value !== null);
  if (counted.length === 0) return { value: null, why: `${event} not counted` };
  const factor = event === "task-clock" ? (TO_SECONDS[counted[0]!.unit] ?? 1e-3) : 1;
  return { value: counted.reduce((sum, r) => sum + r.value!, 0) * factor, why: null };
}

/**
 * Sums interval rows and scales them from the seconds perf covered to the window: perf starts a little
 * after the window opens and its last partial interval is lost when it is stopped.
 */
export function summarizePerf(rows: PerfRow[], windowSeconds: number): PerfCounts {
  const times = rows.map((r) => r.time ?? 0);
  const covered = times.length > 0 ? Math.max(...times) : 0;
  const scale = covered > 0 ? windowSeconds / covered : 1;
  const cycles = total(rows, "cycles");
  const instructions = total(rows, "instructions");
  const taskClock = total(rows, "task-clock");
  const why = [cycles.why, instructions.why, taskClock.why].filter((w) => w !== null);
  const scaled = (v: number | null) => (v === null ? null : v * scale);
  return {
    cycles: scaled(cycles.value),
    instructions: scaled(instructions.value),
    taskClockSeconds: scaled(taskClock.value),
    coveredSeconds: covered,
    note: why.length > 0 ? why.join("; ") : null,
  };
}
