// CPU reports → the JSON contract's summary.cpu, and the sum of a cell's trials.

import { type CategorySeconds, CPU_CATEGORIES, type CpuReport } from "../monitors/cpu-report.js";
import type { OtherLoad } from "../monitors/other-load.js";
import { addByComponent, type CpuByComponent } from "./cpu-components.js";
import { attributeHosts, type HostCpu, type MhzSource, mergeHosts } from "./cpu-hosts.js";

/** `summary.cpu` of the JSON contract. */
export interface CpuSummary {
  /** Host busy CPU-seconds (wall × CPUs − Δidle − Δiowait). */
  hostSeconds: number;
  byCategory: CategorySeconds;
  /** CPU-seconds of the traffic generator's own processes on the host. */
  generatorSeconds: number;
  /** hostSeconds / wallSeconds. */
  perWallSecond: number;
  steal: { seconds: number; fraction: number; flagged: boolean };
  wallSeconds: number;
  onlineCpus: number;
  /** Attributed CPU-seconds per process selection (qemu, vhost, ...). */
  processes: Record<string, number>;
  /** NET_RX and NET_TX softirqs over the window, all CPUs. */
  netRxSoftirqs: number;
  netTxSoftirqs: number;
  interrupts: number;
  cycles: number | null;
  /** The clock while busy over the window, MHz; mhzSource says from what (perf cycles or /proc/cpuinfo). */
  effectiveMhz: number | null;
  mhzSource?: MhzSource | null;
  /** Why cycles are null, when they are. */
  perfNote: string | null;
  warnings: string[];
  /** CPU-seconds by component, where the host runs qemu guests. */
  byComponent?: CpuByComponent;
  /** The vCPU thread ids byComponent.vcpu was read from (QMP). */
  vcpuThreads?: number[];
  /** hostSeconds split over the hypervisor hosts the path crosses (they add up to it), by host name. */
  byHost?: Record<string, HostCpu>;
  /** One trial's CPU used by processes other than the run's own, where the host is this machine. */
  otherLoad?: OtherLoad;
}

/** The summary of one trial's report. */
export function summarizeCpu(report: CpuReport): CpuSummary {
  return {
    hostSeconds: report.hostSeconds,
    byCategory: { ...report.byCategory },
    generatorSeconds: report.generatorSeconds,
    perWallSecond: report.perWallSecond,
    steal: { seconds: report.steal.seconds, fraction: report.steal.fraction, flagged: report.steal.flagged },
    wallSeconds: report.wallSeconds,
    onlineCpus: report.onlineCpus,
    processes: Object.fromEntries(report.processes.map((p) => [p.name, p.seconds])),
    netRxSoftirqs: report.softirqs["NET_RX"]?.total ?? 0,
    netTxSoftirqs: report.softirqs["NET_TX"]?.total ?? 0,
    interrupts: report.interrupts.total,
    cycles: report.cycles,
    effectiveMhz: report.effectiveMhz,
    mhzSource: report.mhzSource,
    perfNote: report.perfNote,
    warnings: [...report.warnings],
  };
}

/**
 * What adds up however CPU summaries are combined (a cell's trials, or one window's machines):
 * seconds and counts summed, steal over the summed capacity (flagged when any part was), cycles
 * null unless every part counted them, the clock from the sums, warnings once each.
 */
function summedCpu(parts: readonly CpuSummary[]) {
  const total = (pick: (s: CpuSummary) => number) => parts.reduce((sum, s) => sum + pick(s), 0);
  const hostSeconds = total((s) => s.hostSeconds);
  const stealSeconds = total((s) => s.steal.seconds);
  const capacity = total((s) => s.wallSeconds * s.onlineCpus);
  const allCounted = parts.every((s) => s.cycles !== null);
  const cycles = allCounted ? total((s) => s.cycles!) : null;
  return {
    hostSeconds,
    byCategory: Object.fromEntries(
      CPU_CATEGORIES.map((c) => [c, total((s) => s.byCategory[c])]),
    ) as CategorySeconds,
    generatorSeconds: total((s) => s.generatorSeconds),
    steal: {
      seconds: stealSeconds,
      fraction: capacity > 0 ? stealSeconds / capacity : 0,
      flagged: parts.some((s) => s.steal.flagged),
    },
    netRxSoftirqs: total((s) => s.netRxSoftirqs),
    netTxSoftirqs: total((s) => s.netTxSoftirqs),
    interrupts: total((s) => s.interrupts),
    cycles,
    ...mergedClock(parts, cycles, hostSeconds),
    perfNote: allCounted ? null : (parts.find((s) => s.cycles === null)?.perfNote ?? "cycles not counted"),
    warnings: [...new Set(parts.flatMap((s) => s.warnings))],
  };
}

