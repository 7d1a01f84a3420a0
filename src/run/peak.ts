// A cell whose rate is `peak`: the peak search run on a driver session, every search trial with
// host CPU and service demand beside it, the whole search stored as one trial.

import { pointOf } from "../analysis/peak-point.js";
import {
  type PeakResult,
  type PeakSearchOptions,
  searchPeak,
  type TrialKind,
} from "../analysis/peak-search.js";
import type { Sample } from "../domain/sample.js";
import type { Direction } from "../domain/setup.js";
import type { Traffic } from "../domain/traffic.js";
import type { DriverSession, PathHost } from "../drivers/driver.js";
import type { Endpoint } from "../endpoints/endpoint.js";
import { measureWithCpu, type TrialCpu } from "./trial-cpu.js";

/** Search trials are short: long enough to fill a queue that cannot drain, short enough to take a dozen. */
export const SEARCH_TRIAL = { durationS: 1, warmupS: 0.3 } as const;

/** Short trials a search usually takes to bracket and bisect: 10–15 rates, two trials that agree each. */
const TYPICAL_SEARCH_TRIALS = 24;

/**
 * Seconds a peak search of this traffic usually takes: the unloaded trial and the confirmations
 * (two that agree at the peak, two at the upper bound) are long.
 */
export function peakSearchSeconds(
  traffic: Pick<Traffic, "durationS" | "warmupS">,
  overheadS: number,
): number {
  const long = traffic.durationS + traffic.warmupS + overheadS;
  return 5 * long + TYPICAL_SEARCH_TRIALS * (SEARCH_TRIAL.durationS + SEARCH_TRIAL.warmupS + overheadS);
}

export interface PeakTrialOptions {
  /** The host whose CPU each search trial accounts, or null. */
  host: Endpoint | null;
  /** The hosts the path crosses, whose CPU the trials split (see measureWithCpu). */
  hosts?: readonly PathHost[];
  direction?: Direction;
  signal?: AbortSignal;
  /** Criteria, precision and rates of the search (defaults: PEAK_DEFAULTS). */
  search?: PeakSearchOptions;
  /** Measured window and warm-up of search trials; the unloaded and confirmation trials take the traffic's own. */
  searchTrial?: { durationS: number; warmupS: number };
}

export type PeakTrial = { samples: Sample[]; peak: PeakResult } & TrialCpu;

/** A numeric rate standing for the search's rates when asking a driver what it supports. */
const PEAK_PROBE_RATE = 1000;

/** Why a cell cannot have rate `peak`, or null: the search offers loads, so the pattern is open loop. */
export function peakUnsupported(
  traffic: Traffic,
  driverUnsupported: (traffic: Traffic) => string | null,
): string | null {
  if (traffic.pattern !== "paced")
    return `rate peak searches over offered loads: it needs the paced pattern, not ${traffic.pattern}`;
  return driverUnsupported({ ...traffic, rate: PEAK_PROBE_RATE });
}

/**
 * Runs the peak search of a cell's traffic on an open session. The samples, CPU and service demand
 * returned are those of the confirmation at the peak, or of the last trial when no peak was found;
 * the peak carries the whole curve.
 */
export async function runPeakTrial(
  session: DriverSession,
  traffic: Traffic,
  options: PeakTrialOptions,
): Promise<PeakTrial> {
  if (traffic.pattern !== "paced")
    throw new Error(
      `rate peak needs the paced pattern (open loop at an offered rate), got ${traffic.pattern}`,
    );
  const short = {
    durationS: Math.min(traffic.durationS, options.searchTrial?.durationS ?? SEARCH_TRIAL.durationS),
    warmupS: Math.min(traffic.warmupS, options.searchTrial?.warmupS ?? SEARCH_TRIAL.warmupS),
  };
  const trials: Array<{ samples: Sample[] } & TrialCpu> = [];
  const measure = async (rate: number, kind: TrialKind) => {
    if (options.signal?.aborted) throw new Error("trial aborted");
    const trialTraffic: Traffic = { ...traffic, rate, ...(kind === "search" ? short : {}) };
    const measured = await measureWithCpu(
      trialTraffic,
      {
        host: options.host,
        hosts: options.hosts,
        generator: session.generatorProcesses?.() ?? [],
      },
      () => session.runTrial(trialTraffic, { direction: options.direction, signal: options.signal }),
    );
    trials.push(measured);
    return pointOf(rate, measured.samples, measured.cpu, measured.serviceDemand);
  };
  const peak = await searchPeak(measure, options.search);
  // One curve point per trial, in order: the result's trial is the last good one at the peak.
  let index = trials.length - 1;
  while (peak.messagesPerSecond !== null && index > 0) {
    const point = peak.curve[index]!;
    if (point.verdict === "good" && point.offeredMessagesPerSecond === peak.messagesPerSecond) break;
    index--;
  }
  return { ...trials[index]!, peak };
}
