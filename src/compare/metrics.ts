// The metrics a comparison judges: which direction is better, how a change is expressed, and how
// each is read from one trial. Turns the trials of two runs into per-cell, per-metric inputs.

import type { ChangeKind } from "../analysis/statistics.js";
import { isTrusted, type Trial, type TrialStatus } from "../domain/cell.js";
import type { Sample } from "../domain/sample.js";

/**
 * What the comparison needs of a trial. A domain `Trial` fits; CPU accounting, service demand
 * and peak throughput are optional because only some runs measure them.
 */
export interface TrialMeasurements {
  cellKey: string;
  status: TrialStatus;
  samples: readonly Sample[];
  cpu?: { hostSeconds: number } | null;
  serviceDemand?: {
    usPerTransaction?: number | null;
    usPerKB?: number | null;
    withoutGenerator?: { usPerTransaction?: number | null; usPerKB?: number | null } | null;
  } | null;
  /** messagesPerSecond is null when the search found no peak of the system (e.g. generator-limited). */
  peak?: { messagesPerSecond: number | null } | null;
}

export type MetricCategory = "latency" | "throughput" | "cpu" | "loss" | "peak";

export interface MetricSpec {
  label: string;
  unit: string;
  category: MetricCategory;
  /** Which way is better: a change the other way is a regression. */
  better: "lower" | "higher";
  change: ChangeKind;
  /** Noise threshold for an `absolute` metric, in its own unit (relative metrics use the global one). */
  absoluteNoise?: number;
  /** The value of one trial, or null when the trial did not measure it. */
  read(trial: TrialMeasurements): number | null;
}

/** Worst (highest) latency percentile over the trial's directions: a bidirectional cell is as slow as its slower half. */
function latency(
  trial: TrialMeasurements,
  pick: (s: NonNullable<Sample["latencyUs"]>) => number,
): number | null {
  let worst: number | null = null;
  for (const sample of trial.samples) {
    if (sample.latencyUs) worst = Math.max(worst ?? Number.NEGATIVE_INFINITY, pick(sample.latencyUs));
  }
  return worst;
}

/** Sum over the trial's directions: both halves of a bidirectional cell carry traffic. */
function total(trial: TrialMeasurements, pick: (s: Sample) => number): number | null {
  if (trial.samples.length === 0) return null;
  return trial.samples.reduce((sum, sample) => sum + pick(sample), 0);
}

function lossRatio(trial: TrialMeasurements): number | null {
  const sent = total(trial, (s) => s.loss.sent);
  const received = total(trial, (s) => s.loss.received);
  if (sent === null || received === null || sent === 0) return null;
  return Math.max(0, sent - received) / sent;
}

