// Statistics for comparing two sets of trials: medians and quantiles, the change of medians with a
// bootstrap interval, the Mann–Whitney U test and the
// Benjamini–Hochberg adjustment. Pure functions, no I/O.

import { mulberry32 } from "./random.js";

function requireValues(values: readonly number[], what: string): void {
  if (values.length === 0) throw new RangeError(`${what}: expected at least one value, got none`);
  for (const value of values) {
    if (Number.isNaN(value)) throw new RangeError(`${what}: expected numbers, got NaN`);
  }
}

function sortedCopy(values: readonly number[]): Float64Array {
  // A typed array sorts numerically (Array#sort would compare as strings).
  return new Float64Array(values).sort();
}

/** Quantile of already sorted values, type 7 (below). */
function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const low = sorted[below]!;
  const high = sorted[Math.min(below + 1, sorted.length - 1)]!;
  const fraction = position - below;
  // Equal neighbours (possibly both infinite) need no interpolation, and Infinity − Infinity is NaN.
  return fraction === 0 || low === high ? low : low + fraction * (high - low);
}

/**
 * The q-quantile (0 ≤ q ≤ 1) by linear interpolation between order statistics: definition 7 of
 * Hyndman & Fan, "Sample Quantiles in Statistical Packages" (The American Statistician 50(4), 1996),
 * the default of R's `quantile` and NumPy's `percentile`.
 */
