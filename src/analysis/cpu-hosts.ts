// A trial's host CPU split over the hypervisor hosts its path crosses (`summary.cpu.byHost`), and
// each host's clock over the window. Pure: the monitor measures, these functions do the arithmetic.

/** What one machine's window measured for one of the path's hosts on it. */
export interface HostMeasure {
  name: string;
  /** CPU-seconds of the processes in the host's own network namespaces (its own and its guests'). */
  processSeconds: number;
  /** Packets the interfaces of those namespaces received and sent over the window. */
  packets: number;
}

/** `summary.cpu.byHost[name]`. */
export interface HostCpu {
  /** CPU-seconds charged to the host: processSeconds + sharedSeconds. The hosts' sum is hostSeconds. */
  seconds: number;
  /** Its processes' CPU-seconds (scaled down, when they read above the machine's busy time). */
  processSeconds: number;
  /** Its share of the machine's busy time that no host's process accounts for (softirq, kernel threads). */
  sharedSeconds: number;
  /** The fraction of that shared time charged to it: its share of the hosts' packets. */
  packetShare: number;
  /** How the machine's CPU was split: the whole machine's, or by processes and packet share. */
  attribution: "machine" | "processes and packets";
  /** The host's CPU clock over the window, MHz, and where that figure comes from. */
  effectiveMhz: number | null;
  mhzSource: MhzSource | null;
}

export type MhzSource = "perf cycles / busy CPU-seconds" | "/proc/cpuinfo cpu MHz";

/**
 * Splits one machine's busy CPU-seconds over the path's hosts on it. Each host is charged its own
 * processes' CPU (the generator, qemu and every process in its namespaces), and the rest — kernel
 * work that runs in softirq or kernel threads, charged to no namespace — in proportion to the
 * packets its namespaces handled (evenly when none were counted). The shares add up to the
 * machine's seconds exactly. Process time read from schedstat can exceed the machine's idle-based
 * busy time by a little: the processes are then scaled down to it and nothing is left to share.
 */
export function attributeHosts(
  machineSeconds: number,
  hosts: readonly HostMeasure[],
): Record<string, Omit<HostCpu, "effectiveMhz" | "mhzSource">> {
  if (hosts.length === 0) throw new RangeError("no host to attribute CPU to");
  if (hosts.length === 1)
    return {
      [hosts[0]!.name]: {
        seconds: machineSeconds,
        processSeconds: Math.min(hosts[0]!.processSeconds, machineSeconds),
        sharedSeconds: Math.max(0, machineSeconds - hosts[0]!.processSeconds),
        packetShare: 1,
        attribution: "machine",
      },
    };
  const processTotal = hosts.reduce((sum, h) => sum + h.processSeconds, 0);
  const scale = processTotal > machineSeconds && processTotal > 0 ? machineSeconds / processTotal : 1;
  const shared = Math.max(0, machineSeconds - processTotal * scale);
  const packetTotal = hosts.reduce((sum, h) => sum + h.packets, 0);
  const result: Record<string, Omit<HostCpu, "effectiveMhz" | "mhzSource">> = {};
  for (const host of hosts) {
    const packetShare = packetTotal > 0 ? host.packets / packetTotal : 1 / hosts.length;
    const processSeconds = host.processSeconds * scale;
    result[host.name] = {
      seconds: processSeconds + shared * packetShare,
      processSeconds,
      sharedSeconds: shared * packetShare,
      packetShare,
      attribution: "processes and packets",
    };
  }
  return result;
}

/**
 * The clock while busy: cycles over busy CPU-seconds. Not over perf's task-clock: counted with
 * `-a` it runs on idle CPUs too (wall × CPUs), so cycles ÷ task-clock reads low by the idle share.
 */
export function mhzFromCycles(cycles: number | null, busySeconds: number): number | null {
  return cycles !== null && busySeconds > 0 ? cycles / busySeconds / 1e6 : null;
}

