// Host CPU measured beside a trial, over its measured window, and turned into service demand.

import { addMachines, type CpuSummary, mergeCpuSummaries, summarizeCpu } from "../analysis/cpu.js";
import {
  type CpuByComponent,
  cpuByComponent,
  demandByComponent,
  type HypervisorTasks,
  QEMU_GROUP,
  VHOST_GROUP,
  vhostPattern,
} from "../analysis/cpu-components.js";
import { attributeHosts, demandByHost, type HostCpu, scaleHosts } from "../analysis/cpu-hosts.js";
import { type ServiceDemand, serviceDemand } from "../analysis/service-demand.js";
import { isTrusted, type Trial } from "../domain/cell.js";
import { type CpuSeriesPoint, compact, type Sample } from "../domain/sample.js";
import { isTransactional, type Traffic } from "../domain/traffic.js";
import { type GeneratorProcess, generatorPidsOn, type PathHost } from "../drivers/driver.js";
import type { Endpoint } from "../endpoints/endpoint.js";
import { onThisMachine, sameMachine } from "../endpoints/machine.js";
import { type CpuMonitor, startCpuMonitor } from "../monitors/cpu-monitor.js";
import type { CpuReport, CpuTimelinePoint } from "../monitors/cpu-report.js";
import { type HostShareWindow, hostGroup, openHostShare } from "../monitors/host-share.js";
import { otherLoadBetween, type ProcStat, readProcStats } from "../monitors/other-load.js";
import { probePerf } from "../monitors/perf-probe.js";

export interface TrialCpu {
  cpu: CpuSummary | null;
  serviceDemand: ServiceDemand | null;
  /** Host CPU-seconds over the samples' measured window (perWallSecond × window), for pooling. */
  windowCpuSeconds: number | null;
  /** The generator's processes' share of windowCpuSeconds. */
  windowGeneratorSeconds?: number | null;
  /** Why CPU could not be measured, when it could not. */
  cpuError?: string;
  /** Host CPU per interval of the window (the monitor's samples). */
  cpuSeries?: CpuSeriesPoint[];
}

/** The monitor's timeline as CPUs busy per interval. Pure. */
function cpuSeriesOf(timeline: readonly CpuTimelinePoint[]): CpuSeriesPoint[] {
  return timeline
    .filter((point) => point.dt > 0)
    .map((point) => ({
      tS: compact(point.t),
      intervalS: compact(point.dt),
      hostCpus: compact(point.hostSeconds / point.dt),
      generatorCpus: compact(point.generatorSeconds / point.dt),
    }));
}

export interface CpuOptions {
  host: Endpoint | null;
  intervalMs?: number;
  /** The generator's processes, wherever they run: each machine's monitor gets those on it. */
  generator?: readonly GeneratorProcess[];
  /** qemu processes and vCPU threads on the host, to split its CPU by component. */
  hypervisor?: HypervisorTasks | null;
  /**
   * The hosts the path crosses. On a netns lab they share `host`'s machine and split its CPU; a
   * host on another machine (over ssh) gets a monitor of its own, and its CPU adds to the total.
   */
  hosts?: readonly PathHost[];
  /** Count cycles with perf; default: wherever `perf stat -a` counts them on the host. */
  perf?: boolean;
}

/** Service demand of the host's CPU over a window, with and without the generator's processes. */
function demandOf(
  traffic: Traffic,
  samples: readonly Sample[],
  hostSeconds: number,
  generatorSeconds: number,
  cycles: number | null,
  cpu?: CpuSummary,
): ServiceDemand | null {
  const work = workOf(traffic, samples);
  const transactional = isTransactional(traffic.pattern);
  try {
    const demand = serviceDemand({ hostSeconds, cycles }, work, transactional);
    const { usPerTransaction, usPerKB } = serviceDemand(
      { hostSeconds: Math.max(0, hostSeconds - generatorSeconds), cycles: null },
      work,
      transactional,
    );
    const factor = hostSeconds / Math.max(cpu?.hostSeconds ?? 0, 1e-9);
    const components = cpu?.byComponent ? demandByComponent(scale(cpu.byComponent, factor), work) : null;
    const hosts = cpu?.byHost ? demandByHost(scaleHosts(cpu.byHost, factor), work, transactional) : null;
    return {
      ...demand,
      withoutGenerator: transactional ? { usPerTransaction } : { usPerKB },
      ...(components ? { byComponent: components } : {}),
      ...(hosts ? { byHost: hosts } : {}),
    };
  } catch {
    return null; // no work delivered: no service demand, the CPU figures still stand
  }
}

/** The components scaled to the measured window (the monitor's window is a little longer). */
function scale(seconds: CpuByComponent, factor: number): CpuByComponent {
  return {
    vcpu: seconds.vcpu * factor,
    qemu: seconds.qemu * factor,
    vhost: seconds.vhost * factor,
    generator: seconds.generator * factor,
    rest: seconds.rest * factor,
  };
}

