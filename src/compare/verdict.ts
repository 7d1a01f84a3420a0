// The verdict on one metric of one cell, from its interval, its corrected p-value and the noise
// threshold; and, when the evidence does not settle it, how many trials likely would.

import { minAttainableP, normalIsf } from "../analysis/statistics.js";

export type Verdict = "regression" | "improvement" | "unchanged" | "inconclusive";

export const VERDICTS: readonly Verdict[] = ["regression", "improvement", "unchanged", "inconclusive"];

/** A verdict; an inconclusive one says why and how many trials per side would likely settle it. */
export type Judgement =
  | { verdict: "regression" | "improvement" | "unchanged" }
  | {
      verdict: "inconclusive";
      reason: string;
      /** Trials per side (in total, not more) likely to settle it; null when no practical number would. */
      trialsPerSide: number | null;
    };

export interface Evidence {
  better: "lower" | "higher";
  baselineN: number;
  candidateN: number;
  /** Change of medians (relative or absolute) and its confidence interval. */
  estimate: number;
  low: number;
  high: number;
  confidence: number;
  /** Raw and Holm-adjusted two-sided p. */
  p: number;
  pAdjusted: number;
  /** Tests in the Holm family. */
  tests: number;
  noise: number;
  alpha: number;
}

/** Beyond this many trials a side we say "no practical number" rather than promise one. */
const MAX_TRIALS_PER_SIDE = 1000;

/** The fewest trials per side with which a rank test can give p below `threshold` at all. */
export function minTrialsPerSide(threshold: number): number {
  let n = 1;
  while (minAttainableP(n, n) >= threshold && n < MAX_TRIALS_PER_SIDE) n++;
  return n;
}

/** z of 80 % power, the usual target of a sample-size calculation (scipy.stats.norm.isf(0.2)). */
const Z_POWER = 0.8416212335729142;

/**
 * Trials per side likely (≈ 80 % power) to settle an inconclusive metric, taking the observed
 * effect and spread as the truth. The interval's half-width h and the test's 1/z shrink as 1/√n
 * (the median's standard error is ≈ 1.2533·σ/√n; for the U test with a fixed effect see Noether,
 * "Sample Size Determination for Some Common Nonparametric Tests", JASA 82(398), 1987). With n
 * trials now and d the distance from the estimate to the noise threshold, the usual power
 * calculation n' = n·((z_c + z_β)·se / d)², se = h / z_c, gives:
 * - the interval clearing the threshold: n·(h/d)²·((z_c + z_β)/z_c)², z_c the interval's z (1.96);
 * - for a change beyond the noise, p passing Holm's strictest step α/m as well:
 *   n·((z(α/2m) + z_β) / z(p/2))²;
 * - and never fewer than the least with which p < α/m (or α) is reachable at all.
 * n is the harmonic mean of the two sides, which sets the variance of a two-sample difference.
 * On synthetic cells (2–5 % noise, 0–5 % change) that many fresh trials settled 72–90 % of the
 * inconclusive cases (one such check is in the comparison tests): a guide, not a promise.
 */
export function estimateTrialsPerSide(e: Evidence): number | null {
  const n = 2 / (1 / e.baselineN + 1 / e.candidateN);
  const beyondNoise = Math.abs(e.estimate) > e.noise;
  const distance = beyondNoise ? Math.abs(e.estimate) - e.noise : e.noise - Math.abs(e.estimate);
  const halfWidth = (e.high - e.low) / 2;
  if (!(distance > 0) || !Number.isFinite(halfWidth)) return null;
  const zInterval = normalIsf((1 - e.confidence) / 2);
  let needed = n * ((halfWidth / distance) * ((zInterval + Z_POWER) / zInterval)) ** 2;
  if (beyondNoise) {
    const zObserved = normalIsf(Math.min(e.p, 1 - 1e-12) / 2);
    if (!(zObserved > 0)) return null;
    needed = Math.max(needed, n * ((normalIsf(e.alpha / (2 * e.tests)) + Z_POWER) / zObserved) ** 2);
    needed = Math.max(needed, minTrialsPerSide(e.alpha / e.tests));
  } else {
    needed = Math.max(needed, minTrialsPerSide(e.alpha));
  }
  // The evidence in hand did not settle it, so at least one more trial a side.
  // The tolerance keeps rounding error (40.000000001) from adding a trial.
  const trials = Math.max(Math.ceil(needed - 1e-9), Math.max(e.baselineN, e.candidateN) + 1);
  return trials <= MAX_TRIALS_PER_SIDE ? trials : null;
}

/**
 * The verdict (DESIGN.md, "Comparison"; after benchstat, criterion.rs and Pinpoint's UNKNOWN):
 * `regression`/`improvement` when the adjusted p < α and the whole interval lies beyond the noise
 * on the bad/good side; `unchanged` when the whole interval lies within ±noise; otherwise
 * `inconclusive`. With fewer trials than can ever reach p < α, nothing is claimed: the interval of
 * such tiny samples is too narrow to trust either.
 */
export function judge(e: Evidence): Judgement {
  const inconclusive = (reason: string): Judgement => ({
    verdict: "inconclusive",
    reason,
    trialsPerSide: estimateTrialsPerSide(e),
  });
  if (minAttainableP(e.baselineN, e.candidateN) >= e.alpha) {
    return inconclusive(
      `too few trials (${e.baselineN} vs ${e.candidateN}): p < ${e.alpha} is unreachable; ` +
        `at least ${minTrialsPerSide(e.alpha)} a side are needed`,
    );
  }
  // Express the interval as "how much worse": positive is the bad direction for either metric kind.
  const worseLow = e.better === "lower" ? e.low : -e.high;
  const worseHigh = e.better === "lower" ? e.high : -e.low;
  const significant = e.pAdjusted < e.alpha;
  if (significant && worseLow > e.noise) return { verdict: "regression" };
  if (significant && worseHigh < -e.noise) return { verdict: "improvement" };
  if (e.low >= -e.noise && e.high <= e.noise) return { verdict: "unchanged" };
  const clearOfNoise = worseLow > e.noise || worseHigh < -e.noise;
  return inconclusive(
    clearOfNoise
      ? `interval beyond the noise threshold but p = ${e.pAdjusted.toPrecision(2)} (Holm) is not below ${e.alpha}`
      : "interval straddles the noise threshold",
  );
}
