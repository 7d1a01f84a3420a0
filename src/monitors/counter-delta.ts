// Deltas of per-CPU event counters (interrupts, softirqs) between the window's first and last reading.

import type { EventCounts, InterruptCounts } from "./cpu-report.js";
import type { InterruptLine, PerCpuCounts } from "./proc-interrupts.js";

/** Delta per CPU; a CPU missing at either end or a counter that went backwards counts 0 and is reported. */
export function deltaCounts(
  before: PerCpuCounts,
  after: PerCpuCounts,
  label: string,
  warnings: string[],
): EventCounts {
  const warn = (message: string) => {
    if (!warnings.includes(message)) warnings.push(message);
  };
  const perCpu: Record<string, number> = {};
  let total = 0;
  for (const [cpu, start] of before) {
    const end = after.get(cpu);
    if (end === undefined) {
      warn(`${label}: cpu${cpu} missing at the end of the window (offline?)`);
      continue;
    }
    if (end < start) {
      warn(`${label}: cpu${cpu} counter went backwards (${start} → ${end})`);
      perCpu[cpu] = 0;
      continue;
    }
    perCpu[cpu] = end - start;
    total += end - start;
  }
  return { total, perCpu };
}

/** Softirq deltas for every softirq present at both ends. */
export function softirqDeltas(
  before: Map<string, PerCpuCounts>,
  after: Map<string, PerCpuCounts>,
  warnings: string[],
): Record<string, EventCounts> {
  const result: Record<string, EventCounts> = {};
  for (const [name, counts] of before) {
    const end = after.get(name);
    if (end) result[name] = deltaCounts(counts, end, `softirq ${name}`, warnings);
  }
  return result;
}

/** Interrupt deltas summed over all rows, with the rows that fired listed. */
export function interruptDeltas(
  before: InterruptLine[],
  after: InterruptLine[],
  warnings: string[],
): InterruptCounts {
  const ends = new Map(after.map((row) => [row.id, row]));
  const perCpu: Record<string, number> = {};
  const lines: InterruptCounts["lines"] = [];
  let total = 0;
  for (const row of before) {
    const end = ends.get(row.id);
    // A row that vanished (device unplugged) has nothing to compare with.
    if (!end) continue;
    const delta = deltaCounts(row.counts, end.counts, `interrupts`, warnings);
    if (delta.total === 0) continue;
    for (const [cpu, n] of Object.entries(delta.perCpu)) perCpu[cpu] = (perCpu[cpu] ?? 0) + n;
    lines.push({ id: row.id, description: end.description, total: delta.total });
    total += delta.total;
  }
  return { total, perCpu, lines };
}
