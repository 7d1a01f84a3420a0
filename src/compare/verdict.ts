// The verdict on one metric of one cell, from its interval, its adjusted p-value, the rank test's
// check and the noise threshold; and, when the evidence does not settle it, how many trials likely would.

import { MAX_TRIALS_PER_SIDE } from "../analysis/power.js";
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
  /** Change of medians (relative or absolute) and the confidence interval of the change. */
  estimate: number;
  low: number;
  high: number;
  confidence: number;
  /** Welch's two-sided p, raw and Benjamini–Hochberg adjusted over the judged tests. */
  p: number;
  pAdjusted: number;
  /** Tests in the Benjamini–Hochberg family. */
  tests: number;
  noise: number;
  alpha: number;
  /** The rank test's p where it can decide at these trial counts (see `rankTestDecides`), else null. */
  rankP: number | null;
}

/**
 * Whether the rank test is a fair check at these trial counts: its smallest attainable p must be
 * at most α/10, so it can still reject with a pair or two of trials out of order (with 3 a side
 * its least p is 0.1 and it could never agree; from 6 a side, 0.0022, it can).
 */
export function rankTestDecides(baselineN: number, candidateN: number, alpha: number): boolean {
  return minAttainableP(baselineN, candidateN) <= alpha / 10;
}

/** z of 80 % power, the usual target of a sample-size calculation (scipy.stats.norm.isf(0.2)). */
const Z_POWER = 0.8416212335729142;

/**
 * Trials per side likely (≈ 80 % power) to settle an inconclusive metric, taking the observed
 * effect and spread as the truth. The interval's half-width h and the test's 1/z shrink as 1/√n.
 * With n trials now and d the distance from the estimate to the noise threshold, the usual power
 * calculation n' = n·((z_c + z_β)·se / d)², se = h / z_c, gives:
 * - the interval clearing the threshold: n·(h/d)²·((z_c + z_β)/z_c)², z_c the interval's z (1.96);
 * - for a change beyond the noise, p passing Benjamini–Hochberg's strictest step α/m as well:
 *   n·((z(α/2m) + z_β) / z(p/2))²;
 * - and never fewer than 2 a side (Welch's t needs a spread on each side).
 * n is the harmonic mean of the two sides, which sets the variance of a two-sample difference.
 * A guide, not a promise: the comparison tests check how often it settles synthetic cells.
 */
export function estimateTrialsPerSide(e: Evidence): number | null {
  const n = 2 / (1 / e.baselineN + 1 / e.candidateN);
  const beyondNoise = Math.abs(e.estimate) > e.noise;
  const distance = beyondNoise ? Math.abs(e.estimate) - e.noise : e.noise - Math.abs(e.estimate);
  const halfWidth = (e.high - e.low) / 2;
  if (!(distance > 0)) return null;
  let needed = 2;
  if (Number.isFinite(halfWidth)) {
    const zInterval = normalIsf((1 - e.confidence) / 2);
    needed = n * ((halfWidth / distance) * ((zInterval + Z_POWER) / zInterval)) ** 2;
  } else if (Math.min(e.baselineN, e.candidateN) >= 2) return null;
  if (beyondNoise && Number.isFinite(halfWidth)) {
    const zObserved = normalIsf(Math.min(e.p, 1 - 1e-12) / 2);
    if (!(zObserved > 0)) return null;
    needed = Math.max(needed, n * ((normalIsf(e.alpha / (2 * e.tests)) + Z_POWER) / zObserved) ** 2);
  }
  // The evidence in hand did not settle it, so at least one more trial a side.
  // The tolerance keeps rounding error (40.000000001) from adding a trial.
  const trials = Math.max(Math.ceil(needed - 1e-9), Math.max(e.baselineN, e.candidateN) + 1, 2);
  return trials <= MAX_TRIALS_PER_SIDE ? trials : null;
}

/**
 * The verdict (DESIGN.md, "Comparison"; after benchstat, criterion.rs and Pinpoint's UNKNOWN):
 * `regression`/`improvement` when the adjusted p < α, the whole interval lies beyond the noise on
 * the bad/good side and, where the rank test can decide, it agrees (p < α): a t-test on a handful
 * of trials can be led by one odd trial, a rank test cannot. `unchanged` when the whole interval
 * lies within ±noise; otherwise `inconclusive`, with the trials likely to settle it.
 */
export function judge(e: Evidence): Judgement {
  const inconclusive = (reason: string): Judgement => ({
    verdict: "inconclusive",
    reason,
    trialsPerSide: estimateTrialsPerSide(e),
  });
  if (Math.min(e.baselineN, e.candidateN) < 2) {
    return inconclusive(
      `too few trials (${e.baselineN} vs ${e.candidateN}): the spread of a side needs at least 2`,
    );
  }
  // Express the interval as "how much worse": positive is the bad direction for either metric kind.
  const worseLow = e.better === "lower" ? e.low : -e.high;
  const worseHigh = e.better === "lower" ? e.high : -e.low;
  const significant = e.pAdjusted < e.alpha;
  const clearOfNoise = worseLow > e.noise || worseHigh < -e.noise;
  if (significant && clearOfNoise) {
    if (e.rankP !== null && !(e.rankP < e.alpha))
      return inconclusive(
        `Welch's t calls it (p = ${e.pAdjusted.toPrecision(2)}) but the rank test does not confirm ` +
          `(p = ${e.rankP.toPrecision(2)}): an odd trial may lead it`,
      );
    return { verdict: worseLow > e.noise ? "regression" : "improvement" };
  }
  if (e.low >= -e.noise && e.high <= e.noise) return { verdict: "unchanged" };
  return inconclusive(
    clearOfNoise
      ? `interval beyond the noise threshold but p = ${e.pAdjusted.toPrecision(2)} (adjusted) is not below ${e.alpha}`
      : "interval straddles the noise threshold",
  );
}
