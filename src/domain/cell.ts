// Cell: one combination of the matrix; Trial: one timed execution of it.

import type { CpuSummary } from "../analysis/cpu.js";
import type { PeakResult } from "../analysis/peak-search.js";
import type { ServiceDemand } from "../analysis/service-demand.js";
import type { CpuSetupState, GuestSetupState, HypervisorSetupState } from "./cpu-setup.js";
import type { CpuSeriesPoint, Sample } from "./sample.js";
import type { SetupSelection } from "./setup.js";
import { flowsOf, ipOf, type Traffic } from "./traffic.js";

export interface Cell {
  /** Stable string naming every parameter; baseline and candidate cells match on it. */
  key: string;
  setup: SetupSelection;
  traffic: Traffic;
}

export type TrialStatus = "completed" | "failed";

/** Why a completed trial's figures are not trusted: it is kept and shown, but left out of statistics. */
export type FlagReason = "generator-limited" | "steal" | "clock-jump" | "other-load";

export interface TrialFlag {
  reason: FlagReason;
  /** What was seen, e.g. "steal 3.2 % of CPU time (limit 1 %)". */
  detail: string;
}

/** `virsh domstats` of a libvirt domain: its `key=value` lines, numbers as numbers. */
export type DomainStats = Record<string, number | string>;

/** A domain's `virsh domstats` around one trial (`trial.domstats[endpoint]`). */
export interface TrialDomainStats {
  domain: string;
  uri: string;
  /** After the trial. */
  stats: DomainStats;
  /** The counters that moved during the trial (after − before). */
  delta: Record<string, number>;
}

export interface Trial {
  cellKey: string;
  /** 1-based repetition number within the cell. */
  trial: number;
  status: TrialStatus;
  startedAt: string;
  finishedAt: string;
  /** One sample per direction (two for a bidirectional cell). */
  samples: Sample[];
  error?: string;
  /** Host CPU over the measured window (null when no host endpoint is described or it failed). */
  cpu?: CpuSummary | null;
  serviceDemand?: ServiceDemand | null;
  /** Host CPU-seconds scaled to the samples' measured window, for pooling service demand. */
  windowCpuSeconds?: number | null;
  /** The traffic generator's processes' share of windowCpuSeconds. */
  windowGeneratorSeconds?: number | null;
  cpuError?: string;
  /** Host CPU per interval of the measured window (the samples carry the traffic's own series). */
  cpuSeries?: CpuSeriesPoint[];
  /** The cell's CPU setup as read back from the machine before the trial (matrix runs). */
  cpuSetup?: CpuSetupState;
  /** The hypervisor option's qemu settings as read back before the trial (qemu labs). */
  hypervisorSetup?: HypervisorSetupState;
  /** The guest option's in-guest settings as read back before the trial. */
  guestSetup?: GuestSetupState;
  /** Each libvirt endpoint's `virsh domstats` after the trial and what moved during it, by endpoint. */
  domstats?: Record<string, TrialDomainStats>;
  /** The peak search and its latency–load curve, for a cell whose rate is `peak`. */
  peak?: PeakResult;
  /** Present when the trial completed but is not trusted (left out of summaries and comparisons). */
  flags?: TrialFlag[];
}

/** A completed trial with no flag: the only kind statistics are made of. */
export function isTrusted(trial: Trial): boolean {
  return trial.status === "completed" && (trial.flags?.length ?? 0) === 0;
}

/**
 * The cell key: every parameter that changes what is measured, in a fixed order. Flows and the IP
 * version appear only when not the default (1, 4), so keys stored before they existed still match.
 */
export function cellKey(setup: SetupSelection, traffic: Traffic): string {
  const sizes = `${traffic.requestSize}/${traffic.responseSize}`;
  return [
    `net=${setup.network}:${setup.direction}`,
    `cpu=${setup.cpu}`,
    `guest=${setup.guest}`,
    `hv=${setup.hypervisor}`,
    `${traffic.driver}:${traffic.protocol}:${traffic.pattern}`,
    `size=${sizes}`,
    `rate=${traffic.rate}`,
    `t=${traffic.durationS}s+${traffic.warmupS}s`,
    ...(flowsOf(traffic) > 1 ? [`flows=${flowsOf(traffic)}`] : []),
    ...(ipOf(traffic) !== 4 ? [`ip=${ipOf(traffic)}`] : []),
  ].join(" ");
}