export function quantile(values: readonly number[], q: number): number {
  requireValues(values, "quantile");
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q must be within [0, 1], got ${q}`);
  return quantileOfSorted(sortedCopy(values), q);
}

/** The median: the middle value, or the mean of the two middle values of an even count. */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/**
 * How a change between two values is expressed: `relative` is (candidate − baseline) / |baseline|
 * (0.1 = 10 % more); `absolute` is candidate − baseline, for metrics that are often zero (loss).
 */
export type ChangeKind = "relative" | "absolute";

/**
 * The change from `baseline` to `candidate`. A relative change from a zero baseline is 0 when the
 * candidate is also zero (nothing changed) and ±Infinity otherwise (any amount is infinitely more).
 */
export function changeOf(kind: ChangeKind, baseline: number, candidate: number): number {
  const difference = candidate - baseline;
  if (kind === "absolute") return difference;
  if (baseline === 0) return difference === 0 ? 0 : difference * Number.POSITIVE_INFINITY;
  return difference / Math.abs(baseline);
}

/** The relative change of medians, (median(candidate) − median(baseline)) / |median(baseline)|. */
export function relativeChangeOfMedians(baseline: readonly number[], candidate: readonly number[]): number {
  return changeOf("relative", median(baseline), median(candidate));
}

export interface Interval {
  low: number;
  high: number;
}

export interface BootstrapOptions {
  /** Resamples drawn (default 2000: Efron & Tibshirani recommend ≥ 1000 for percentile intervals). */
  resamples?: number;
  /** Coverage of the interval (default 0.95). */
  confidence?: number;
  /** PRNG seed; the same data and seed always give the same interval (default 1). */
  seed?: number;
  /** How the change of medians is expressed (default `relative`). */
  change?: ChangeKind;
}

/**
 * The median of a resample with replacement of `sorted`, in O(n) without sorting: draw how many
 * times each order statistic is picked, then walk the counts to the middle.
 */
function resampledMedian(sorted: Float64Array, counts: Uint32Array, random: () => number): number {
  const n = sorted.length;
  counts.fill(0);
  for (let i = 0; i < n; i++) counts[Math.floor(random() * n)]!++;
  const lowRank = (n - 1) >> 1;
  const highRank = n >> 1;
  let seen = 0;
  let low = Number.NaN;
  for (let i = 0; i < n; i++) {
    seen += counts[i]!;
    if (Number.isNaN(low) && seen > lowRank) low = sorted[i]!;
    if (seen > highRank) return (low + sorted[i]!) / 2;
  }
  return low;
}

/** A discrete distribution: its first `size` values, ascending, and their cumulative probabilities. */
type Distribution = { values: Float64Array; cumulative: Float64Array; size: number };

/**
 * Room for the two distributions a bootstrap interval compares, reused from call to call: a
 * comparison of a large matrix builds tens of thousands of them.
 */
class DistributionScratch implements Distribution {
  values = new Float64Array(0);
  probabilities = new Float64Array(0);
  cumulative = new Float64Array(0);
  size = 0;

  reset(capacity: number): void {
    if (this.values.length < capacity) {
      this.values = new Float64Array(capacity);
      this.probabilities = new Float64Array(capacity);
      this.cumulative = new Float64Array(capacity);
    }
    this.size = 0;
  }
}
const baselineScratch = new DistributionScratch();
const candidateScratch = new DistributionScratch();

/** Above this many values a side, resampled medians are drawn by counting (the pmf has O(n²) points). */
const PMF_MAX_N = 100;

/** C(n, k) as a double. */
function binomial(n: number, k: number): number {
  let result = 1;
  for (let i = 1; i <= k; i++) result = (result * (n - k + i)) / i;
  return result;
}

/** P(Bin(n, p) ≤ k), summing the terms from each other's ratio. */
function binomialCdf(n: number, p: number, k: number): number {
  if (k < 0) return 0;
  if (k >= n || p === 0) return 1;
  if (p === 1) return 0;
  const ratio = p / (1 - p);
  let term = (1 - p) ** n;
  let sum = term;
  for (let i = 0; i < k; i++) {
    term *= ((n - i) / (i + 1)) * ratio;
    sum += term;
  }
  return Math.min(1, sum);
}

/**
 * The probabilities of resampledMedianDistribution's points, in the order it makes them (i, then
 * j > i): they depend on n alone, so each n's are computed once.
 */
const medianWeightsByN = new Map<number, Float64Array>();

function medianWeights(n: number): Float64Array {
  const cached = medianWeightsByN.get(n);
  if (cached) return cached;
  const weights = new Float64Array(n % 2 === 1 ? n : (n * (n + 1)) / 2);
  let k = 0;
  if (n % 2 === 1) {
    const r = (n + 1) / 2;
    for (let i = 1; i <= n; i++)
      weights[k++] = binomialCdf(n, (i - 1) / n, r - 1) - binomialCdf(n, i / n, r - 1);
  } else {
    const r = n / 2;
    const choose = binomial(n, r);
    // (k/n)^r and (k/n)^(n−r) for k = 0 … n (equal exponents: n − r = r).
    const power = new Float64Array(n + 1);
    for (let m = 0; m <= n; m++) power[m] = (m / n) ** r;
    for (let i = 1; i <= n; i++) {
      weights[k++] =
        binomialCdf(n, (i - 1) / n, r - 1) -
        binomialCdf(n, i / n, r) +
        choose * power[i - 1]! * power[n - i]!;
      const low = power[i]! - power[i - 1]!;
      for (let j = i + 1; j <= n; j++) weights[k++] = choose * low * (power[n - j + 1]! - power[n - j]!);
    }
  }
  medianWeightsByN.set(n, weights);
  return weights;
}

/**
 * The exact distribution of the median of a resample with replacement of `sorted` (n values): its
 * possible values, ascending, and their cumulative probabilities. With N_i ~ Bin(n, i/n) the draws
 * at or below the i-th order statistic, the r-th smallest draw is x_i with probability
 * P(N_i ≥ r) − P(N_{i−1} ≥ r). For even n (r = n/2, the median the mean of draws r and r+1):
 * P(x_i, x_j), i < j, = C(n,r)·((i/n)^r − ((i−1)/n)^r)·(((n−j+1)/n)^{n−r} − ((n−j)/n)^{n−r}) (r draws
 * at or below x_i, one of them x_i; none strictly between; the next x_j); P(x_i, x_i) =
 * P(N_{i−1} ≤ r−1) − P(N_i ≤ r) + C(n,r)·((i−1)/n)^r·((n−i)/n)^{n−r}. Drawing from it gives the
 * same resampled medians as drawing n values and taking their median, in O(log n) a resample.
 */
function resampledMedianDistribution(sorted: Float64Array, into: DistributionScratch): Distribution {
  const n = sorted.length;
  const weights = medianWeights(n);
  // At most n(n+1)/2 points, kept in parallel arrays (no per-point objects).
  into.reset(weights.length);
  const { values, probabilities, cumulative } = into;
  let count = 0;
  let k = 0;
  const add = (value: number) => {
    const p = weights[k++]!;
    if (!(p > 0)) return;
    // Insertion in order: few points, mostly arriving near their place.
    let i = count++;
    while (i > 0 && values[i - 1]! > value) {
      values[i] = values[i - 1]!;
      probabilities[i] = probabilities[i - 1]!;
      i--;
    }
    values[i] = value;
    probabilities[i] = p;
  };
  for (let i = 1; i <= n; i++) {
    add(sorted[i - 1]!);
    if (n % 2 === 0) for (let j = i + 1; j <= n; j++) add((sorted[i - 1]! + sorted[j - 1]!) / 2);
  }
  let total = 0;
  for (let i = 0; i < count; i++) {
    total += probabilities[i]!;
    cumulative[i] = total;
  }
  // Rounding leaves the total a hair off 1: scale it out so the last value is always reachable.
  for (let i = 0; i < count; i++) cumulative[i]! /= total;
  into.size = count;
  return into;
}

/** How many values of `distribution` are at or below x, counting on from index `from`. */
function cdfAt(distribution: Distribution, x: number, from: number): number {
  const { values, size } = distribution;
  let i = from;
  while (i < size && values[i]! <= x) i++;
  return i;
}

/**
 * The q-quantile of the change from a resampled baseline median B to an independent resampled
 * candidate median C, exactly: the least t with P(change(B, C) ≤ t) ≥ q, by bisection on t. For
 * B > 0, change(b, c) ≤ t is c ≤ b·(1 + t) (relative) or c ≤ b + t (absolute), a bound rising
 * with b, so P(change ≤ t) = Σ_b P(B = b)·P(C ≤ bound(b)) is one pass over both supports.
 */
function changeQuantile(base: Distribution, cand: Distribution, kind: ChangeKind, q: number): number {
  const relative = kind === "relative";
  const bound = (b: number, t: number) => (relative ? b * (1 + t) : b + t);
  // Scratch of `below`: a comparison of a large matrix calls it a million times.
  let pairs = 0;
  /** P(change ≤ t); sets `pairs`, how many (b, c) pairs have change ≤ t. */
  const below = (t: number): number => {
    const { values, cumulative, size } = base;
    const candValues = cand.values;
    const candCumulative = cand.cumulative;
    const candSize = cand.size;
    const factor = 1 + t;
    let p = 0;
    let j = 0;
    let previous = 0;
    pairs = 0;
    for (let i = 0; i < size; i++) {
      const x = relative ? values[i]! * factor : values[i]! + t;
      while (j < candSize && candValues[j]! <= x) j++;
      const at = cumulative[i]!;
      if (j > 0) p += (at - previous) * candCumulative[j - 1]!;
      previous = at;
      pairs += j;
    }
    return p;
  };
  const last = (d: Distribution) => d.values[d.size - 1]!;
  let low = changeOf(kind, last(base), cand.values[0]!);
  let high = changeOf(kind, base.values[0]!, last(cand));
  // Cumulative sums are off by rounding: a step that reaches q within 1e-12 reaches it.
  if (below(low) >= q - 1e-12) return low;
  let lowPairs = pairs;
  below(high);
  let highPairs = pairs;
  // Until one pair's change is left between the bounds (or, for equal changes, the bounds meet).
  while (highPairs - lowPairs > 1 && high - low > 1e-12 * Math.max(1, Math.abs(high))) {
    const middle = (low + high) / 2;
    if (middle <= low || middle >= high) break;
    if (below(middle) >= q - 1e-12) {
      high = middle;
      highPairs = pairs;
    } else {
      low = middle;
      lowPairs = pairs;
    }
  }
  // The step is the largest change at or below `high`.
  let step = Number.NEGATIVE_INFINITY;
  for (let i = 0, j = 0; i < base.size; i++) {
    j = cdfAt(cand, bound(base.values[i]!, high), j);
    if (j > 0) step = Math.max(step, changeOf(kind, base.values[i]!, cand.values[j - 1]!));
  }
  return Number.isFinite(step) ? step : high;
}

/**
 * Percentile-bootstrap confidence interval of the change of medians from `baseline` to
 * `candidate`: each side is resampled with replacement on its own (the two sets of trials are
 * independent), the change of the resampled medians is computed, and the interval is the
 * (1 − confidence)/2 and (1 + confidence)/2 quantiles of those changes.
 * Source: Efron & Tibshirani, "An Introduction to the Bootstrap" (1993), ch. 13 (percentile
 * interval) and §8.3 (two-sample problems); benchstat and criterion.rs report the same kind of
 * interval.
 * Up to 100 values a side (and a positive baseline for a relative change) the interval is the
 * ideal bootstrap's, what infinitely many resamples converge to, computed from the exact
 * distributions of the resampled medians (ch. 6.4 there): `resamples` and `seed` then do not
 * matter, and a comparison of a thousand cells takes a fraction of a second. Otherwise
 * `resamples` resamples are drawn.
 */
export function bootstrapChangeInterval(
  baseline: readonly number[],
  candidate: readonly number[],
  options: BootstrapOptions = {},
): Interval {
  requireValues(baseline, "bootstrap baseline");
  requireValues(candidate, "bootstrap candidate");
  const { resamples = 2000, confidence = 0.95, seed = 1, change = "relative" } = options;
  if (!Number.isInteger(resamples) || resamples < 1)
    throw new RangeError(`bootstrap: resamples must be a positive integer, got ${resamples}`);
  if (!(confidence > 0 && confidence < 1))
    throw new RangeError(`bootstrap: confidence must be within (0, 1), got ${confidence}`);
  const base = sortedCopy(baseline);
  const cand = sortedCopy(candidate);
  const tail = (1 - confidence) / 2;
  const finite = (values: Float64Array) => Number.isFinite(values[0]!) && Number.isFinite(values.at(-1)!);
  if (
    base.length <= PMF_MAX_N &&
    cand.length <= PMF_MAX_N &&
    finite(base) &&
    finite(cand) &&
    (change === "absolute" || base[0]! > 0)
  ) {
    const b = resampledMedianDistribution(base, baselineScratch);
    const c = resampledMedianDistribution(cand, candidateScratch);
    return { low: changeQuantile(b, c, change, tail), high: changeQuantile(b, c, change, 1 - tail) };
  }
  const random = mulberry32(seed);
  const baseCounts = new Uint32Array(base.length);
  const candCounts = new Uint32Array(cand.length);
  const changes = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    const b = resampledMedian(base, baseCounts, random);
    const c = resampledMedian(cand, candCounts, random);
    changes[r] = changeOf(change, b, c);
  }
  changes.sort();
  return { low: quantileOfSorted(changes, tail), high: quantileOfSorted(changes, 1 - tail) };
}

// ---------------------------------------------------------------------------------------------
// Normal distribution

const SQRT_2PI = Math.sqrt(2 * Math.PI);

function normalDensity(z: number): number {
  return Math.exp((-z * z) / 2) / SQRT_2PI;
}

/**
 * P(Z > z) for a standard normal Z, to about 1e-15.
 * |z| < 3: Φ(z) = ½ + φ(z) Σ z^(2k+1) / (1·3·…·(2k+1)) (Marsaglia, "Evaluating the Normal
 * Distribution", J. Stat. Software 11(4), 2004); z ≥ 3: Laplace's continued fraction
 * P(Z > z) = φ(z) / (z + 1/(z + 2/(z + 3/(z + …)))) (Abramowitz & Stegun 26.2.14), which keeps
 * relative precision far into the tail.
 */
export function normalSf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  if (z <= -3) return 1 - normalSf(-z);
  if (z < 3) {
    let term = z;
    let sum = z;
    for (let k = 1; Math.abs(term) > 1e-17 * Math.abs(sum); k++) {
      term *= (z * z) / (2 * k + 1);
      sum += term;
    }
    return 0.5 - normalDensity(z) * sum;
  }
  if (z === Number.POSITIVE_INFINITY) return 0;
  let fraction = z;
  for (let k = 120; k >= 1; k--) fraction = z + k / fraction;
  return normalDensity(z) / fraction;
}

/** Quantiles asked for again: the same α and confidence over a thousand cells, the same p each round. */
const normalIsfMemo = new Map<number, number>();
const NORMAL_ISF_MEMO_MAX = 100_000;

/** The z with P(Z > z) = p, by bisection on `normalSf` (used for sample-size estimates only). */
export function normalIsf(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalIsf: p must be within (0, 1), got ${p}`);
  let z = normalIsfMemo.get(p);
  if (z === undefined) {
    z = bisectNormalIsf(p);
    if (normalIsfMemo.size >= NORMAL_ISF_MEMO_MAX) normalIsfMemo.clear();
    normalIsfMemo.set(p, z);
  }
  return z;
}

