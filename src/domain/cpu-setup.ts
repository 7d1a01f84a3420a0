// What a CPU setup did, read back from the machine after applying it: stored with every trial.

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
