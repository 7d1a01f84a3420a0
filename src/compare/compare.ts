// Baseline vs candidate, metric by metric: medians and the change of medians, Welch's t on log
// trial values with its interval, the rank test as a check, the Benjamini–Hochberg adjustment over
// the judged metrics, and a verdict for each.

import { hashSeed } from "../analysis/random.js";
import {
  benjaminiHochberg,
  bootstrapChangeInterval,
  type ChangeKind,
  changeOf,
  type Interval,
  mannWhitneyU,
  median,
  type UTestMethod,
} from "../analysis/statistics.js";
import { studentTIsf, type WelchResult, welchT } from "../analysis/welch.js";
import type { RunDrift } from "./drift.js";
import { defaultJudged, METRICS, type MetricInput, type MetricName } from "./metrics.js";
import { type Judgement, judge, rankTestDecides, VERDICTS, type Verdict } from "./verdict.js";

/** Where changes start to count; from the matrix file's `acceptance` block or flags. */
export interface Thresholds {
  /** Relative changes within ±noise are noise (0.02 = 2 %). */
  noise: number;
  /** Significance level for Benjamini–Hochberg-adjusted p-values (a false-discovery rate). */
  alpha: number;
  /**
   * Per-metric noise thresholds, overriding `noise` (e.g. a looser one for tail latency) and, for
   * absolute metrics such as loss, the metric's own default, in its unit.
   */
  metrics: Partial<Record<MetricName, number>>;
  /**
   * Metrics judged (true) or only reported (false), overriding `defaultJudged`; from the matrix's
   * `acceptance.metrics` (a metric given a threshold is judged, one set to `false` is not).
   */
  judge?: Partial<Record<MetricName, boolean>>;
  /** What an inconclusive comparison does to the exit code: `pass` (default) or `fail` (exit 4). */
  inconclusive?: "pass" | "fail";
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
  /**
   * false: no bootstrap interval of the medians (left NaN to NaN). It is reported, never decides:
   * an adaptive run's looks, which only decide which cells go on, need not pay for it each round.
   */
  medianInterval?: boolean;
  /**
   * Judged tests in the Benjamini–Hochberg family when some are not given (an adaptive run's later
   * look counts the stopped cells' tests as p = 1); default: the judged inputs.
   */
  judgedFamily?: number;
  /**
   * Judged tests an earlier look of an adaptive run called (their cells no longer looked at): in
   * the Benjamini–Hochberg family as rejections, p = 0, as they would be were their cells still in it.
   */
  calledBefore?: number;
  /**
   * Run-to-run drift of each metric on this host (drift.ts): its variance, twice (one run on each
   * side), is added to that of the difference of the log means; absent, the trials are the only noise.
   */
  drift?: Partial<Record<MetricName, RunDrift>>;
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
  /**
   * Welch's interval of the change (relative metrics: of the ratio of geometric means, from the
   * log trial values): the interval the verdict holds against the noise threshold.
   */
  low: number;
  high: number;
  confidence: number;
  /** Percentile-bootstrap interval of the change of medians, for reference. */
  medianInterval: Interval;
  /** The deciding test: Welch's t on log trial values, or on the values when one is not positive. */
  test: "welch-log" | "welch";
  /** Welch's difference of means on the test's scale, its standard error and degrees of freedom; null below 2 trials a side. */
  welch: { difference: number; se: number; df: number; baselineMean: number } | null;
  /** Welch's t, its degrees of freedom and two-sided p (p = 1 with fewer than 2 trials a side). */
  t: number;
  df: number;
  p: number;
  /** Mann–Whitney U of the candidate: pairs where the candidate's trial is higher (ties count ½). */
  u: number;
  /** The rank test's two-sided p and method; it checks a call only where `rankDecides`. */
  rankP: number;
  rankMethod: UTestMethod;
  rankDecides: boolean;
  /** Whether the metric gates the verdict of its cell (the rest is reported). */
  judged: boolean;
}

