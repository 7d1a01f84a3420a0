// Adaptive trials with honest sequential testing, for a candidate that knows its baseline: a first
// look at every cell, then more trials only for the cells that hint at a regression, and a second
// look at those. α is split between the looks, a fifth on the first (which mostly screens: only
// large changes are called there) and the rest on the second (Bonferroni over the looks). At the second look the
// Benjamini–Hochberg family still counts every judged test of the matrix, the stopped cells' as
// p = 1: raising a p never adds a rejection, so the second look rejects no more than BH over every
// cell continued would, and when nothing changed the chance of any false regression over both
// looks stays ≤ α/5 + 4α/5 = α (after Chromium Pinpoint's added repeats where a difference is suspected,
// and two-stage screening designs: Satagopan et al., Biometrics 58, 2002).

import { type CompareOptions, type Comparison, compareCells, type MetricComparison } from "./compare.js";
import type { MetricInput } from "./metrics.js";

export interface LookOptions extends CompareOptions {
  /** One-sided p towards "worse" below which a judged metric keeps its cell open (default 0.02). */
  hint?: number;
}

/** Whether a judged metric leans towards a regression: its t points the bad way with one-sided p < hint. */
function hintsRegression(m: MetricComparison, hint: number): boolean {
  const worse = m.better === "lower" ? m.t > 0 : m.t < 0;
  return m.judged && worse && m.p / 2 < hint;
}

/**
 * The cells a first look leaves open: those with a judged metric hinting at a regression that the
 * look did not already call one. Cells called a regression are settled; cells without a hint stop
 * with the first look's verdicts.
 */
export function openCells(first: Comparison, hint = 0.02): Set<string> {
  const settled = new Set(
    first.results.filter((m) => m.judged && m.verdict === "regression").map((m) => m.cellKey),
  );
  const open = new Set<string>();
  for (const m of first.results) if (!settled.has(m.cellKey) && hintsRegression(m, hint)) open.add(m.cellKey);
  return open;
}

/** The share of α the first look spends. */
export const FIRST_LOOK_ALPHA = 0.2;

function lookOptions(options: LookOptions, look: 1 | 2, judgedFamily?: number): CompareOptions {
  const alpha = (options.thresholds?.alpha ?? 0.05) * (look === 1 ? FIRST_LOOK_ALPHA : 1 - FIRST_LOOK_ALPHA);
  return { ...options, thresholds: { ...options.thresholds, alpha }, judgedFamily };
}

export interface AdaptiveResult {
  /** The first look over every cell, at α/5. */
  first: Comparison;
  /** Cells given more trials. */
  open: Set<string>;
  /** The second look at the open cells' trials so far (first look's and the added ones), at 4α/5. */
  second: Comparison | null;
  /** Every metric's final verdict: the second look's for open cells, the first's otherwise. */
  results: MetricComparison[];
}

/** The first look: every cell, at α/5; and which cells stay open. */
export function firstLook(inputs: readonly MetricInput[], options: LookOptions = {}) {
  const first = compareCells(inputs, lookOptions(options, 1));
  return { first, open: openCells(first, options.hint) };
}

/**
 * Both looks: `more(open)` gives the open cells' inputs with every trial so far (the first look's
 * and the added ones); their verdicts replace the first look's.
 */
export function adaptiveCompare(
  inputs: readonly MetricInput[],
  more: (open: ReadonlySet<string>) => readonly MetricInput[],
  options: LookOptions = {},
): AdaptiveResult {
  const { first, open } = firstLook(inputs, options);
  const second = open.size > 0 ? compareCells(more(open), lookOptions(options, 2, first.tests)) : null;
  const later = new Map((second?.results ?? []).map((m) => [`${m.cellKey}\u0000${m.metric}`, m]));
  const results = first.results.map((m) => later.get(`${m.cellKey}\u0000${m.metric}`) ?? m);
  return { first, open, second, results };
}