/** Units of work a trial delivered: transactions (rr, crr, paced) or bytes (streams), all directions. */
function workOf(traffic: Traffic, samples: readonly Sample[]): { transactions?: number; bytes?: number } {
  if (isTransactional(traffic.pattern))
    return { transactions: samples.reduce((sum, s) => sum + s.messagesReceived, 0) };
  return { bytes: samples.reduce((sum, s) => sum + s.bytesReceived, 0) };
}

/**
 * Runs the trial with a CPU monitor on the host that opens when the warm-up ends and closes when
 * the measured window does — not when the trial returns: an open-loop trial then waits for its
 * last answers, and that drain's near-idle CPU would dilute the window's.
 */
export async function measureWithCpu(
  traffic: Traffic,
  options: CpuOptions,
  run: () => Promise<Sample[]>,
  startMonitor: typeof startCpuMonitor = startCpuMonitor,
): Promise<{ samples: Sample[] } & TrialCpu> {
  const { host } = options;
  if (!host) return { samples: await run(), cpu: null, serviceDemand: null, windowCpuSeconds: null };
  const perf = options.perf ?? (await probePerf(host));
  const generator = options.generator ?? [];
  const generatorPids = generatorPidsOn(generator, host);
  const { local: hostsHere, elsewhere } = hostsByMachine(host, options.hosts ?? []);
  // Probed before the trial (once per endpoint): a probe over ssh would eat into the window.
  const perfElsewhere = await Promise.all(
    elsewhere.map((other) => options.perf ?? probePerf(other.endpoint).then((support) => support.counts)),
  );
  // Several hosts on this machine (a netns lab) split its CPU; one host takes it whole.
  const shared = hostsHere.length > 1 && hostsHere.every((h) => h.namespaces.length > 0);
  let monitor: Promise<{ monitor: CpuMonitor; share: HostShareWindow | null }> | null = null;
  let remote: Array<Promise<{ name: string; monitor: CpuMonitor }>> = [];
  let stopped: Promise<{ report: CpuReport; share: HostShareWindow | null }> | null = null;
  let remoteStopped: Array<Promise<{ name: string; report: CpuReport }>> = [];
  // Other processes' CPU is read from this host's /proc, where the host is this machine.
  const here = onThisMachine(host);
  let othersBefore: Map<number, ProcStat> | null = null;
  let othersAfter: Map<number, ProcStat> | null = null;
  const stop = () => {
    if (here && othersBefore && !othersAfter) othersAfter = readProcStats();
    stopped ??= monitor
      ? monitor.then(async ({ monitor, share }) => ({ report: await monitor.stop(), share }))
      : null;
    stopped?.catch(() => {});
    if (remoteStopped.length === 0)
      remoteStopped = remote.map((started) =>
        started.then(async ({ name, monitor }) => ({ name, report: await monitor.stop() })),
      );
    for (const pending of remoteStopped) pending.catch(() => {});
  };
  const opens = setTimeout(() => {
    if (here) othersBefore = readProcStats();
    const qemuPids = options.hypervisor?.qemuPids ?? [];
    const processes = qemuPids.length
      ? [
          { name: QEMU_GROUP, pids: qemuPids },
          { name: VHOST_GROUP, pattern: vhostPattern(qemuPids) },
        ]
      : [];
    monitor = (async () => {
      const share = shared ? await openHostShare(host, hostsHere) : null;
      const started = await startMonitor(host, {
        intervalMs: options.intervalMs,
        generatorPids,
        processes: [...processes, ...(share?.selectors ?? [])],
        perf: typeof perf === "boolean" ? perf : perf.counts,
      });
      return { monitor: started, share };
    })();
    monitor.catch(() => {});
    remote = elsewhere.map(async (other, i) => {
      const started = await startMonitor(other.endpoint, {
        intervalMs: options.intervalMs,
        generatorPids: generatorPidsOn(generator, other.endpoint),
        perf: perfElsewhere[i],
      });
      return { name: other.name, monitor: started };
    });
    for (const pending of remote) pending.catch(() => {});
  }, traffic.warmupS * 1000);
  const closes = setTimeout(stop, (traffic.warmupS + traffic.durationS) * 1000);
  let samples: Sample[];
  try {
    samples = await run();
  } finally {
    clearTimeout(opens);
    clearTimeout(closes);
  }
  stop();
  if (!stopped)
    return {
      samples,
      cpu: null,
      serviceDemand: null,
      windowCpuSeconds: null,
      cpuError: "trial ended before its warm-up did",
    };
  try {
    const { report, share } = await stopped!;
    let cpu = summarizeCpu(report);
    if (typeof perf !== "boolean" && !perf.counts) cpu.perfNote = perf.reason;
    cpu.byHost = await hostsCpu(report, host, hostsHere, share);
    for (const group of Object.keys(cpu.byHost)) delete cpu.processes[hostGroup(group)];
    if (othersBefore && othersAfter) {
      const ours = [process.pid, ...generatorPids, ...(options.hypervisor?.qemuPids ?? [])];
      cpu.otherLoad = otherLoadBetween(othersBefore, othersAfter, ours, cpu.wallSeconds * cpu.onlineCpus);
    }
    if (options.hypervisor?.qemuPids.length) {
      cpu.byComponent = cpuByComponent(report, options.hypervisor);
      cpu.vcpuThreads = [...options.hypervisor.vcpuTids];
    }
    const others = await Promise.allSettled(remoteStopped);
    const measuredElsewhere = others.flatMap((other) =>
      other.status === "fulfilled" ? [{ name: other.value.name, cpu: summarizeCpu(other.value.report) }] : [],
    );
    cpu = addMachines(cpu, measuredElsewhere);
    const unmonitored = elsewhere.filter((h) => !(h.name in cpu.byHost!));
    if (unmonitored.length > 0) {
      const why = others.flatMap((o) => (o.status === "rejected" ? [(o.reason as Error).message] : []));
      cpu.warnings.push(
        `the path also crosses ${unmonitored.map((h) => h.name).join(", ")}, whose CPU could not be monitored${why.length ? `: ${why.join("; ")}` : ""}`,
      );
    }
    const windowS = Math.max(...samples.map((sample) => sample.durationS));
    const windowCpuSeconds = cpu.perWallSecond * windowS;
    const windowGeneratorSeconds = (cpu.generatorSeconds / cpu.wallSeconds) * windowS;
    const cycles = cpu.cycles === null ? null : (cpu.cycles / cpu.wallSeconds) * windowS;
    const demand = demandOf(traffic, samples, windowCpuSeconds, windowGeneratorSeconds, cycles, cpu);
    return {
      samples,
      cpu,
      serviceDemand: demand,
      windowCpuSeconds,
      windowGeneratorSeconds,
      cpuSeries: cpuSeriesOf((report as CpuReport).timeline),
    };
  } catch (error) {
    return {
      samples,
      cpu: null,
      serviceDemand: null,
      windowCpuSeconds: null,
      cpuError: (error as Error).message,
    };
  }
}