function bisectNormalIsf(p: number): number {
  let low = -40;
  let high = 40;
  for (let i = 0; i < 200 && high - low > 1e-12; i++) {
    const middle = (low + high) / 2;
    if (normalSf(middle) > p) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

// ---------------------------------------------------------------------------------------------
// Mann–Whitney U

export type UTestMethod = "exact" | "asymptotic";

export interface UTestResult {
  /** U of the first sample: pairs (x, y) with x > y, plus half of the pairs with x = y. */
  u: number;
  /** Two-sided p-value. */
  p: number;
  method: UTestMethod;
}

export interface UTestOptions {
  /** `auto` (default): exact when there are no ties and both samples have ≤ 50 values. */
  method?: "auto" | UTestMethod;
}

/** Largest sample size for which `auto` uses the exact distribution (it costs O(n1²·n2²) once). */
const EXACT_MAX_N = 50;

const exactCache = new Map<string, Float64Array>();

/**
 * Probabilities of U = 0 … m·n under the null hypothesis for samples of m and n values without
 * ties, from the recurrence of Mann & Whitney ("On a test of whether one of two random variables
 * is stochastically larger than the other", Ann. Math. Statist. 18(1), 1947, eq. 2): the largest
 * of the m + n values is an x with probability m/(m+n), and then beats all n y's, so
 * p(m, n, u) = m/(m+n)·p(m−1, n, u−n) + n/(m+n)·p(m, n−1, u). Probabilities rather than counts
 * keep every term positive and below 1, so doubles lose nothing to cancellation or overflow.
 */
function exactUDistribution(m: number, n: number): Float64Array {
  const key = `${m},${n}`;
  const cached = exactCache.get(key);
  if (cached) return cached;
  // row[j] holds the distribution for (i, j) while row i is being built.
  let row: Float64Array[] = Array.from({ length: n + 1 }, () => Float64Array.of(1));
  for (let i = 1; i <= m; i++) {
    const next: Float64Array[] = [Float64Array.of(1)];
    for (let j = 1; j <= n; j++) {
      const dist = new Float64Array(i * j + 1);
      const xLargest = row[j]!; // (i − 1, j), shifted by j
      const yLargest = next[j - 1]!; // (i, j − 1)
      const px = i / (i + j);
      const py = j / (i + j);
      for (let u = 0; u < xLargest.length; u++) dist[u + j]! += px * xLargest[u]!;
      for (let u = 0; u < yLargest.length; u++) dist[u]! += py * yLargest[u]!;
      next.push(dist);
    }
    row = next;
  }
  const dist = row[n]!;
  exactCache.set(key, dist);
  return dist;
}

/** Midranks (1-based, ties share the mean of their ranks) and the sizes of the tie groups. */
function midranks(values: readonly number[]): { ranks: Float64Array; tieSizes: number[] } {
  const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Float64Array(values.length);
  const tieSizes: number[] = [];
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && values[order[end]!] === values[order[start]!]) end++;
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]!] = rank;
    if (end - start > 1) tieSizes.push(end - start);
    start = end;
  }
  return { ranks, tieSizes };
}

