// A trial's host CPU split by component: vCPU threads, qemu's other threads, vhost workers, the
// traffic generator, and the rest — what the path costs, told apart.

import type { CpuReport } from "../monitors/cpu-report.js";

/** The hypervisor's processes a trial's CPU is split by (from pidfiles and QMP). */
export interface HypervisorTasks {
  qemuPids: number[];
  /** vCPU thread ids, as QMP query-cpus-fast names them. */
  vcpuTids: number[];
  /** libvirt domains among them: their threads are pinned with virsh (vcpupin, emulatorpin). */
  libvirt?: LibvirtDomainTasks[];
}

export interface LibvirtDomainTasks {
  domain: string;
  uri: string;
  pid: number;
  /** Each vCPU's index and thread. */
  vcpus: { vcpu: number; tid: number }[];
}

/** `summary.cpu.byComponent`: CPU-seconds per component. */
export interface CpuByComponent {
  vcpu: number;
  qemu: number;
  vhost: number;
  generator: number;
  rest: number;
}

export const QEMU_GROUP = "qemu";
export const VHOST_GROUP = "vhost";

/** vhost-net's workers are named vhost-QEMUPID: kernel threads before Linux 6.4 (this pattern finds them). */
export function vhostPattern(qemuPids: readonly number[]): string {
  return `^vhost-(${qemuPids.join("|")})$`;
}

/** Splits the report's host CPU: the rest is what no component's threads account for (never below 0). */
export function cpuByComponent(report: CpuReport, tasks: HypervisorTasks): CpuByComponent {
  const vcpus = new Set(tasks.vcpuTids);
  const qemu = report.processes.find((p) => p.name === QEMU_GROUP);
  const threads = qemu?.threads ?? [];
  const seconds = (pick: (t: (typeof threads)[number]) => boolean) =>
    threads.filter(pick).reduce((s, t) => s + t.seconds, 0);
  const vcpu = seconds((t) => vcpus.has(t.tid));
  // Since Linux 6.4 vhost's workers are threads of qemu: they are vhost's, not the emulator's.
  const vhostThreads = seconds((t) => !vcpus.has(t.tid) && /^vhost-\d+$/.test(t.name));
  const qemuOther = (qemu?.seconds ?? 0) - vcpu - vhostThreads;
  const vhost = (report.processes.find((p) => p.name === VHOST_GROUP)?.seconds ?? 0) + vhostThreads;
  const generator = report.generatorSeconds;
  const rest = Math.max(0, report.hostSeconds - vcpu - qemuOther - vhost - generator);
  return { vcpu, qemu: qemuOther, vhost, generator, rest };
}

export function addByComponent(a: CpuByComponent, b: CpuByComponent): CpuByComponent {
  return {
    vcpu: a.vcpu + b.vcpu,
    qemu: a.qemu + b.qemu,
    vhost: a.vhost + b.vhost,
    generator: a.generator + b.generator,
    rest: a.rest + b.rest,
  };
}

/** Each component's CPU per unit of work (µs per transaction or per KB), as service demand is. */
export function demandByComponent(
  seconds: CpuByComponent,
  work: { transactions?: number; bytes?: number },
): CpuByComponent | null {
  const units = work.transactions ?? (work.bytes !== undefined ? work.bytes / 1024 : 0);
  if (!(units > 0)) return null;
  const per = (s: number) => (s * 1e6) / units;
  return {
    vcpu: per(seconds.vcpu),
    qemu: per(seconds.qemu),
    vhost: per(seconds.vhost),
    generator: per(seconds.generator),
    rest: per(seconds.rest),
  };
}
