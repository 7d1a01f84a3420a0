// Baseline vs candidate, metric by metric: medians, change with a bootstrap interval, the U test,
// Holm's correction across the whole comparison, and a verdict for each.

import { hashSeed } from "../analysis/random.js";
import {
  bootstrapChangeInterval,
  type ChangeKind,
  changeOf,
  holm,
  mannWhitneyU,
  median,
  minAttainableP,
  type UTestMethod,
} from "../analysis/statistics.js";
import { METRICS, type MetricInput, type MetricName } from "./metrics.js";
import { type Judgement, judge, VERDICTS, type Verdict } from "./verdict.js";

/** Where changes start to count; from the matrix file's `acceptance` block or flags. */
export interface Thresholds {
  /** Relative changes within ±noise are noise (0.02 = 2 %). */
  noise: number;
  /** Significance level for Holm-adjusted p-values. */
  alpha: number;
  /**
   * Per-metric noise thresholds, overriding `noise` (e.g. a looser one for tail latency) and, for
   * absolute metrics such as loss, the metric's own default, in its unit.
   */
  metrics: Partial<Record<MetricName, number>>;
}

export const DEFAULT_THRESHOLDS: Thresholds = { noise: 0.02, alpha: 0.05, metrics: {} };

export interface CompareOptions {
  thresholds?: Partial<Thresholds>;
  /** Bootstrap resamples per metric (default 2000). */
  resamples?: number;
  /** Confidence of the interval (default 0.95). */
  confidence?: number;
  /** Seed of the bootstrap; each cell and metric derives its own from it (default 1). */
  seed?: number;
}

/** Everything measured about one metric of one cell, before the verdict. */
export interface MetricStatistics {
  cellKey: string;
  metric: MetricName;
  better: "lower" | "higher";
  change: ChangeKind;
  baseline: { n: number; median: number };
  candidate: { n: number; median: number };
  /** Change of medians, candidate vs baseline (relative: 0.1 = 10 % higher; absolute: in the metric's unit). */
  estimate: number;
  /** Percentile-bootstrap interval of `estimate`. */
  low: number;
  high: number;
  confidence: number;
  /** Mann–Whitney U of the candidate: pairs where the candidate's trial is higher (ties count ½). */
  u: number;
  /** Two-sided p of the U test. */
  p: number;
  test: UTestMethod;
}

export type MetricComparison = MetricStatistics & {
  /** p after Holm's correction across every metric of every cell of the comparison. */
  pAdjusted: number;
  noise: number;
  notes: string[];
} & Judgement;

export interface Comparison {
  results: MetricComparison[];
  /** Tests in Holm's family (cells × metrics). */
  tests: number;
  thresholds: Thresholds;
  counts: Record<Verdict, number>;
}

function resolveThresholds(partial: Partial<Thresholds> = {}): Thresholds {
  const thresholds = { ...DEFAULT_THRESHOLDS, ...partial };
  const check = (name: string, value: number, upper: number) => {
    if (!(value >= 0 && value < upper))
      throw new RangeError(`thresholds: ${name} must be within [0, ${upper}), got ${value}`);
  };
  check("noise", thresholds.noise, Number.POSITIVE_INFINITY);
  check("alpha", thresholds.alpha, 1);
  for (const [metric, noise] of Object.entries(thresholds.metrics))
    check(`metrics.${metric}`, noise, Infinity);
  return thresholds;
}

/** The noise threshold that applies to a metric. */
export function noiseFor(metric: MetricName, thresholds: Thresholds): number {
  const spec = METRICS[metric];
  return thresholds.metrics[metric] ?? ("absoluteNoise" in spec ? spec.absoluteNoise : thresholds.noise);
}