export type MetricComparison = MetricStatistics & {
  /** Welch's p adjusted by Benjamini–Hochberg over the comparison's judged metrics (the reported ones form their own family). */
  pAdjusted: number;
  noise: number;
  notes: string[];
} & Judgement;

export interface Comparison {
  results: MetricComparison[];
  /** Judged tests, the Benjamini–Hochberg family (cells × judged metrics). */
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
  if (thresholds.inconclusive !== undefined && !["pass", "fail"].includes(thresholds.inconclusive))
    throw new RangeError(`thresholds: inconclusive must be pass or fail, got ${thresholds.inconclusive}`);
  return thresholds;
}

/** The noise threshold that applies to a metric. */
export function noiseFor(metric: MetricName, thresholds: Thresholds): number {
  const spec = METRICS[metric];
  return thresholds.metrics[metric] ?? ("absoluteNoise" in spec ? spec.absoluteNoise : thresholds.noise);
}

/** Whether a metric of a cell gates its verdict: the matrix's choice, else the defaults. */
export function isJudged(metric: MetricName, pattern: string | undefined, thresholds: Thresholds): boolean {
  const given = thresholds.judge?.[metric];
  if (given !== undefined) return given;
  let judged = judgedByPattern.get(pattern);
  if (!judged) {
    judged = new Set(defaultJudged(pattern));
    judgedByPattern.set(pattern, judged);
  }
  return judged.has(metric);
}

/** defaultJudged by pattern, asked once per metric of every cell of every comparison. */
const judgedByPattern = new Map<string | undefined, ReadonlySet<MetricName>>();

/**
 * Latency percentiles come from histograms of 3 significant digits, and rates and CPU figures
 * are no finer: trials within 0.1 % of each other are not evidence of a zero spread. As a least
 * variance of ln(value) that is (10⁻³)²/12 (a uniform rounding error, Sheppard's correction).
 */
const LOG_RESOLUTION_VARIANCE = 1e-6 / 12;

/** Welch's t of candidate vs baseline: on log values for a relative metric whose values are all positive. */
function welchOf(
  kind: ChangeKind,
  baseline: readonly number[],
  candidate: readonly number[],
  drift: RunDrift | undefined,
): { test: MetricStatistics["test"]; result: WelchResult } {
  if (kind === "relative" && [...baseline, ...candidate].every((v) => v > 0)) {
    const result = welchT(baseline.map(Math.log), candidate.map(Math.log), {
      minVariance: LOG_RESOLUTION_VARIANCE,
      extraVariance: drift && drift.variance > 0 ? { variance: 2 * drift.variance, df: drift.df } : undefined,
    });
    return { test: "welch-log", result };
  }
  return { test: "welch", result: welchT(baseline, candidate) };
}

/**
 * Welch's interval of the change at a confidence, in the metric's kind of change: from log values
 * the ratio of geometric means − 1; for a relative metric with zeros (a rate that stalled) the
 * difference of means over the baseline's mean; for an absolute one the difference of means.
 */
function changeInterval(
  m: Pick<MetricStatistics, "test" | "change" | "welch">,
  confidence: number,
): Interval {
  const w = m.welch;
  if (w === null) return { low: Number.NEGATIVE_INFINITY, high: Number.POSITIVE_INFINITY };
  const q = w.se === 0 ? 0 : studentTIsf((1 - confidence) / 2, w.df);
  const low = w.difference - q * w.se;
  const high = w.difference + q * w.se;
  if (m.test === "welch-log") return { low: Math.expm1(low), high: Math.expm1(high) };
  if (m.change === "absolute") return { low, high };
  return {
    low: changeOf("relative", w.baselineMean, w.baselineMean + low),
    high: changeOf("relative", w.baselineMean, w.baselineMean + high),
  };
}

