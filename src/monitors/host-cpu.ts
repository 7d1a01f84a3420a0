// Host busy time from a series of /proc/stat samples: wall × CPUs − Δidle − Δiowait, split by tick proportions.

import type { CategorySeconds, PerCpuSeconds } from "./cpu-report.js";
import type { CpuTicks, ProcStat } from "./proc-stat.js";

export interface StatSample {
  /** Seconds since the window opened (monotonic clock of the monitor). */
  t: number;
  stat: ProcStat;
  /** Per-CPU moments the counters hold exactly (an idle tick boundary), when known better than t. */
  cpuTimes?: Map<number, number>;
}

export interface HostCpu {
  wallSeconds: number;
  /** CPUs online in the first sample. */
  onlineCpus: number;
  hostSeconds: number;
  idleSeconds: number;
  iowaitSeconds: number;
  stealSeconds: number;
  /** Σ over CPUs of the seconds each was online: the denominator for steal. */
  capacitySeconds: number;
  byCategory: CategorySeconds;
  perCpu: PerCpuSeconds[];
  /** Host busy seconds per sampling interval (between consecutive samples). */
  intervals: Array<{ t: number; dt: number; hostSeconds: number }>;
  warnings: string[];
}

const TICK_FIELDS = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"] as const;
const SPLIT_FIELDS = ["user", "nice", "system", "irq", "softirq"] as const;

export function zeroCategories(): CategorySeconds {
  return { user: 0, nice: 0, system: 0, irq: 0, softirq: 0, steal: 0 };
}

interface CpuAccumulator {
  /** High-water mark of each counter (a small step back is a kernel glitch, not a reset). */
  base: Record<(typeof TICK_FIELDS)[number], number>;
  ticks: Record<(typeof TICK_FIELDS)[number], number>;
  onlineSeconds: number;
}

function startAccumulator(ticks: CpuTicks): CpuAccumulator {
  const base = {} as CpuAccumulator["base"];
  const zero = {} as CpuAccumulator["ticks"];
  for (const f of TICK_FIELDS) {
    base[f] = ticks[f];
    zero[f] = 0;
  }
  return { base, ticks: zero, onlineSeconds: 0 };
}

/**
 * Computes host CPU from samples taken at the window's start, at each interval, and at its end.
 * A CPU missing from a sample counts only for the intervals where it was seen at both ends.
 */
export function hostCpuFromSamples(samples: StatSample[], userHz: number): HostCpu {
  const first = samples[0];
  const last = samples.at(-1);
  if (!first || !last || samples.length < 2)
    throw new Error("host CPU needs at least two /proc/stat samples");
  const warnings: string[] = [];
  const warnOnce = (message: string) => {
    if (!warnings.includes(message)) warnings.push(message);
  };
  const cpus = new Map<number, CpuAccumulator>();
  for (const [cpu, ticks] of first.stat.cpus) cpus.set(cpu, startAccumulator(ticks));
  const intervals: HostCpu["intervals"] = [];

  for (let i = 1; i < samples.length; i++) {
    const before = samples[i - 1]!;
    const after = samples[i]!;
    let busy = 0;
    for (const [cpu, acc] of cpus) {
      const dt = (after.cpuTimes?.get(cpu) ?? after.t) - (before.cpuTimes?.get(cpu) ?? before.t);
      const now = after.stat.cpus.get(cpu);
      if (!now) {
        // Keep the accumulator: a CPU that comes back resumes from its new counters.
        if (before.stat.cpus.has(cpu)) {
          warnOnce(`cpu${cpu} went offline between ${before.t.toFixed(2)} s and ${after.t.toFixed(2)} s`);
        }
        continue;
      }
      if (!before.stat.cpus.has(cpu)) {
        for (const f of TICK_FIELDS) acc.base[f] = now[f];
        continue;
      }
      let idleTicks = 0;
      for (const f of TICK_FIELDS) {
        const step = now[f] - acc.base[f];
        if (step >= 0) {
          acc.ticks[f] += step;
          acc.base[f] = now[f];
          if (f === "idle" || f === "iowait") idleTicks += step;
        } else {
          warnOnce(`cpu${cpu} ${f} counter went backwards by ${-step} ticks at ${after.t.toFixed(2)} s`);
          // A large drop is a reset (CPU re-plugged): start again from the new value.
          if (-step > userHz) acc.base[f] = now[f];
        }
      }
      acc.onlineSeconds += dt;
      busy += dt - idleTicks / userHz;
    }
    for (const cpu of after.stat.cpus.keys()) {
      if (!cpus.has(cpu)) {
        warnOnce(`cpu${cpu} came online at ${after.t.toFixed(2)} s: counted from then on`);
        cpus.set(cpu, startAccumulator(after.stat.cpus.get(cpu)!));
      }
    }
    intervals.push({ t: after.t, dt: after.t - before.t, hostSeconds: Math.max(0, busy) });
  }

  const perCpu = [...cpus.entries()]
    .sort(([a], [b]) => a - b)
    .map(([cpu, acc]) => perCpuSeconds(cpu, acc, userHz, warnOnce));
  const byCategory = zeroCategories();
  for (const c of perCpu)
    for (const k of Object.keys(byCategory) as Array<keyof CategorySeconds>) byCategory[k] += c.byCategory[k];
  return {
    wallSeconds: last.t - first.t,
    onlineCpus: first.stat.cpus.size,
    hostSeconds: sum(perCpu.map((c) => c.seconds)),
    idleSeconds: sum(perCpu.map((c) => c.idleSeconds)),
    iowaitSeconds: sum(perCpu.map((c) => c.iowaitSeconds)),
    stealSeconds: byCategory.steal,
    capacitySeconds: sum(perCpu.map((c) => c.onlineSeconds)),
    byCategory,
    perCpu,
    intervals,
    warnings,
  };
}

function perCpuSeconds(
  cpu: number,
  acc: CpuAccumulator,
  userHz: number,
  warn: (m: string) => void,
): PerCpuSeconds {
  const idleSeconds = acc.ticks.idle / userHz;
  const iowaitSeconds = acc.ticks.iowait / userHz;
  // Idle is quantized to a tick at each end: clamp the rounding into [0, online].
  const seconds = Math.min(acc.onlineSeconds, Math.max(0, acc.onlineSeconds - idleSeconds - iowaitSeconds));
  // Steal comes from the hypervisor's steal clock, whole, not sampled: take it as measured.
  const steal = Math.min(seconds, acc.ticks.steal / userHz);
  const byCategory = zeroCategories();
  byCategory.steal = steal;
  const splitTicks = sum(SPLIT_FIELDS.map((f) => acc.ticks[f]));
  if (splitTicks > 0) {
    for (const f of SPLIT_FIELDS) byCategory[f] = ((seconds - steal) * acc.ticks[f]) / splitTicks;
  } else if (seconds - steal > 1 / userHz) {
    warn(
      `cpu${cpu}: busy ${(seconds - steal).toFixed(3)} s but no busy ticks sampled: category split unknown`,
    );
  }
  return { cpu, seconds, byCategory, idleSeconds, iowaitSeconds, onlineSeconds: acc.onlineSeconds };
}

export function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
