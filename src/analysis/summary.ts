// A cell's summary over its trusted trials (completed, not flagged): latency from the merged histogram (never averaged
// percentiles), rates pooled over the measured time, loss from summed counts.

import { isTrusted, type Trial } from "../domain/cell.js";
import { type LatencySummary, type LossSummary, lossOf, type Sample } from "../domain/sample.js";
import { mergeHistograms, summarizeLatency } from "./latency.js";

export interface CellSummary {
  /** Trusted trials the summary is made of (completed, not flagged). */
  trials: number;
  latencyUs: LatencySummary | null;
  messagesPerSecond: number | null;
  throughputMbps: number | null;
  loss: LossSummary;
  /** Worst sender lateness p99 over the trials, µs (open-loop patterns). */
  latenessP99Us: number | null;
  /** Worst receive lag p99 over the trials, µs: how long answers waited to be read (open-loop patterns). */
  receiveLagP99Us: number | null;
  /** Worst p99 over the trials of latency with the tool's own delays taken out, µs (open-loop patterns). */
  pathLatencyP99Us: number | null;
  generatorLimited: boolean;
  warnings: string[];
}

export function samplesOf(trials: readonly Trial[], direction: Sample["direction"] = "forward"): Sample[] {
  return trials
    .filter(isTrusted)
    .flatMap((trial) => trial.samples.filter((sample) => sample.direction === direction));
}

export function summarizeSamples(samples: readonly Sample[]): CellSummary {
  const durationS = samples.reduce((sum, sample) => sum + sample.durationS, 0);
  const histograms = samples.flatMap((sample) => (sample.histogram ? [sample.histogram] : []));
  const merged = mergeHistograms(histograms);
  const sum = (pick: (sample: Sample) => number) =>
    samples.reduce((total, sample) => total + pick(sample), 0);
  const lateness = samples.flatMap((sample) => (sample.lateness ? [sample.lateness.p99Us] : []));
  const receiveLag = samples.flatMap((sample) => (sample.receiveLag ? [sample.receiveLag.p99Us] : []));
  const pathLatency = samples.flatMap((sample) => (sample.pathLatency ? [sample.pathLatency.p99Us] : []));
  return {
    trials: samples.length,
    latencyUs: merged ? summarizeLatency(merged) : null,
    messagesPerSecond: durationS > 0 ? sum((s) => s.messagesReceived) / durationS : null,
    throughputMbps: durationS > 0 ? sum((s) => s.throughputMbps * s.durationS) / durationS : null,
    loss: {
      ...lossOf(
        sum((s) => s.loss.sent),
        sum((s) => s.loss.received),
        sum((s) => s.loss.reordered),
        sum((s) => s.loss.duplicates),
      ),
      ...(samples.some((s) => s.loss.socketDrops !== undefined)
        ? { socketDrops: sum((s) => s.loss.socketDrops ?? 0) }
        : {}),
    },
    latenessP99Us: lateness.length > 0 ? Math.max(...lateness) : null,
    receiveLagP99Us: receiveLag.length > 0 ? Math.max(...receiveLag) : null,
    pathLatencyP99Us: pathLatency.length > 0 ? Math.max(...pathLatency) : null,
    generatorLimited: samples.some((sample) => sample.generatorLimited),
    warnings: [...new Set(samples.flatMap((sample) => sample.warnings))],
  };
}

/** The trials a cell's statistics leave out, counted, and every reason given. */
export interface ExcludedTrials {
  failed: number;
  flagged: number;
  /** "reason: detail" per trial, e.g. "trial 2 failed: agent vanished", "trial 3 steal: …". */
  reasons: string[];
}

export function excludedTrials(trials: readonly Trial[]): ExcludedTrials {
  const reasons: string[] = [];
  let failed = 0;
  let flagged = 0;
  for (const trial of trials) {
    if (trial.status === "failed") {
      failed++;
      reasons.push(`trial ${trial.trial} failed: ${trial.error ?? "no reason recorded"}`);
    } else if (!isTrusted(trial)) {
      flagged++;
      for (const flag of trial.flags ?? [])
        reasons.push(`trial ${trial.trial} ${flag.reason}: ${flag.detail}`);
    }
  }
  return { failed, flagged, reasons };
}