/** Medians, change and interval, and the U test of one metric of one cell (no verdict yet). */
export function measureMetric(input: MetricInput, options: CompareOptions = {}): MetricStatistics {
  const spec = METRICS[input.metric];
  const { baseline, candidate } = input;
  if (baseline.length === 0 || candidate.length === 0)
    throw new RangeError(
      `compare ${input.metric} of ${input.cellKey}: each side needs at least one value, ` +
        `got ${baseline.length} baseline and ${candidate.length} candidate`,
    );
  const confidence = options.confidence ?? 0.95;
  const baseMedian = median(baseline);
  const candMedian = median(candidate);
  const interval = bootstrapChangeInterval(baseline, candidate, {
    resamples: options.resamples ?? 2000,
    confidence,
    seed: hashSeed(`${options.seed ?? 1}\u0000${input.cellKey}\u0000${input.metric}`),
    change: spec.change,
  });
  const test = mannWhitneyU(candidate, baseline);
  return {
    cellKey: input.cellKey,
    metric: input.metric,
    better: spec.better,
    change: spec.change,
    baseline: { n: baseline.length, median: baseMedian },
    candidate: { n: candidate.length, median: candMedian },
    estimate: changeOf(spec.change, baseMedian, candMedian),
    low: interval.low,
    high: interval.high,
    confidence,
    u: test.u,
    p: test.p,
    test: test.method,
  };
}

/** Measurements remembered by cell, metric and options, with the values they were made of. */
const remembered = new Map<string, { input: MetricInput; measured: MetricStatistics }>();
const REMEMBERED_MAX = 50_000;

const sameValues = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((value, i) => Object.is(value, b[i]));

/**
 * measureMetric, remembered: an adaptive run compares after every round, and only the cells that
 * got a trial since have new values; the others' measurements are taken from the previous round.
 */
function measureRemembered(input: MetricInput, options: CompareOptions): MetricStatistics {
  const key = `${input.cellKey}\u0000${input.metric}\u0000${options.resamples}\u0000${options.confidence}\u0000${options.seed}`;
  const known = remembered.get(key);
  if (
    known &&
    sameValues(known.input.baseline, input.baseline) &&
    sameValues(known.input.candidate, input.candidate)
  )
    return known.measured;
  const measured = measureMetric(input, options);
  if (remembered.size >= REMEMBERED_MAX) remembered.clear();
  remembered.set(key, { input, measured });
  return measured;
}

/**
 * Compares every metric of every matched cell and judges each, with Holm's correction over all
 * of them: with 20 cells × 8 metrics, 160 tests at α = 0.05 would otherwise raise ~8 false alarms
 * when nothing changed.
 */
export function compareCells(inputs: readonly MetricInput[], options: CompareOptions = {}): Comparison {
  const thresholds = resolveThresholds(options.thresholds);
  const measured = inputs.map((input) => measureRemembered(input, options));
  // A rank test can never give less than its smallest attainable p, but the normal approximation
  // with heavy ties can (1,1,1 vs 2,2,2 gives 0.047): raise such p to the floor. (An exact p is
  // never below it, save for rounding in the last bit.)
  const floors = measured.map((m) => minAttainableP(m.baseline.n, m.candidate.n));
  const pValues = measured.map((m, i) => (m.test === "asymptotic" ? Math.max(m.p, floors[i]!) : m.p));
  const adjusted = holm(pValues);
  const tests = measured.length;
  const counts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  const results = measured.map((m, i): MetricComparison => {
    const noise = noiseFor(m.metric, thresholds);
    const pAdjusted = adjusted[i]!;
    const judgement = judge({
      better: m.better,
      baselineN: m.baseline.n,
      candidateN: m.candidate.n,
      estimate: m.estimate,
      low: m.low,
      high: m.high,
      confidence: m.confidence,
      p: pValues[i]!,
      pAdjusted,
      tests,
      noise,
      alpha: thresholds.alpha,
    });
    counts[judgement.verdict]++;
    const notes: string[] = [];
    if (pValues[i]! > m.p)
      notes.push(`p raised from ${m.p.toPrecision(2)} to the least a rank test can reach with these trials`);
    if (floors[i]! * tests >= thresholds.alpha && floors[i]! < thresholds.alpha)
      notes.push(
        `with ${m.baseline.n} vs ${m.candidate.n} trials no p can pass Holm over ${tests} tests ` +
          `(least reachable ${floors[i]!.toPrecision(2)}, needed < ${(thresholds.alpha / tests).toPrecision(2)})`,
      );
    return { ...m, pAdjusted, noise, notes, ...judgement };
  });
  return { results, tests, thresholds, counts };
}

/** Compares one metric of one cell on its own (a family of one test: no correction). */
export function compareMetric(input: MetricInput, options: CompareOptions = {}): MetricComparison {
  return compareCells([input], options).results[0]!;
}
