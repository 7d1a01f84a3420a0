// Matrix: a validated matrix file — the options of each category, how they combine, and how the
// run goes (trials, order, pauses) — plus what compare should judge it by. Pure data.

import type { Thresholds } from "../compare/compare.js";
import type { Direction } from "../domain/setup.js";
import type { Traffic } from "../domain/traffic.js";
import type { EndpointSpec } from "../endpoints/endpoints-file.js";
import type { NicSettings, QemuSettings } from "../guests/settings.js";
import type { GuestKind } from "../labs/qemu-lab.js";
import type { TrialOrder } from "../plan/order.js";
import type { NetworkSetupName } from "../setups/network.js";

/** A command run on a named endpoint. */
export interface Step {
  on: string;
  run: string[];
  timeoutS?: number;
}

/** A kernel setting an option puts in place; the value read before it is restored on revert. */
export interface SysctlSetting {
  on: string;
  name: string;
  value: string;
}

export interface OptionBase {
  name: string;
  description?: string;
  /** Set before the apply steps, restored after the revert steps. */
  sysctl?: SysctlSetting[];
  apply: Step[];
  revert: Step[];
}

/** A hypervisor option: steps and sysctls, and qemu settings that need the guests restarted. */
export interface HypervisorOption extends OptionBase {
  qemu?: QemuSettings;
}

/** A guest option: steps and sysctls, and settings of every lab guest's network interface. */
export interface GuestOption extends OptionBase {
  nic?: NicSettings;
}

export interface NetworkOption extends OptionBase {
  name: NetworkSetupName;
  direction: Direction;
}

/** Which processes a CPU setup acts on: the generator's, by name pattern, or one PID. */
export interface ProcessSelector {
  /** Endpoint name; undefined: the run's host endpoint. */
  on?: string;
  generator?: true;
  process?: string;
  pid?: number;
  /** The lab's qemu threads on this host: the vCPUs QMP names, or qemu's other threads. */
  qemu?: "vcpus" | "emulator";
  /** Only threads whose name matches this pattern. */
  threads?: string;
}

export interface PinSpec extends ProcessSelector {
  cpus: string;
}

export interface IrqSpec {
  on?: string;
  /** An IRQ number, or a pattern over its /proc/interrupts description. */
  irq: number | string;
  cpus: string;
}

export interface NumaSpec extends ProcessSelector {
  node: number;
}

export interface CpuOption extends OptionBase {
  pin: PinSpec[];
  irqAffinity: IrqSpec[];
  numa?: NumaSpec;
}

export interface TrafficOption {
  name: string;
  description?: string;
  /** The option's traffic, one per size × response size × rate. */
  traffic: Traffic[];
}

export type MatrixEndpoints =
  | { kind: "default"; guests?: GuestKind }
  | { kind: "lab"; lab: string }
  | { kind: "file"; file: string; specs: EndpointSpec[] }
  | { kind: "inline"; specs: EndpointSpec[] };

/** Category → option names a rule allows. */
export type Rule = Partial<Record<"network" | "cpu" | "guest" | "hypervisor" | "traffic", string[]>>;

export interface Matrix {
  file: string;
  /** The file's text and its sha256, stored with the run (resume re-reads them from the store). */
  text: string;
  sha256: string;
  name?: string;
  endpoints: MatrixEndpoints;
  network: NetworkOption[];
  cpu: CpuOption[];
  guest: GuestOption[];
  hypervisor: HypervisorOption[];
  traffic: TrafficOption[];
  include: Rule[];
  exclude: Rule[];
  trials: number;
  order: TrialOrder;
  /** Null: pick one when the run is created (then it is recorded). */
  seed: number | null;
  pauses: { betweenTrialsS: number; betweenCellsS: number };
  acceptance: Partial<Thresholds>;
}

export const DEFAULT_TRIALS = 3;
