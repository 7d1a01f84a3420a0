// What a CPU setup did, read back from the machine after applying it, and what guest and
// hypervisor options read back as: stored with every trial.

import type { MachineReadBack, NicSettings } from "../guests/settings.js";

/** One thread's CPU affinity: what it was before, and what the kernel reports now. */
export interface PinnedTask {
  endpoint: string;
  pid: number;
  tid: number;
  /** The thread's name (comm). */
  comm: string;
  /** Affinity read back after setting it (Cpus_allowed_list). */
  cpus: string;
  previous: string;
  /** A libvirt domain's thread, pinned with `virsh vcpupin` (vCPU `vcpu`) or `virsh emulatorpin` (no vcpu). */
  libvirt?: { domain: string; uri: string; vcpu?: number };
}

/** One IRQ's affinity, read back from /proc/irq/N/smp_affinity_list. */
export interface IrqAffinity {
  endpoint: string;
  irq: number;
  description: string;
  cpus: string;
  previous: string;
}

export interface CpuSetupState {
  /** The cpu option's name. */
  option: string;
  /** `none`: the option changes nothing (default scheduling); `applied`: every change was read back. */
  status: "none" | "applied";
  pins: PinnedTask[];
  irqs: IrqAffinity[];
  numa?: { endpoint: string; node: number; cpus: string; tasks: PinnedTask[] };
}

/** A hypervisor option's qemu machine as each guest reads back (QMP, host threads, guest driver). */
export interface HypervisorSetupState {
  option: string;
  /** Guest restarts so far in this run (a hypervisor option needing another machine restarts them). */
  restarts: number;
  guests: Record<string, MachineReadBack>;
}

/** A guest option's NIC settings as each guest reads them back. */
export interface GuestSetupState {
  option: string;
  nics: Record<string, NicSettings>;
}
