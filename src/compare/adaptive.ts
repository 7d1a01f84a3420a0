// Adaptive trials with honest sequential testing, for a candidate that knows its baseline: a first
// look at every cell after its initial trials, then rounds of one more trial for the cells still
// open, each followed by a look at them, up to a cap. Only two looks spend α: the first (a fifth of
// it, which calls only large changes) and the one at the cap (the rest). The looks in between
// only stop cells whose suspicion has gone (futility stops call nothing, so spend nothing); a cell
// suspected of a regression runs on to the cap, where it has more trials than the fixed design
// would give it. At both looks the Benjamini–Hochberg family counts every judged test of the
// matrix: the cells stopped uncalled as p = 1 (raising a p never adds a rejection), and at the cap
// those the first look called as p = 0, rejections as they would be were their cells still in it.
// When nothing changed: the first look falsely calls with chance ≤ α/5; when it called nothing,
// the cap's family is BH over every cell run on to the cap with some p raised, which falsely calls
// with chance ≤ 4α/5; so ≤ α in all, whatever rule keeps cells open. With real changes called
// first, the cap's BH counts them as the fixed design's would (after Chromium Pinpoint's added
// repeats where a difference is suspected, and two-stage screening designs: Satagopan et al.,
// Biometrics 58, 2002).

import { isTrusted, type Trial } from "../domain/cell.js";
import {
  type CompareOptions,
  type Comparison,
  compareCells,
  DEFAULT_THRESHOLDS,
  type MetricComparison,
} from "./compare.js";
import { type MetricInput, matchTrials, trialsInARow } from "./metrics.js";
import { VERDICTS } from "./verdict.js";

/**
 * What keeps a cell open: `regression` (`run --baseline`) a judged metric hinting at a regression
 * not yet called; `precision` (`run --trials auto`) also a judged metric left inconclusive with an
 * interval wider than its noise threshold.
 */
export type AdaptiveMode = "regression" | "precision";

export interface SequentialDesign {
  /** Candidate trials every cell has at the first look. */
  initial: number;
  /** The most trials a cell gets (`--max-trials`). */
  max: number;
  mode: AdaptiveMode;
  /** One-sided p towards "worse" below which a judged metric keeps its cell open (default 0.02). */
  hint?: number;
}

/** The share of α the first look spends. */
export const FIRST_LOOK_ALPHA = 0.2;

/** The candidate trial counts of the looks: the initial count, then one more per round up to the cap. */
export function lookCounts(design: Pick<SequentialDesign, "initial" | "max">): number[] {
  const counts = [design.initial];
  for (let n = design.initial + 1; n <= design.max; n++) counts.push(n);
  return counts;
}

/**
 * α of each look: with one look all of it; else α/5 at the first, 4α/5 at the cap and none at the
 * looks in between, which only stop cells (spending α there would take it from the cap, where the
 * suspected cells have the most trials).
 */
export function lookAlphas(alpha: number, counts: readonly number[]): number[] {
  if (counts.length === 1) return [alpha];
  const last = counts.length - 1;
  return counts.map((_, k) =>
    k === 0 ? alpha * FIRST_LOOK_ALPHA : k === last ? alpha * (1 - FIRST_LOOK_ALPHA) : 0,
  );
}

/** Whether a judged metric leans towards a regression: its t points the bad way with one-sided p < hint. */
function hintsRegression(m: MetricComparison, hint: number): boolean {
  const worse = m.better === "lower" ? m.t > 0 : m.t < 0;
  return m.judged && worse && m.p / 2 < hint;
}

/** A judged metric the precision mode keeps growing: undecided, and its interval wider than the noise. */
function imprecise(m: MetricComparison): boolean {
  return m.judged && m.verdict === "inconclusive" && !(m.high - m.low <= m.noise);
}

/**
 * The cells a look leaves open. At a look that spends α a cell called a regression is settled;
 * otherwise a cell stays open while a judged metric hints at a regression (and, in precision mode,
 * while one is imprecise). At a look that spends none (`deciding` false) a cell a judged metric
 * would call a change at the cap's α also stays open: only the cap may call it.
 */