/** Medians, change and intervals, Welch's t and the U test of one metric of one cell (no verdict yet). */
export function measureMetric(
  input: MetricInput,
  options: CompareOptions = {},
  judged = isJudged(input.metric, input.pattern, resolveThresholds(options.thresholds)),
): MetricStatistics {
  const spec = METRICS[input.metric];
  const { baseline, candidate } = input;
  if (baseline.length === 0 || candidate.length === 0)
    throw new RangeError(
      `compare ${input.metric} of ${input.cellKey}: each side needs at least one value, ` +
        `got ${baseline.length} baseline and ${candidate.length} candidate`,
    );
  const confidence = options.confidence ?? 0.95;
  const alpha = options.thresholds?.alpha ?? DEFAULT_THRESHOLDS.alpha;
  const baseMedian = median(baseline);
  const candMedian = median(candidate);
  const medianInterval =
    options.medianInterval === false
      ? { low: Number.NaN, high: Number.NaN }
      : bootstrapChangeInterval(baseline, candidate, {
          resamples: options.resamples ?? 2000,
          confidence,
          seed: hashSeed(`${options.seed ?? 1}\u0000${input.cellKey}\u0000${input.metric}`),
          change: spec.change,
        });
  const testable = baseline.length >= 2 && candidate.length >= 2;
  const welch = testable ? welchOf(spec.change, baseline, candidate, options.drift?.[input.metric]) : null;
  const rank = mannWhitneyU(candidate, baseline);
  const scale =
    welch === null
      ? null
      : {
          difference: welch.result.difference,
          se: welch.result.se,
          df: welch.result.df,
          baselineMean: baseline.reduce((sum, v) => sum + v, 0) / baseline.length,
        };
  const test = welch?.test ?? (spec.change === "relative" ? "welch-log" : "welch");
  const interval = changeInterval({ test, change: spec.change, welch: scale }, confidence);
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
    medianInterval,
    test,
    welch: scale,
    t: welch?.result.t ?? 0,
    df: welch?.result.df ?? 0,
    p: welch?.result.p ?? 1,
    u: rank.u,
    rankP: rank.p,
    rankMethod: rank.method,
    rankDecides: rankTestDecides(baseline.length, candidate.length, alpha),
    judged,
  };
}

/** Measurements remembered by cell, metric and options, with the values they were made of. */
const remembered = new Map<string, { input: MetricInput; measured: MetricStatistics }>();
const REMEMBERED_MAX = 50_000;

/**
 * The same, by the candidate's array of values: the cells an incremental comparison did not
 * change come with the very arrays of the last round, found without building a key.
 */
const byValues = new WeakMap<
  readonly number[],
  { input: MetricInput; options: CompareOptions; judged: boolean; measured: MetricStatistics }
>();

const sameValues = (a: readonly number[], b: readonly number[]) =>
  a === b || (a.length === b.length && a.every((value, i) => Object.is(value, b[i])));

/**
 * measureMetric, remembered: an adaptive run compares after every round, and only the cells that
 * got a trial since have new values; the others' measurements are taken from the previous round.
 */
function measureRemembered(input: MetricInput, options: CompareOptions, judged: boolean): MetricStatistics {
  const drift = options.drift?.[input.metric];
  const same = byValues.get(input.candidate);
  const sameDrift = same?.options.drift?.[input.metric];
  if (
    same &&
    same.judged === judged &&
    same.input.cellKey === input.cellKey &&
    same.input.metric === input.metric &&
    same.options.resamples === options.resamples &&
    same.options.confidence === options.confidence &&
    same.options.seed === options.seed &&
    same.options.medianInterval === options.medianInterval &&
    sameDrift?.variance === drift?.variance &&
    sameDrift?.df === drift?.df &&
    sameValues(same.input.baseline, input.baseline)
  )
    return same.measured;
  const key = `${input.cellKey}\u0000${input.metric}\u0000${judged}\u0000${options.resamples}\u0000${options.confidence}\u0000${options.seed}\u0000${options.medianInterval}\u0000${drift?.variance}\u0000${drift?.df}`;
  const known = remembered.get(key);
  let measured: MetricStatistics;
  if (
    known &&
    sameValues(known.input.baseline, input.baseline) &&
    sameValues(known.input.candidate, input.candidate)
  )
    measured = known.measured;
  else {
    measured = measureMetric(input, options, judged);
    if (remembered.size >= REMEMBERED_MAX) remembered.clear();
    remembered.set(key, { input, measured });
  }
  byValues.set(input.candidate, { input, options, judged, measured });
  return measured;
}