/**
 * The path's hosts on the monitored machine (a netns lab's, or the host itself), and one host per
 * other machine, which gets a monitor of its own. Pure.
 */
export function hostsByMachine(
  machine: Endpoint,
  hosts: readonly PathHost[],
): { local: PathHost[]; elsewhere: PathHost[] } {
  const onMachine = (h: PathHost) => h.namespaces.length > 0 || sameMachine(h.endpoint, machine);
  const elsewhere: PathHost[] = [];
  for (const h of hosts.filter((h) => !onMachine(h)))
    if (!elsewhere.some((other) => sameMachine(other.endpoint, h.endpoint))) elsewhere.push(h);
  return { local: hosts.filter(onMachine), elsewhere };
}

/** The report's host CPU by path host: split by processes and packets when they share the machine. */
async function hostsCpu(
  report: CpuReport,
  machine: Endpoint,
  hosts: readonly PathHost[],
  share: HostShareWindow | null,
): Promise<Record<string, HostCpu>> {
  // The path's one host on the monitored machine (itself, or a lab's namespace) takes its CPU whole.
  const only = hosts.length === 1;
  const measures = share
    ? await share.close(report)
    : [{ name: only ? hosts[0]!.name : machine.name, processSeconds: 0, packets: 0 }];
  const split = attributeHosts(report.hostSeconds, measures);
  return Object.fromEntries(
    Object.entries(split).map(([name, cpu]) => [
      name,
      { ...cpu, effectiveMhz: report.effectiveMhz, mhzSource: report.mhzSource },
    ]),
  );
}

/** A cell's CPU: seconds summed over trials; service demand pooled (Σ CPU over Σ work). */
export function summarizeTrialCpu(
  traffic: Traffic,
  trials: readonly Trial[],
): { cpu: CpuSummary | null; serviceDemand: ServiceDemand | null } {
  const measured = trials.filter((trial) => isTrusted(trial) && trial.cpu && trial.windowCpuSeconds != null);
  if (measured.length === 0) return { cpu: null, serviceDemand: null };
  const cpu = mergeCpuSummaries(measured.map((trial) => trial.cpu!));
  const windowCpu = measured.reduce((sum, trial) => sum + trial.windowCpuSeconds!, 0);
  const windowGenerator = measured.reduce((sum, trial) => sum + (trial.windowGeneratorSeconds ?? 0), 0);
  const cycles = cpu.cycles === null ? null : (cpu.cycles / cpu.hostSeconds) * windowCpu;
  const samples = measured.flatMap((trial) => trial.samples);
  return { cpu, serviceDemand: demandOf(traffic, samples, windowCpu, windowGenerator, cycles, cpu) };
}