export function openAfter(look: Comparison, mode: AdaptiveMode, hint = 0.02, deciding = true): Set<string> {
  const settled = new Set(
    deciding ? look.results.filter((m) => m.judged && m.verdict === "regression").map((m) => m.cellKey) : [],
  );
  const called = (m: MetricComparison) =>
    !deciding && m.judged && (m.verdict === "regression" || m.verdict === "improvement");
  const open = new Set<string>();
  for (const m of look.results)
    if (
      !settled.has(m.cellKey) &&
      (hintsRegression(m, hint) || (mode === "precision" && imprecise(m)) || called(m))
    )
      open.add(m.cellKey);
  return open;
}

/** The trials in hand, per cell: how far each has run, and the metric inputs up to a trial number. */
export interface TrialSource {
  /** The highest trial number n such that trials 1..n of the cell have run (whatever their status). */
  ran(cellKey: string): number;
  /** The metric inputs of these cells: the baseline's trials and the candidate's numbered ≤ n. */
  inputs(cells: ReadonlySet<string>, n: number): MetricInput[];
}

export interface Look {
  /** Candidate trials a cell has at this look. */
  n: number;
  alpha: number;
  /** Cells looked at, and those left open for the next round. */
  looked: number;
  open: string[];
}

export interface SequentialState {
  looks: Look[];
  /** The round to run next: the next trial of each open cell short of the look's count; null when every cell is settled or capped. */
  next: Array<{ cellKey: string; trial: number }> | null;
  /** Every metric's verdict at its cell's latest look. */
  results: MetricComparison[];
  /** Judged tests of the first look: the Benjamini–Hochberg family of every look. */
  tests: number;
  /** Candidate trials each cell had at its latest look. */
  trialsAt: Map<string, number>;
}

/**
 * Replays the design's looks on the trials in hand, from the first: pure, so a resumed run derives
 * the same looks and the same next round from its stored trials. A look happens once every open
 * cell has run its trials; otherwise the state names the round that is missing.
 */
export function replayLooks(
  cells: readonly string[],
  source: TrialSource,
  design: SequentialDesign,
  options: CompareOptions = {},
): SequentialState {
  const counts = lookCounts(design);
  const alphas = lookAlphas(options.thresholds?.alpha ?? 0.05, counts);
  const latest = new Map<string, MetricComparison[]>();
  const trialsAt = new Map<string, number>();
  const looks: Look[] = [];
  let open = new Set(cells);
  let tests: number | undefined;
  // Judged tests called at the first look in cells it stopped: rejections in every later look's family.
  let calledBefore = 0;
  const last = counts.length - 1;
  for (const [k, n] of counts.entries()) {
    const lacking = [...open].filter((cell) => source.ran(cell) < n);
    if (lacking.length > 0)
      return state(lacking.map((cellKey) => ({ cellKey, trial: source.ran(cellKey) + 1 })));
    // A look in between is judged at the cap's α to know which cells the cap would call; none of
    // its calls stands (the cells stay open), so it spends nothing.
    const deciding = k === 0 || k === last;
    const look = compareCells(source.inputs(open, n), {
      ...options,
      thresholds: { ...options.thresholds, alpha: deciding ? alphas[k]! : alphas[last]! },
      judgedFamily: tests,
      calledBefore,
    });
    tests ??= look.tests;
    const looked = open.size;
    for (const cell of open) {
      latest.set(cell, []);
      trialsAt.set(cell, n);
    }
    for (const m of look.results) latest.get(m.cellKey)!.push(m);
    open = k === last ? new Set() : openAfter(look, design.mode, design.hint, deciding);
    if (k === 0)
      calledBefore = look.results.filter(
        (m) =>
          m.judged && !open.has(m.cellKey) && (m.verdict === "regression" || m.verdict === "improvement"),
      ).length;
    looks.push({ n, alpha: alphas[k]!, looked, open: [...open] });
    if (open.size === 0) break;
  }
  return state(null);

  function state(next: SequentialState["next"]): SequentialState {
    return { looks, next, results: [...latest.values()].flat(), tests: tests ?? 0, trialsAt };
  }
}