/** The metrics of issue 7, in the order reports list them. */
export const METRICS = {
  latencyP50: {
    label: "latency p50",
    unit: "µs",
    category: "latency",
    better: "lower",
    change: "relative",
    read: (t) => latency(t, (l) => l.p50),
  },
  latencyP99: {
    label: "latency p99",
    unit: "µs",
    category: "latency",
    better: "lower",
    change: "relative",
    read: (t) => latency(t, (l) => l.p99),
  },
  latencyMax: {
    label: "latency max",
    unit: "µs",
    category: "latency",
    better: "lower",
    change: "relative",
    read: (t) => latency(t, (l) => l.max),
  },
  messagesPerSecond: {
    label: "messages/s",
    unit: "msg/s",
    category: "throughput",
    better: "higher",
    change: "relative",
    read: (t) => total(t, (s) => s.messagesPerSecond),
  },
  throughputMbps: {
    label: "throughput",
    unit: "Mbit/s",
    category: "throughput",
    better: "higher",
    change: "relative",
    read: (t) => total(t, (s) => s.throughputMbps),
  },
  hostCpuSeconds: {
    // Reported, not judged by default: in a closed loop a faster path does more work per second,
    // so more CPU-seconds can be an improvement.
    label: "host CPU",
    unit: "CPU-s",
    category: "cpu",
    better: "lower",
    change: "relative",
    read: (t) => t.cpu?.hostSeconds ?? null,
  },
  serviceDemand: {
    label: "service demand",
    unit: "µs/unit",
    category: "cpu",
    better: "lower",
    change: "relative",
    read: (t) => t.serviceDemand?.usPerTransaction ?? t.serviceDemand?.usPerKB ?? null,
  },
  serviceDemandOutsideGenerator: {
    // The path's own cost: on a one-host lab the generator was 93 % of host CPU in a TCP rr cell,
    // hiding any change in the path in the whole-host figure above.
    label: "service demand outside generator",
    unit: "µs/unit",
    category: "cpu",
    better: "lower",
    change: "relative",
    read: (t) =>
      t.serviceDemand?.withoutGenerator?.usPerTransaction ??
      t.serviceDemand?.withoutGenerator?.usPerKB ??
      null,
  },
  lossRatio: {
    label: "loss",
    unit: "ratio",
    category: "loss",
    better: "lower",
    // Loss is usually 0 on both sides, where a relative change is undefined: compare ratios
    // directly, and call up to 0.1 percentage point of extra loss noise by default.
    change: "absolute",
    absoluteNoise: 0.001,
    read: lossRatio,
  },
  peakMessagesPerSecond: {
    label: "peak throughput",
    unit: "msg/s",
    category: "peak",
    better: "higher",
    change: "relative",
    read: (t) => t.peak?.messagesPerSecond ?? null,
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricName = keyof typeof METRICS;

export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];

/**
 * The metrics a verdict gates on unless the matrix's `acceptance.metrics` says otherwise: latency
 * p50 and p99, the rate (messages/s; Mbit/s for streams, where messages are the writer's chunks),
 * peak throughput where searched, and service demand outside the generator. The rest is reported.
 */
export function defaultJudged(pattern: string | undefined): MetricName[] {
  const rate: MetricName =
    pattern === "stream" || pattern === "maerts" ? "throughputMbps" : "messagesPerSecond";
  return ["latencyP50", "latencyP99", rate, "peakMessagesPerSecond", "serviceDemandOutsideGenerator"];
}

/** The per-trial values of one metric of one cell, on each side of the comparison. */
export interface MetricInput {
  cellKey: string;
  metric: MetricName;
  /** The cell's traffic pattern, which picks its judged rate metric (absent: messages/s). */
  pattern?: string;
  baseline: number[];
  candidate: number[];
}

/** A metric one side measured and the other did not (e.g. CPU monitored in one run only). */
export interface OneSidedMetric {
  cellKey: string;
  metric: MetricName;
  side: "baseline" | "candidate";
}

export interface MatchedTrials {
  inputs: MetricInput[];
  /** Cells present in one run only: nothing to compare them with. */
  baselineOnly: string[];
  candidateOnly: string[];
  oneSided: OneSidedMetric[];
}

/** A metric's values over the completed trials of a cell, skipping trials that lack it. */
export function metricValues(metric: MetricName, trials: readonly TrialMeasurements[]): number[] {
  const values: number[] = [];
  for (const trial of trials) {
    if (trial.status !== "completed") continue;
    const value = METRICS[metric].read(trial);
    if (value !== null && Number.isFinite(value)) values.push(value);
  }
  return values;
}

/** How many trials ran in a row from trial 1 (a trial still to run, or to retry, ends the row). */
export function trialsInARow(trials: readonly { trial: number }[]): number {
  const seen = new Set(trials.map((trial) => trial.trial));
  let n = 0;
  while (seen.has(n + 1)) n++;
  return n;
}

/** Each metric's values over a cell's trials, in trial order; a metric no trial measured is absent. */
export type CellValues = Partial<Record<MetricName, number[]>>;

/** The values of every metric some trial measured. */
export function cellValues(trials: readonly TrialMeasurements[]): CellValues {
  const values: CellValues = {};
  for (const metric of METRIC_NAMES) {
    const list = metricValues(metric, trials);
    if (list.length > 0) values[metric] = list;
  }
  return values;
}

/**
 * What a comparison reads of a cell's trials: stored with the cell's summary, so comparing two
 * stored runs reads no trial, only these.
 */
export interface CellMeasurements {
  /** The values of the trusted trials (completed, not flagged: the only ones a comparison counts). */
  values: CellValues;
  /** The trial number of each value, per metric: an adaptive run's look at n counts trials ≤ n. */
  valueTrials: Partial<Record<MetricName, number[]>>;
  /** Trials run in a row from trial 1, whatever became of them (an adaptive run's looks count these). */
  ran: number;
  /** Trusted trials: a cell with none is compared with nothing. */
  trusted: number;
  completed: number;
  /** Completed trials whose generator could not keep up. */
  generatorLimited: number;
  /** Trials left out, failed or flagged. */
  excluded: number;
}

export function measureCell(trials: readonly Trial[]): CellMeasurements {
  const trusted = trials.filter(isTrusted);
  const completed = trials.filter((trial) => trial.status === "completed");
  // One pass: each value with the number of the trial it came from.
  const values: CellValues = {};
  const valueTrials: CellMeasurements["valueTrials"] = {};
  for (const metric of METRIC_NAMES) {
    const list: number[] = [];
    const numbers: number[] = [];
    for (const trial of trusted) {
      const value = METRICS[metric].read(trial);
      if (value === null || !Number.isFinite(value)) continue;
      list.push(value);
      numbers.push(trial.trial);
    }
    if (list.length === 0) continue;
    values[metric] = list;
    valueTrials[metric] = numbers;
  }
  return {
    values,
    valueTrials,
    ran: trialsInARow(trials),
    trusted: trusted.length,
    completed: completed.length,
    generatorLimited: completed.filter((trial) => trial.samples.some((s) => s.generatorLimited)).length,
    excluded: trials.length - trusted.length,
  };
}

function byCell(trials: readonly TrialMeasurements[]): Map<string, TrialMeasurements[]> {
  const cells = new Map<string, TrialMeasurements[]>();
  for (const trial of trials) {
    const list = cells.get(trial.cellKey);
    if (list) list.push(trial);
    else cells.set(trial.cellKey, [trial]);
  }
  return cells;
}

/** Matches two runs' trials cell by cell (by key) and reads every metric both sides measured. */
export function matchTrials(
  baseline: readonly TrialMeasurements[],
  candidate: readonly TrialMeasurements[],
  metrics: readonly MetricName[] = METRIC_NAMES,
): MatchedTrials {
  const values = (trials: readonly TrialMeasurements[]) =>
    new Map([...byCell(trials)].map(([key, list]) => [key, cellValues(list)]));
  return matchValues(values(baseline), values(candidate), metrics);
}

/**
 * Matches two runs' cell values by cell key (a cell is on a side when it is in its map, whatever
 * it measured) and pairs every metric both sides measured; cells in the baseline's order.
 */
export function matchValues(
  baseCells: ReadonlyMap<string, CellValues>,
  candCells: ReadonlyMap<string, CellValues>,
  metrics: readonly MetricName[] = METRIC_NAMES,
): MatchedTrials {
  const matched: MatchedTrials = {
    inputs: [],
    baselineOnly: [...baseCells.keys()].filter((key) => !candCells.has(key)),
    candidateOnly: [...candCells.keys()].filter((key) => !baseCells.has(key)),
    oneSided: [],
  };
  for (const [cellKey, base] of baseCells) {
    const cand = candCells.get(cellKey);
    if (!cand) continue;
    let pair = pairs.get(cand);
    if (!(pair && pair.base === base && pair.cellKey === cellKey && pair.metrics === metrics)) {
      pair = { cellKey, base, metrics, inputs: [], oneSided: [] };
      for (const metric of metrics) {
        const b = base[metric] ?? [];
        const c = cand[metric] ?? [];
        if (b.length > 0 && c.length > 0) pair.inputs.push({ cellKey, metric, baseline: b, candidate: c });
        else if (b.length > 0) pair.oneSided.push({ cellKey, metric, side: "baseline" });
        else if (c.length > 0) pair.oneSided.push({ cellKey, metric, side: "candidate" });
      }
      pairs.set(cand, pair);
    }
    for (const input of pair.inputs) matched.inputs.push(input);
    for (const one of pair.oneSided) matched.oneSided.push(one);
  }
  return matched;
}

/**
 * A cell's pairs by its candidate values: a comparison made again after a round (the store
 * handing back the values of unchanged cells as they were) re-uses the inputs of those cells,
 * and with them their measurements (compare.ts).
 */
const pairs = new WeakMap<
  CellValues,
  {
    cellKey: string;
    base: CellValues;
    metrics: readonly MetricName[];
    inputs: MetricInput[];
    oneSided: OneSidedMetric[];
  }
>();
