// Welch's two-sample t-test and its confidence interval, with the Student t distribution it needs.
// With the trial as the unit, a t-test's p shrinks with the effect/spread ratio, not only with the
// trial count as a rank test's does: 3 trials a side can call a 2× change (DESIGN.md, "Comparison").

import { normalIsf, normalSf } from "./statistics.js";

/**
 * ln Γ(x) for x > 0, Lanczos approximation with g = 7 and 9 coefficients (relative error < 1e-15;
 * Numerical Recipes 3rd ed. §6.1; Godfrey's coefficients as in Boost and SciPy's `gammaln`).
 */
export function logGamma(x: number): number {
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let sum = c[0]!;
  for (let i = 1; i < g + 2; i++) sum += c[i]! / (z + i);
  const t = z + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** The continued fraction of the incomplete beta, by the modified Lentz method (Numerical Recipes §6.4 `betacf`). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a - 1 + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + 1 + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-16) break;
  }
  return h;
}

/**
 * The regularized incomplete beta function I_x(a, b), from its continued fraction, using the
 * symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges slowly (Numerical Recipes
 * §6.4, eq. 6.4.5 ff.).
 */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (!(x >= 0 && x <= 1)) throw new RangeError(`incompleteBeta: x must be within [0, 1], got ${x}`);
  if (x === 0 || x === 1) return x;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/**
 * P(T > t) for Student's t with `df` degrees of freedom (df may be fractional, as Welch's is):
 * P(T > t) = ½·I_{df/(df+t²)}(df/2, ½) for t ≥ 0 (Abramowitz & Stegun 26.7.1 with 26.5.27).
 * Infinite df is the standard normal.
 */
export function studentTSf(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return Number.NaN;
  if (df === Number.POSITIVE_INFINITY) return normalSf(t);
  if (t < 0) return 1 - studentTSf(-t, df);
  if (t === Number.POSITIVE_INFINITY) return 0;
  return 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** Quantiles asked for again: an adaptive run compares after every round, mostly the same metrics. */
const isfMemo = new Map<number, Map<number, number>>();
const ISF_MEMO_MAX = 100_000;
let isfMemoSize = 0;

/**
 * The t with P(T > t) = p: Newton's method on `studentTSf` from the left of the root, where the
 * convex tail takes every step short of it and none past (a few steps, not the fifty of a bisection).
 */
export function studentTIsf(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTIsf: p must be within (0, 1), got ${p}`);
  if (p > 0.5) return -studentTIsf(1 - p, df);
  if (p === 0.5) return 0;
  let byDf = isfMemo.get(p);
  const known = byDf?.get(df);
  if (known !== undefined) return known;
  const t = df === Number.POSITIVE_INFINITY ? normalIsf(p) : newtonTIsf(p, df);
  if (isfMemoSize >= ISF_MEMO_MAX) {
    isfMemo.clear();
    isfMemoSize = 0;
  }
  if (!byDf) {
    byDf = new Map();
    isfMemo.set(p, byDf);
  }
  byDf.set(df, t);
  isfMemoSize++;
  return t;
}

function newtonTIsf(p: number, df: number): number {
  // ln of the density's constant: Γ((ν+1)/2) / (√(νπ)·Γ(ν/2)).
  const logNorm = logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * Math.log(df * Math.PI);
  const density = (t: number) => Math.exp(logNorm - ((df + 1) / 2) * Math.log1p((t * t) / df));
  // P(T > t) falls and is convex for t ≥ 0: from t = 0 (left of the root, as p < ½) each step
  // lands short of the root, so t rises to it; a step that no longer raises t is rounding.
  let t = 0;
  for (let i = 0; i < 1000; i++) {
    const step = (studentTSf(t, df) - p) / density(t);
    if (!(step > 1e-15 * t) || !Number.isFinite(step)) break;
    t += step;
  }
  return t;
}

export interface WelchResult {
  /** mean(y) − mean(x). */
  difference: number;
  /** Its standard error, √(s²ₓ/nₓ + s²ᵧ/nᵧ). */
  se: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  t: number;
  /** Two-sided p. */
  p: number;
  /** Confidence interval of `difference`. */
  low: number;
  high: number;
}

function meanAndVariance(values: readonly number[]): { mean: number; variance: number } {
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  const squares = values.reduce((sum, v) => sum + (v - mean) ** 2, 0);
  return { mean, variance: squares / (values.length - 1) };
}

export interface WelchOptions {
  /** Coverage of the interval (default 0.95). */
  confidence?: number;
  /**
   * Least variance each sample is taken to have: values quantized to a resolution r vary by at
   * least r²/12 (Sheppard's correction), so identical trials do not give an infinite t.
   */
  minVariance?: number;
  /**
   * A variance the difference has beyond the two samples' (e.g. a random effect of the run each
   * sample came from), estimated with `df` degrees of freedom: added to se², and to the
   * Welch–Satterthwaite sum as its own term.
   */
  extraVariance?: { variance: number; df: number };
}

/**
 * Welch's unequal-variance t-test of y against x, two-sided, with the interval
 * difference ± t_{(1+c)/2, df}·se. t = (ȳ − x̄)/se, se² = s²ₓ/nₓ + s²ᵧ/nᵧ,
 * df = se⁴ / ((s²ₓ/nₓ)²/(nₓ−1) + (s²ᵧ/nᵧ)²/(nᵧ−1)) (Welch, "The generalization of 'Student's'
 * problem when several different population variances are involved", Biometrika 34, 1947).
 * Same values as `scipy.stats.ttest_ind(y, x, equal_var=False)` and R's `t.test(y, x)`.
 * Needs two values a side; with no spread at all, a difference is certain (p = 0) and none is p = 1.
 */
export function welchT(x: readonly number[], y: readonly number[], options: WelchOptions = {}): WelchResult {
  if (x.length < 2 || y.length < 2)
    throw new RangeError(`Welch's t: each sample needs at least 2 values, got ${x.length} and ${y.length}`);
  for (const v of [...x, ...y])
    if (!Number.isFinite(v)) throw new RangeError(`Welch's t: expected finite numbers, got ${v}`);
  const { confidence = 0.95, minVariance = 0, extraVariance } = options;
  const a = meanAndVariance(x);
  const b = meanAndVariance(y);
  const va = Math.max(a.variance, minVariance) / x.length;
  const vb = Math.max(b.variance, minVariance) / y.length;
  const ve = extraVariance?.variance ?? 0;
  const difference = b.mean - a.mean;
  const se = Math.sqrt(va + vb + ve);
  if (se === 0) {
    const p = difference === 0 ? 1 : 0;
    return {
      difference,
      se,
      df: x.length + y.length - 2,
      t: difference / se || 0,
      p,
      low: difference,
      high: difference,
    };
  }
  const df =
    (va + vb + ve) ** 2 /
    (va ** 2 / (x.length - 1) + vb ** 2 / (y.length - 1) + (ve > 0 ? ve ** 2 / extraVariance!.df : 0));
  const t = difference / se;
  const p = Math.min(1, 2 * studentTSf(Math.abs(t), df));
  const q = studentTIsf((1 - confidence) / 2, df);
  return { difference, se, df, t, p, low: difference - q * se, high: difference + q * se };
}