/** The looks replayed as one comparison: every metric's verdict at its cell's latest look. */
export function sequentialComparison(
  cells: readonly string[],
  source: TrialSource,
  design: SequentialDesign,
  options: CompareOptions = {},
): Comparison & { looks: Look[] } {
  const state = replayLooks(cells, source, design, options);
  const given = options.thresholds ?? {};
  return {
    results: state.results,
    tests: state.tests,
    thresholds: { ...DEFAULT_THRESHOLDS, ...given, metrics: given.metrics ?? {} },
    counts: judgedCounts(state.results),
    looks: state.looks,
  };
}

/** Verdicts over the judged metrics. */
export function judgedCounts(results: readonly MetricComparison[]): Comparison["counts"] {
  const counts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Comparison["counts"];
  for (const m of results) if (m.judged) counts[m.verdict]++;
  return counts;
}

/**
 * The trials of two stored runs as a source: trusted trials only (failed and flagged ones never
 * count), the candidate's by trial number; `patterns` (cell key → traffic pattern) picks each
 * cell's judged rate metric.
 */
export function storedTrialSource(
  baseline: readonly Trial[],
  candidate: readonly Trial[],
  patterns: ReadonlyMap<string, string>,
): TrialSource {
  return new StoredTrials(baseline, patterns).source(candidate);
}

/** A candidate cell's trials, how far they have run, and the looks' inputs made of them, by trial count. */
interface CandidateCell {
  trials: Trial[];
  ran: number;
  /** With the trials each was made of: a cell that got a trial keeps the inputs of its earlier looks. */
  inputs: Map<number, { trials: Trial[]; inputs: MetricInput[] }>;
  /** Whether every entry of `inputs` is known to be made of the trials in hand. */
  checked: boolean;
}

/**
 * A baseline's trials, kept, and a candidate's that grow round by round (an adaptive run looks
 * again after each): each round's source re-uses, per cell, the inputs made of the same trials
 * (the store hands back the very objects of rows it parsed before), so a round measures again
 * only the cells that got a trial, and their inputs' values are the arrays compareCells knows.
 */
export class StoredTrials {
  /** Trusted baseline trials by cell, in the order cells first appear among them (the inputs' order). */
  private readonly base = new Map<string, Trial[]>();
  private cells = new Map<string, CandidateCell>();

  constructor(
    baseline: readonly Trial[],
    private readonly patterns: ReadonlyMap<string, string>,
  ) {
    for (const trial of baseline) {
      if (!isTrusted(trial)) continue;
      const list = this.base.get(trial.cellKey);
      if (list) list.push(trial);
      else this.base.set(trial.cellKey, [trial]);
    }
  }

  /** The source of this round: the baseline and the candidate's trials as stored now. */
  source(candidate: readonly Trial[]): TrialSource {
    const byCell = new Map<string, Trial[]>();
    for (const trial of candidate) {
      const list = byCell.get(trial.cellKey);
      if (list) list.push(trial);
      else byCell.set(trial.cellKey, [trial]);
    }
    const cells = new Map<string, CandidateCell>();
    for (const [key, trials] of byCell) {
      const known = this.cells.get(key);
      const same =
        known && known.trials.length === trials.length && known.trials.every((t, i) => t === trials[i]);
      cells.set(
        key,
        same
          ? known
          : { trials, ran: trialsInARow(trials), inputs: known?.inputs ?? new Map(), checked: !known },
      );
    }
    this.cells = cells;
    return {
      ran: (cellKey) => cells.get(cellKey)?.ran ?? 0,
      inputs: (open, n) => {
        const inputs: MetricInput[] = [];
        for (const [key, base] of this.base) {
          const cell = open.has(key) ? cells.get(key) : undefined;
          if (!cell) continue;
          let made = cell.inputs.get(n);
          if (!made || !cell.checked) {
            const trials = cell.trials.filter((t) => isTrusted(t) && t.trial <= n);
            if (
              !(made && made.trials.length === trials.length && made.trials.every((t, i) => t === trials[i]))
            ) {
              made = { trials, inputs: matchTrials(base, trials).inputs };
              for (const input of made.inputs) input.pattern = this.patterns.get(key);
              cell.inputs.set(n, made);
            }
          }
          for (const input of made.inputs) inputs.push(input);
        }
        return inputs;
      },
    };
  }
}