/** What a metric's verdict depends on beyond its measurement, and the verdict last made of them. */
interface Judged {
  pAdjusted: number;
  confidence: number;
  tests: number;
  noise: number;
  alpha: number;
  result: MetricComparison;
}

/**
 * A measurement with its verdict, every field named: built by spreads, the objects were too many
 * shapes for V8 to read fast, and every pass over a large comparison's metrics paid for it.
 * The fields in the order the JSON has always had them.
 */
function metricComparison(
  m: MetricStatistics,
  interval: Interval,
  confidence: number,
  pAdjusted: number,
  noise: number,
  judgement: Judgement,
): MetricComparison {
  const result = {
    cellKey: m.cellKey,
    metric: m.metric,
    better: m.better,
    change: m.change,
    baseline: m.baseline,
    candidate: m.candidate,
    estimate: m.estimate,
    low: interval.low,
    high: interval.high,
    confidence,
    medianInterval: m.medianInterval,
    test: m.test,
    welch: m.welch,
    t: m.t,
    df: m.df,
    p: m.p,
    u: m.u,
    rankP: m.rankP,
    rankMethod: m.rankMethod,
    rankDecides: m.rankDecides,
    judged: m.judged,
    pAdjusted,
    noise,
    notes: m.judged ? [] : ["reported, not judged"],
    verdict: judgement.verdict,
  } as MetricComparison;
  if (judgement.verdict === "inconclusive" && result.verdict === "inconclusive") {
    result.reason = judgement.reason;
    result.trialsPerSide = judgement.trialsPerSide;
  }
  return result;
}

/** The last verdict of each measurement: a round that moves no adjusted p re-uses it, allocating nothing. */
const judgedBefore = new WeakMap<MetricStatistics, Judged>();

/**
 * Compares every metric of every matched cell and judges each. The judged metrics form one
 * Benjamini–Hochberg family (the reported ones another): a false-discovery rate rather than a
 * family-wise bound, which over a 1300-cell matrix made any call unreachable at 10 trials. When
 * nothing changed, BH still bounds the chance of any false call in the comparison by α.
 */
export function compareCells(inputs: readonly MetricInput[], options: CompareOptions = {}): Comparison {
  const thresholds = resolveThresholds(options.thresholds);
  const first = inputs[0];
  const before = first && comparedBefore.get(first);
  if (
    before &&
    before.inputs.length === inputs.length &&
    before.inputs.every((input, i) => input === inputs[i]) &&
    sameOptions(before.options, options, before.thresholds, thresholds)
  )
    return before.comparison;
  const comparison = compareAll(inputs, options, thresholds);
  if (first) comparedBefore.set(first, { inputs: [...inputs], options, thresholds, comparison });
  return comparison;
}

/**
 * The last comparison of the same inputs (the same objects, as a trial source or a store hands
 * back for cells that did not change): an adaptive run replays every look each round, and all
 * but the latest are made of the inputs of the round before.
 */
const comparedBefore = new WeakMap<
  MetricInput,
  { inputs: MetricInput[]; options: CompareOptions; thresholds: Thresholds; comparison: Comparison }
>();