/**
 * A cell's CPU over its trials: seconds and counts summed, rates recomputed from the sums (never the
 * average of per-trial rates). Cycles stay null unless every trial counted them. Steal is flagged when
 * any trial was.
 */
export function mergeCpuSummaries(trials: CpuSummary[]): CpuSummary {
  const first = trials[0];
  if (!first) throw new RangeError("cannot merge the CPU of zero trials");
  const sums = summedCpu(trials);
  const wallSeconds = trials.reduce((sum, s) => sum + s.wallSeconds, 0);
  const processes: Record<string, number> = {};
  for (const s of trials)
    for (const [name, seconds] of Object.entries(s.processes))
      processes[name] = (processes[name] ?? 0) + seconds;
  return {
    ...sums,
    perWallSecond: wallSeconds > 0 ? sums.hostSeconds / wallSeconds : 0,
    wallSeconds,
    onlineCpus: Math.max(...trials.map((s) => s.onlineCpus)),
    processes,
    ...(trials.every((s) => s.byComponent)
      ? {
          byComponent: trials.map((s) => s.byComponent!).reduce(addByComponent),
          vcpuThreads: [...new Set(trials.flatMap((s) => s.vcpuThreads ?? []))],
        }
      : {}),
    ...(trials.every((s) => s.byHost) ? { byHost: mergeHosts(trials.map((s) => s.byHost!)) } : {}),
  };
}

/**
 * One window's CPU over several machines: the monitored machine's summary plus each other path
 * host's machine, measured over the same window. Seconds, counts and capacity add up; each other
 * machine is one `byHost` entry (whole); its processes are kept under `<host>/`. Cycles stay null
 * unless every machine counted them. Pure.
 */
export function addMachines(
  first: CpuSummary,
  others: ReadonlyArray<{ name: string; cpu: CpuSummary }>,
): CpuSummary {
  if (others.length === 0) return first;
  const all = [first, ...others.map((o) => o.cpu)];
  const processes = { ...first.processes };
  const byHost = { ...first.byHost };
  for (const { name, cpu } of others) {
    for (const [group, seconds] of Object.entries(cpu.processes)) processes[`${name}/${group}`] = seconds;
    const whole = attributeHosts(cpu.hostSeconds, [{ name, processSeconds: 0, packets: 0 }])[name]!;
    byHost[name] = { ...whole, effectiveMhz: cpu.effectiveMhz, mhzSource: cpu.mhzSource ?? null };
  }
  return {
    ...first,
    ...summedCpu(all),
    perWallSecond: all.reduce((sum, s) => sum + s.perWallSecond, 0),
    onlineCpus: all.reduce((sum, s) => sum + s.onlineCpus, 0),
    processes,
    byHost,
  };
}

/** The trials' clock: from the cycles' sum, else busy-seconds-weighted when all read it from one source. */
function mergedClock(
  trials: readonly CpuSummary[],
  cycles: number | null,
  hostSeconds: number,
): Pick<CpuSummary, "effectiveMhz" | "mhzSource"> {
  if (cycles !== null && hostSeconds > 0)
    return { effectiveMhz: cycles / hostSeconds / 1e6, mhzSource: "perf cycles / busy CPU-seconds" };
  const sources = new Set(trials.map((s) => s.mhzSource ?? null));
  if (sources.size !== 1 || trials.some((s) => s.effectiveMhz === null || !(s.hostSeconds > 0)))
    return { effectiveMhz: null, mhzSource: null };
  return {
    effectiveMhz: trials.reduce((sum, s) => sum + s.effectiveMhz! * s.hostSeconds, 0) / hostSeconds,
    mhzSource: [...sources][0]!,
  };
}
