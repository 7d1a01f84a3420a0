// What makes a finished trial untrustworthy: no data at all (failed), or data measured while
// something other than the path set the figures (flagged). Pure; the runner applies the verdict.

import type { CpuSummary } from "../analysis/cpu.js";
import type { TrialFlag } from "../domain/cell.js";
import type { Sample } from "../domain/sample.js";
import type { Traffic } from "../domain/traffic.js";

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
  const drift = Math.abs(observed.wallMs - observed.monotonicMs);
  if (drift > CLOCK_JUMP_TOLERANCE_MS + observed.monotonicMs * 0.001) {
    flags.push({
      reason: "clock-jump",
      detail: `the wall clock moved ${Math.round(observed.wallMs - observed.monotonicMs)} ms against the monotonic clock`,
    });
  }
  return flags;
}
