// What makes a finished trial untrustworthy: no data at all (failed), or data measured while
// something other than the path set the figures (flagged). Pure; the runner applies the verdict.

import type { CpuSummary } from "../analysis/cpu.js";
import type { TrialFlag } from "../domain/cell.js";
import type { Sample } from "../domain/sample.js";
import type { Traffic } from "../domain/traffic.js";
import { InputError } from "../errors.js";

/**
 * Wall-clock and monotonic time may drift apart by NTP slewing (at most 500 ppm) but not by more:
 * beyond this much plus 0.1 % of the trial the wall clock was stepped, and timestamps and any
 * figure from them (the trial's own start/finish, a tool's wall-clock rates) are not to be trusted.
 */
export const CLOCK_JUMP_TOLERANCE_MS = 100;

/** Why a trial that returned counts a failure anyway: nothing was measured. Null when something was. */
export function missingData(samples: readonly Sample[]): string | null {
  if (samples.length === 0) return "the driver returned no samples";
  if (samples.every((sample) => sample.messagesReceived === 0 && sample.bytesReceived === 0))
    return "the driver returned samples with nothing delivered (0 messages, 0 bytes)";
  return null;
}

export interface TrialObservation {
  traffic: Traffic;
  samples: readonly Sample[];
  cpu?: CpuSummary | null;
  /** Elapsed time of the trial by the wall clock and by the monotonic clock, ms. */
  wallMs: number;
  monotonicMs: number;
  /** `--max-other-load`: other processes' share of the host's CPU capacity above which the trial is flagged. */
  maxOtherLoad?: number;
}

/**
 * Without `--max-other-load` other processes' CPU is measured and warned about above this share of
 * the host's capacity, not flagged: on a shared CI machine other jobs are the rule, and flagged
 * trials leave the statistics.
 */
const OTHER_LOAD_WARNING = 0.25;

/** `--max-other-load 20%` (or `20`) → 0.2: a share of the host's CPU capacity, over 0 and at most 100 %. */
export function parseLoadLimit(value: string, flag = "--max-other-load"): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(value);
  const percent = match ? Number(match[1]) : Number.NaN;
  if (!(percent > 0 && percent <= 100))
    throw new InputError(
      `${flag}: '${value}' is not a share of the host's CPU: expected a percentage, e.g. 20%`,
    );
  return percent / 100;
}

/** Whether other processes' load is worth a warning (unflagged) or a flag, or neither. */
export function otherLoadVerdict(fraction: number, limit: number | undefined): "flag" | "warn" | null {
  if (limit !== undefined) return fraction > limit ? "flag" : null;
  return fraction > OTHER_LOAD_WARNING ? "warn" : null;
}

/** What other processes did in a trial, for a flag or a warning. */
export function describeOtherLoad(load: NonNullable<CpuSummary["otherLoad"]>): string {
  const top = load.top.map((p) => `${p.comm} (pid ${p.pid}) ${p.seconds.toFixed(2)} s`).join(", ");
  return `other processes used ${(load.fraction * 100).toFixed(1)} % of the host's CPU capacity${top ? `: ${top}` : ""}`;
}

/** The flags of a completed trial (empty when it can be trusted). */
export function trialFlags(observed: TrialObservation): TrialFlag[] {
  const flags: TrialFlag[] = [];
  // A peak cell's search handles a limited generator itself (it ends the search and says so).
  const limited = observed.samples.filter((sample) => sample.generatorLimited);
  if (observed.traffic.rate !== "peak" && limited.length > 0) {
    const lateness = limited.flatMap((sample) => (sample.lateness ? [sample.lateness.p99Us] : []));
    flags.push({
      reason: "generator-limited",
      detail:
        lateness.length > 0
          ? `the generator fell behind its schedule (lateness p99 ${Math.round(Math.max(...lateness))} µs)`
          : "the generator saturated its CPU",
    });
  }
  const steal = observed.cpu?.steal;
  if (steal?.flagged) {
    flags.push({
      reason: "steal",
      detail: `the hypervisor under this host took ${(steal.fraction * 100).toFixed(1)} % of CPU time (steal)`,
    });
  }
  const other = observed.cpu?.otherLoad;
  if (other && otherLoadVerdict(other.fraction, observed.maxOtherLoad) === "flag")
    flags.push({
      reason: "other-load",
      detail: `${describeOtherLoad(other)} (limit ${((observed.maxOtherLoad ?? 0) * 100).toFixed(0)} %)`,
    });
  const drift = Math.abs(observed.wallMs - observed.monotonicMs);
  if (drift > CLOCK_JUMP_TOLERANCE_MS + observed.monotonicMs * 0.001) {
    flags.push({
      reason: "clock-jump",
      detail: `the wall clock moved ${Math.round(observed.wallMs - observed.monotonicMs)} ms against the monotonic clock`,
    });
  }
  return flags;
}
