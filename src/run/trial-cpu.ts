// Host CPU measured beside a trial, over its measured window, and turned into service demand.

import { type CpuSummary, mergeCpuSummaries, summarizeCpu } from "../analysis/cpu.js";
import {
  type CpuByComponent,
  cpuByComponent,
  demandByComponent,
  type HypervisorTasks,
  QEMU_GROUP,
  VHOST_GROUP,
  vhostPattern,
} from "../analysis/cpu-components.js";
import { type ServiceDemand, serviceDemand } from "../analysis/service-demand.js";
import { isTrusted, type Trial } from "../domain/cell.js";
import type { Sample } from "../domain/sample.js";
import { isTransactional, type Traffic } from "../domain/traffic.js";
import type { Endpoint } from "../endpoints/endpoint.js";
import { type CpuMonitor, startCpuMonitor } from "../monitors/cpu-monitor.js";
import type { CpuReport } from "../monitors/cpu-report.js";
import { otherLoadBetween, type ProcStat, readProcStats } from "../monitors/other-load.js";

export interface TrialCpu {
  cpu: CpuSummary | null;
  serviceDemand: ServiceDemand | null;
  /** Host CPU-seconds over the samples' measured window (perWallSecond × window), for pooling. */
  windowCpuSeconds: number | null;
  /** The generator's processes' share of windowCpuSeconds. */
  windowGeneratorSeconds?: number | null;
  /** Why CPU could not be measured, when it could not. */
  cpuError?: string;
}

export interface CpuOptions {
  host: Endpoint | null;
  intervalMs?: number;
  generatorPids?: number[];
  /** qemu processes and vCPU threads on the host, to split its CPU by component. */
  hypervisor?: HypervisorTasks | null;
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
    const components = cpu?.byComponent
      ? demandByComponent(scale(cpu.byComponent, hostSeconds / Math.max(cpu.hostSeconds, 1e-9)), work)
      : null;
    return {
      ...demand,
      withoutGenerator: transactional ? { usPerTransaction } : { usPerKB },
      ...(components ? { byComponent: components } : {}),
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
  let monitor: Promise<CpuMonitor> | null = null;
  let stopped: Promise<CpuReport> | null = null;
  // Other processes' CPU is read from this host's /proc, where the host is this machine.
  const here = host.kind === "local" || host.kind === "netns";
  let othersBefore: Map<number, ProcStat> | null = null;
  let othersAfter: Map<number, ProcStat> | null = null;
  const stop = () => {
    if (here && othersBefore && !othersAfter) othersAfter = readProcStats();
    stopped ??= monitor ? monitor.then((started) => started.stop()) : null;
    stopped?.catch(() => {});
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
    monitor = startMonitor(host, {
      intervalMs: options.intervalMs,
      generatorPids: options.generatorPids,
      processes,
    });
    monitor.catch(() => {});
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
    const report = await (stopped as Promise<CpuReport>);
    const cpu = summarizeCpu(report);
    if (othersBefore && othersAfter) {
      const ours = [process.pid, ...(options.generatorPids ?? []), ...(options.hypervisor?.qemuPids ?? [])];
      cpu.otherLoad = otherLoadBetween(othersBefore, othersAfter, ours, cpu.wallSeconds * cpu.onlineCpus);
    }
    if (options.hypervisor?.qemuPids.length) {
      cpu.byComponent = cpuByComponent(report, options.hypervisor);
      cpu.vcpuThreads = [...options.hypervisor.vcpuTids];
    }
    const windowS = Math.max(...samples.map((sample) => sample.durationS));
    const windowCpuSeconds = cpu.perWallSecond * windowS;
    const windowGeneratorSeconds = (cpu.generatorSeconds / cpu.wallSeconds) * windowS;
    const cycles = cpu.cycles === null ? null : (cpu.cycles / cpu.wallSeconds) * windowS;
    const demand = demandOf(traffic, samples, windowCpuSeconds, windowGeneratorSeconds, cycles, cpu);
    return { samples, cpu, serviceDemand: demand, windowCpuSeconds, windowGeneratorSeconds };
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