/**
 * Two-sided Mann–Whitney U test (Wilcoxon rank-sum) of `x` against `y`.
 * U₁ = R₁ − n₁(n₁+1)/2 with R₁ the sum of x's midranks. Exact: p = 2·P(U ≥ max(U₁, U₂)) from the
 * null distribution above. Asymptotic: normal approximation with tie correction
 * σ² = n₁n₂/12·((N+1) − Σ(t³−t)/(N(N−1))) and continuity correction,
 * z = (max(U₁, U₂) − n₁n₂/2 − ½)/σ, p = 2·P(Z > z).
 * Both match `scipy.stats.mannwhitneyu(x, y, alternative="two-sided", method=…)` (SciPy 1.17);
 * only the `auto` rule differs (SciPy goes exact only when a sample has ≤ 8 values).
 */
export function mannWhitneyU(
  x: readonly number[],
  y: readonly number[],
  options: UTestOptions = {},
): UTestResult {
  requireValues(x, "Mann–Whitney U: first sample");
  requireValues(y, "Mann–Whitney U: second sample");
  const n1 = x.length;
  const n2 = y.length;
  const { ranks, tieSizes } = midranks([...x, ...y]);
  let rankSum = 0;
  for (let i = 0; i < n1; i++) rankSum += ranks[i]!;
  const u1 = rankSum - (n1 * (n1 + 1)) / 2;
  const uMax = Math.max(u1, n1 * n2 - u1);
  const requested = options.method ?? "auto";
  const method: UTestMethod =
    requested === "auto"
      ? tieSizes.length === 0 && n1 <= EXACT_MAX_N && n2 <= EXACT_MAX_N
        ? "exact"
        : "asymptotic"
      : requested;
  if (method === "exact") {
    if (tieSizes.length > 0)
      throw new RangeError("Mann–Whitney U: the exact distribution assumes no ties; use `asymptotic`");
    const dist = exactUDistribution(Math.min(n1, n2), Math.max(n1, n2));
    let tail = 0;
    for (let u = uMax; u < dist.length; u++) tail += dist[u]!;
    return { u: u1, p: Math.min(1, 2 * tail), method };
  }
  const total = n1 + n2;
  const tieTerm = tieSizes.reduce((sum, t) => sum + t ** 3 - t, 0);
  const sigma = Math.sqrt(((n1 * n2) / 12) * (total + 1 - tieTerm / (total * (total - 1))));
  // All values equal: σ = 0 and U sits at its mean, so −½/0 = −∞ and p = 1, as in SciPy.
  const z = (uMax - (n1 * n2) / 2 - 0.5) / sigma;
  return { u: u1, p: Math.min(1, 2 * normalSf(z)), method };
}

