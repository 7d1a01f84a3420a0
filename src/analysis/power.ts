// Power of a comparison design, known before the run: the smallest change of a metric that the
// verdict (Welch's t on log trial values, Benjamini–Hochberg over the judged tests, the whole
// interval beyond the noise threshold) calls with a given probability, from the trial-to-trial
// spread of that metric.

import { studentTIsf } from "./welch.js";

export interface PowerDesign {
  /** Trials on each side of the comparison. */
  trialsPerSide: number;
  /**
   * Judged tests in the Benjamini–Hochberg family. With a single real change among them its p
   * must pass α/m (BH's strictest step), so that is the bound used: the power of one change alone.
   */
  tests: number;
  alpha: number;
  /** Relative noise threshold (0.02 = 2 %): a regression's whole interval must lie beyond it. */
  noise: number;
  /** Probability of the call (default 0.8, the usual target of a sample-size calculation). */
  power?: number;
  /** Coverage of the verdict's interval (default 0.95). */
  confidence?: number;
}

/** Beyond this many trials a side no practical design reaches it. */
export const MAX_TRIALS_PER_SIDE = 1000;

function quantiles(design: PowerDesign, n: number) {
  const df = 2 * n - 2;
  const { power = 0.8, confidence = 0.95 } = design;
  return {
    zPower: studentTIsf(1 - power, df),
    zInterval: studentTIsf((1 - confidence) / 2, df),
    zTest: studentTIsf(design.alpha / (2 * Math.max(1, design.tests)), df),
  };
}

/**
 * The smallest true change (relative, 0.05 = 5 %) whose p passes α/m with the given power:
 * δ = (t_{1−α/2m, ν} + t_{power, ν})·σ·√(2/n) on the log scale, ν = 2n − 2 (the normal-theory
 * sample-size formula with t quantiles; Cohen, "Statistical Power Analysis for the Behavioral
 * Sciences", 2nd ed. 1988, ch. 2; the log scale after Julious, "Sample Sizes for Clinical Trials",
 * 2010, ch. 3, for ratios of geometric means). σ is the standard deviation of ln(trial value).
 * Infinite with fewer than 2 trials a side (no spread can be estimated).
 */
export function resolvableChange(design: PowerDesign, sigma: number, n = design.trialsPerSide): number {
  if (n < 2) return Number.POSITIVE_INFINITY;
  const { zPower, zTest } = quantiles(design, n);
  return Math.expm1((zTest + zPower) * sigma * Math.sqrt(2 / n));
}

/**
 * The smallest true change the verdict calls a regression with the given power: its p must pass
 * α/m (above), and its whole interval must clear the noise threshold, which needs
 * δ ≥ ln(1 + noise) + (t_{(1+c)/2, ν} + t_{power, ν})·se. The larger of the two.
 */
export function minDetectableChange(design: PowerDesign, sigma: number): number {
  const n = design.trialsPerSide;
  if (n < 2) return Number.POSITIVE_INFINITY;
  const { zPower, zInterval } = quantiles(design, n);
  const se = sigma * Math.sqrt(2 / n);
  const clearOfNoise = Math.expm1(Math.log1p(design.noise) + (zInterval + zPower) * se);
  return Math.max(clearOfNoise, resolvableChange(design, sigma));
}

/**
 * The fewest trials a side with which a change as small as the noise threshold passes the test
 * with the given power (a change of twice the threshold is then also called, interval and all);
 * null beyond MAX_TRIALS_PER_SIDE.
 */
export function trialsToResolve(design: PowerDesign, sigma: number): number | null {
  if (resolvableChange(design, sigma, MAX_TRIALS_PER_SIDE) > design.noise) return null;
  let low = 2;
  let high = MAX_TRIALS_PER_SIDE;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (resolvableChange(design, sigma, middle) <= design.noise) high = middle;
    else low = middle + 1;
  }
  return low;
}