/** The mean of /proc/cpuinfo's `cpu MHz` lines; null where the kernel prints none (most ARM). */
export function parseCpuinfoMhz(text: string): number | null {
  const values = [...text.matchAll(/^cpu MHz\s*:\s*([\d.]+)\s*$/gm)].map((m) => Number(m[1]));
  const valid = values.filter((v) => Number.isFinite(v) && v > 0);
  return valid.length > 0 ? valid.reduce((sum, v) => sum + v, 0) / valid.length : null;
}

/** The clock of a window: from cycles where counted, else the mean of `cpu MHz` sampled during it. */
export function effectiveClock(
  cycles: number | null,
  busySeconds: number,
  cpuinfoMhz: readonly number[],
): { effectiveMhz: number | null; mhzSource: MhzSource | null } {
  const fromCycles = mhzFromCycles(cycles, busySeconds);
  if (fromCycles !== null) return { effectiveMhz: fromCycles, mhzSource: "perf cycles / busy CPU-seconds" };
  if (cpuinfoMhz.length > 0)
    return {
      effectiveMhz: cpuinfoMhz.reduce((sum, mhz) => sum + mhz, 0) / cpuinfoMhz.length,
      mhzSource: "/proc/cpuinfo cpu MHz",
    };
  return { effectiveMhz: null, mhzSource: null };
}

/** Every host's seconds times `factor` (the monitor's window to the measured window). */
export function scaleHosts(byHost: Record<string, HostCpu>, factor: number): Record<string, HostCpu> {
  return Object.fromEntries(
    Object.entries(byHost).map(([name, cpu]) => [
      name,
      {
        ...cpu,
        seconds: cpu.seconds * factor,
        processSeconds: cpu.processSeconds * factor,
        sharedSeconds: cpu.sharedSeconds * factor,
      },
    ]),
  );
}

/**
 * A cell's byHost over its trials: seconds summed, the packet share recomputed from the shared
 * seconds, the clock weighted by each trial's seconds (null unless every trial of the host has one,
 * from one source).
 */
export function mergeHosts(trials: ReadonlyArray<Record<string, HostCpu>>): Record<string, HostCpu> {
  const names = [...new Set(trials.flatMap((t) => Object.keys(t)))];
  const merged: Record<string, HostCpu> = {};
  for (const name of names) {
    const parts = trials.flatMap((t) => t[name] ?? []);
    const sum = (pick: (h: HostCpu) => number) => parts.reduce((s, h) => s + pick(h), 0);
    const seconds = sum((h) => h.seconds);
    const sources = new Set(parts.map((h) => h.mhzSource));
    const clocked = sources.size === 1 && parts.every((h) => h.effectiveMhz !== null);
    const weight = (h: HostCpu) => (seconds > 0 ? h.seconds : 1);
    merged[name] = {
      seconds,
      processSeconds: sum((h) => h.processSeconds),
      sharedSeconds: sum((h) => h.sharedSeconds),
      packetShare: parts[0]!.packetShare,
      attribution: parts.some((h) => h.attribution !== "machine") ? "processes and packets" : "machine",
      effectiveMhz: clocked ? sum((h) => h.effectiveMhz! * weight(h)) / sum(weight) : null,
      mhzSource: clocked ? parts[0]!.mhzSource : null,
    };
  }
  const shared = Object.values(merged).reduce((s, h) => s + h.sharedSeconds, 0);
  if (shared > 0) for (const host of Object.values(merged)) host.packetShare = host.sharedSeconds / shared;
  return merged;
}

/** Each host's CPU per unit of work (µs per transaction or per KB), as service demand is. */
export function demandByHost(
  byHost: Record<string, HostCpu>,
  work: { transactions?: number; bytes?: number },
  transactional: boolean,
): Record<string, { usPerTransaction?: number; usPerKB?: number }> | null {
  const units = transactional ? work.transactions : work.bytes !== undefined ? work.bytes / 1024 : undefined;
  if (units === undefined || !(units > 0)) return null;
  return Object.fromEntries(
    Object.entries(byHost).map(([name, cpu]) => {
      const us = (cpu.seconds * 1e6) / units;
      return [name, transactional ? { usPerTransaction: us } : { usPerKB: us }];
    }),
  );
}