/**
 * The smallest two-sided p-value a rank test can give for samples of n1 and n2 values: every
 * x above every y, which has probability 1/C(n1+n2, n1) on each side. With 3 trials a side it is
 * 0.1, with 4 a side 0.029: below 4 trials a side p < 0.05 is unreachable.
 */
export function minAttainableP(n1: number, n2: number): number {
  let combinations = 1;
  const small = Math.min(n1, n2);
  for (let k = 1; k <= small; k++) combinations = (combinations * (n1 + n2 - small + k)) / k;
  return Math.min(1, 2 / combinations);
}

// ---------------------------------------------------------------------------------------------
// Multiple comparisons

/**
 * Benjamini–Hochberg adjusted p-values (q-values), in the order given: with p₍₁₎ ≤ … ≤ p₍ₘ₎,
 * p̃₍ᵢ₎ = min over j ≥ i of min(1, m·p₍ⱼ₎/j). Rejecting where p̃ < α keeps the expected share of
 * false discoveries among the rejections at most α (for independent or positively dependent
 * tests), and when nothing changed at all (every hypothesis true) bounds the chance of any false
 * call by α, as Holm's does; but with real changes present it rejects far more of them.
 * `family` counts tests left out as p = 1 (cells an adaptive run stopped): raising a p never adds a
 * rejection, so the bound still holds for the whole family.
 * Source: Benjamini & Hochberg, "Controlling the False Discovery Rate", J. R. Statist. Soc. B
 * 57(1), 1995; same values as R's `p.adjust(p, "BH")` and `scipy.stats.false_discovery_control`.
 */
export function benjaminiHochberg(pValues: readonly number[], family = pValues.length): number[] {
  for (const p of pValues) {
    if (!(p >= 0 && p <= 1))
      throw new RangeError(`benjaminiHochberg: p-values must be within [0, 1], got ${p}`);
  }
  if (!(family >= pValues.length))
    throw new RangeError(
      `benjaminiHochberg: family must count at least the ${pValues.length} p-values, got ${family}`,
    );
  // Members of the family not given count as p = 1: ranked last, they only raise m.
  const m = family;
  const order = pValues.map((_, i) => i).sort((a, b) => pValues[a]! - pValues[b]!);
  const adjusted = new Array<number>(pValues.length);
  let running = 1;
  for (let rank = pValues.length - 1; rank >= 0; rank--) {
    const index = order[rank]!;
    running = Math.min(running, (m * pValues[index]!) / (rank + 1));
    adjusted[index] = running;
  }
  return adjusted;
}