function sameOptions(a: CompareOptions, b: CompareOptions, x: Thresholds, y: Thresholds): boolean {
  return (
    a.resamples === b.resamples &&
    a.confidence === b.confidence &&
    a.seed === b.seed &&
    a.medianInterval === b.medianInterval &&
    a.judgedFamily === b.judgedFamily &&
    a.calledBefore === b.calledBefore &&
    JSON.stringify(a.drift) === JSON.stringify(b.drift) &&
    JSON.stringify(x) === JSON.stringify(y)
  );
}

function compareAll(
  inputs: readonly MetricInput[],
  options: CompareOptions,
  thresholds: Thresholds,
): Comparison {
  const measured = inputs.map((input) =>
    measureRemembered(input, options, isJudged(input.metric, input.pattern, thresholds)),
  );
  const adjusted = new Array<number>(measured.length);
  const before = options.calledBefore ?? 0;
  const judgedCount = measured.filter((m) => m.judged).length;
  const tests = Math.max(judgedCount + before, options.judgedFamily ?? 0);
  for (const family of [true, false]) {
    const members: number[] = [];
    for (let i = 0; i < measured.length; i++) if (measured[i]!.judged === family) members.push(i);
    const zeros = family ? before : 0;
    const q = benjaminiHochberg(
      [...new Array<number>(zeros).fill(0), ...members.map((i) => measured[i]!.p)],
      family ? tests : members.length,
    ).slice(zeros);
    members.forEach((index, k) => {
      adjusted[index] = q[k]!;
    });
  }
  const family = (m: MetricStatistics) => (m.judged ? tests : measured.length - judgedCount);
  const significant = (i: number) => adjusted[i]! < thresholds.alpha;
  const rejected = { true: before, false: 0 };
  measured.forEach((m, i) => {
    if (significant(i)) rejected[`${m.judged}`]++;
  });
  const counts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  const results = measured.map((m, i): MetricComparison => {
    const noise = noiseFor(m.metric, thresholds);
    const pAdjusted = adjusted[i]!;
    // A change selected as significant among many is held to an interval of level 1 − R·α/m
    // (R selected of m): intervals of the selected keep their coverage on average (the
    // false-coverage rate), which a plain 95 % interval of the few extreme ones would not.
    // Benjamini & Yekutieli, "False Discovery Rate–Adjusted Multiple Confidence Intervals for
    // Selected Parameters", JASA 100(469), 2005.
    const confidence = significant(i)
      ? Math.max(m.confidence, 1 - (rejected[`${m.judged}`] * thresholds.alpha) / family(m))
      : m.confidence;
    const familySize = family(m);
    const before = judgedBefore.get(m);
    let result: MetricComparison;
    if (
      before &&
      Object.is(before.pAdjusted, pAdjusted) &&
      before.confidence === confidence &&
      before.tests === familySize &&
      before.noise === noise &&
      before.alpha === thresholds.alpha
    )
      result = before.result;
    else {
      const interval = confidence === m.confidence ? m : changeInterval(m, confidence);
      const judgement = judge({
        better: m.better,
        baselineN: m.baseline.n,
        candidateN: m.candidate.n,
        estimate: m.estimate,
        low: interval.low,
        high: interval.high,
        confidence,
        p: m.p,
        pAdjusted,
        tests: familySize,
        noise,
        alpha: thresholds.alpha,
        rankP: m.rankDecides ? m.rankP : null,
      });
      result = metricComparison(m, interval, confidence, pAdjusted, noise, judgement);
      judgedBefore.set(m, {
        pAdjusted,
        confidence,
        tests: familySize,
        noise,
        alpha: thresholds.alpha,
        result,
      });
    }
    if (m.judged) counts[result.verdict]++;
    return result;
  });
  return { results, tests, thresholds, counts };
}

/** Compares one metric of one cell on its own (a family of one test: no adjustment). */
export function compareMetric(input: MetricInput, options: CompareOptions = {}): MetricComparison {
  return compareCells([input], options).results[0]!;
}
