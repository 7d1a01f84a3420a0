// Two stored runs → the comparison `vnetbench compare` prints: fingerprints checked, cells matched
// by key, every metric judged (compare.ts), cells ordered worst first, and warnings with hints.

import { type Cell, isTrusted } from "../domain/cell.js";
import { ExitCode, InputError } from "../errors.js";
import type { RunView } from "../report/run-view.js";
import {
  type CompareOptions,
  type Comparison,
  compareCells,
  type MetricComparison,
  type Thresholds,
} from "./compare.js";
import { describeSetup, describeTraffic } from "./describe.js";
import { checkFingerprint, describeDifferences, type FingerprintCheck } from "./fingerprint.js";
import { matchTrials, type OneSidedMetric } from "./metrics.js";
import type { Verdict } from "./verdict.js";

/** What a comparison says about each run it compared. */
export interface ComparedRun {
  id: string;
  label: string;
  createdAt: string;
  status: string;
  trialsPerCell: number;
  metadata: Record<string, unknown>;
}

export interface CellComparison extends Cell {
  /** The setup categories, the heading the cell is grouped under. */
  group: string;
  /** The traffic, the cell's name within its group. */
  name: string;
  /** The cell's worst verdict over its judged metrics (regression > improvement > inconclusive > unchanged). */
  verdict: Verdict;
  metrics: MetricComparison[];
  /** Trials whose generator could not keep up, per side. */
  generatorLimited: { baseline: number; candidate: number };
}

export interface RunComparison {
  baseline: ComparedRun;
  candidate: ComparedRun;
  fingerprint: FingerprintCheck;
  thresholds: Comparison["thresholds"];
  /** Judged tests: the Benjamini–Hochberg family. */
  tests: number;
  /** Verdicts over the judged metrics of every cell. */
  counts: Comparison["counts"];
  /** Matched cells, worst verdict first, then in the candidate's matrix order. */
  cells: CellComparison[];
  baselineOnly: string[];
  candidateOnly: string[];
  oneSided: OneSidedMetric[];
  warnings: string[];
  /** Any regression: the exit code is non-zero. */
  regression: boolean;
  /** No regression, but some judged metric could not be decided: not a pass, and said so. */
  inconclusive: boolean;
  /** The headline: `regression`, else `inconclusive`, else `no regression`. */
  result: ComparisonResult;
  /** Trials a side likely to settle every inconclusive judged metric (the most any needs), when known. */
  trialsNeeded: number | null;
}

export type ComparisonResult = "regression" | "inconclusive" | "no regression";

export interface RunCompareOptions extends CompareOptions {
  /** Compare runs whose fingerprints differ (the differences are still reported). */
  allowMismatch?: boolean;
}

/** Verdicts in the order changed cells are listed: the ones needing attention first. */
export const VERDICT_ORDER: readonly Verdict[] = ["regression", "improvement", "inconclusive", "unchanged"];

function side(run: RunView): ComparedRun {
  const { id, label, createdAt, status, trialsPerCell, metadata } = run;
  return { id, label, createdAt, status, trialsPerCell, metadata };
}

/** A run's cells by key, made once per run (a thousand-cell run would otherwise search for each). */
const cellIndex = new WeakMap<RunView, Map<string, RunView["cells"][number]>>();

function cellOf(run: RunView, key: string): RunView["cells"][number] | undefined {
  let index = cellIndex.get(run);
  if (!index) {
    index = new Map(run.cells.map((cell) => [cell.key, cell]));
    cellIndex.set(run, index);
  }
  return index.get(key);
}

function limitedTrials(run: RunView, key: string): number {
  return (cellOf(run, key)?.trials ?? []).filter(
    (t) => t.status === "completed" && t.samples.some((s) => s.generatorLimited),
  ).length;
}

function completedTrials(run: RunView, key: string): number {
  return (cellOf(run, key)?.trials ?? []).filter((t) => t.status === "completed").length;
}

function worstVerdict(metrics: readonly MetricComparison[]): Verdict {
  const rank = (v: Verdict) => VERDICT_ORDER.indexOf(v);
  return metrics
    .filter((m) => m.judged)
    .reduce<Verdict>((worst, m) => (rank(m.verdict) < rank(worst) ? m.verdict : worst), "unchanged");
}

/**
 * Compares a candidate run with a baseline. Throws an InputError when the fingerprints differ
 * (unless `allowMismatch`) or when the runs share no cell.
 */
export function compareRunViews(
  baseline: RunView,
  candidate: RunView,
  options: RunCompareOptions = {},
): RunComparison {
  const fingerprint = checkFingerprint(baseline.metadata, candidate.metadata);
  if (!fingerprint.matches && !options.allowMismatch) {
    throw new InputError(
      `runs ${baseline.id} and ${candidate.id} were measured on different machines ` +
        `(${describeDifferences(fingerprint).join("; ")}): compare them anyway with --allow-mismatch`,
    );
  }
  // Failed and flagged trials never count: a cell left with too few is inconclusive, not unchanged.
  const matched = matchTrials(
    baseline.cells.flatMap((cell) => cell.trials.filter(isTrusted)),
    candidate.cells.flatMap((cell) => cell.trials.filter(isTrusted)),
  );
  const patterns = new Map(candidate.cells.map((cell) => [cell.key, cell.traffic.pattern]));
  for (const input of matched.inputs) input.pattern = patterns.get(input.cellKey);
  if (matched.inputs.length === 0) {
    throw new InputError(
      `runs ${baseline.id} and ${candidate.id} have no cell with completed trials in common ` +
        "(cells match on every parameter, durations included): run the same matrix on both",
    );
  }
  const comparison = compareCells(matched.inputs, {
    ...options,
    thresholds: thresholdsFor(baseline, candidate, options.thresholds),
  });
  const byCell = new Map<string, MetricComparison[]>();
  for (const result of comparison.results)
    byCell.set(result.cellKey, [...(byCell.get(result.cellKey) ?? []), result]);

  const cells = candidate.cells
    .filter((cell) => byCell.has(cell.key))
    .map((cell): CellComparison => {
      const metrics = byCell.get(cell.key)!;
      return {
        key: cell.key,
        setup: cell.setup,
        traffic: cell.traffic,
        group: describeSetup(cell.setup),
        name: describeTraffic(cell.traffic),
        verdict: worstVerdict(metrics),
        metrics,
        generatorLimited: {
          baseline: limitedTrials(baseline, cell.key),
          candidate: limitedTrials(candidate, cell.key),
        },
      };
    });
  // A stable sort keeps the matrix order within each verdict.
  cells.sort((a, b) => VERDICT_ORDER.indexOf(a.verdict) - VERDICT_ORDER.indexOf(b.verdict));

  const warnings = [
    ...describeDifferences(fingerprint).map((line) => `fingerprint differs: ${line}`),
    ...softwareWarnings(fingerprint),
    ...generatorWarnings(cells, baseline, candidate),
    ...excludedWarnings(cells, baseline, candidate),
    ...coverageWarnings(matched.baselineOnly, matched.candidateOnly),
    ...trialCountWarnings(comparison),
  ];
  const judgedInconclusive = comparison.results.filter((r) => r.judged && r.verdict === "inconclusive");
  const regression = comparison.counts.regression > 0;
  const inconclusive = judgedInconclusive.length > 0;
  return {
    baseline: side(baseline),
    candidate: side(candidate),
    fingerprint,
    thresholds: comparison.thresholds,
    tests: comparison.tests,
    counts: comparison.counts,
    cells,
    baselineOnly: matched.baselineOnly,
    candidateOnly: matched.candidateOnly,
    oneSided: matched.oneSided,
    warnings,
    regression,
    inconclusive,
    result: regression ? "regression" : inconclusive ? "inconclusive" : "no regression",
    trialsNeeded: trialsNeeded(judgedInconclusive),
  };
}

/**
 * Thresholds: those given (flags) win, then the candidate's matrix `acceptance` stored with the
 * run, then the baseline's, then the defaults.
 */
export function thresholdsFor(
  baseline: Pick<RunView, "metadata">,
  candidate: Pick<RunView, "metadata">,
  given: Partial<Thresholds> = {},
): Partial<Thresholds> {
  const stored = (run: Pick<RunView, "metadata">) => (run.metadata.acceptance ?? {}) as Partial<Thresholds>;
  const defined = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined));
  const [base, cand] = [stored(baseline), stored(candidate)];
  return {
    ...base,
    ...cand,
    ...defined,
    metrics: { ...base.metrics, ...cand.metrics, ...given.metrics },
  };
}

/** Software that differs is often the change under test; said once, never blocking. */
function softwareWarnings(fingerprint: FingerprintCheck): string[] {
  const software = fingerprint.software ?? [];
  if (software.length === 0) return [];
  const shown = describeDifferences({ differences: software.slice(0, 5) });
  const more = software.length > 5 ? ` (and ${software.length - 5} more)` : "";
  return [`software differs between the runs (recorded, not a mismatch): ${shown.join("; ")}${more}`];
}

/** One warning naming every cell whose generator could not keep up, with its count per side. */
function generatorWarnings(cells: CellComparison[], baseline: RunView, candidate: RunView): string[] {
  const limited = cells.filter(
    (cell) => cell.generatorLimited.baseline + cell.generatorLimited.candidate > 0,
  );
  if (limited.length === 0) return [];
  const list = limited.map(
    (cell) =>
      `${cell.group}: ${cell.name} (${cell.generatorLimited.baseline}/${completedTrials(baseline, cell.key)} baseline, ` +
      `${cell.generatorLimited.candidate}/${completedTrials(candidate, cell.key)} candidate trials)`,
  );
  return [
    `the traffic generator could not keep up in ${limited.length} cell(s): ${list.join("; ")}. ` +
      "Their latency and rate measure the tool, not the path: lower --rate or give the generator a CPU of its own",
  ];
}

/** One warning naming every compared cell with trials left out (failed or flagged), per side. */
function excludedWarnings(cells: CellComparison[], baseline: RunView, candidate: RunView): string[] {
  const left = (run: RunView, key: string) => {
    const excluded = run.cells.find((c) => c.key === key)?.summary.excluded;
    return (excluded?.failed ?? 0) + (excluded?.flagged ?? 0);
  };
  const list = cells.flatMap((cell) => {
    const [b, c] = [left(baseline, cell.key), left(candidate, cell.key)];
    return b + c > 0 ? [`${cell.group}: ${cell.name} (${b} baseline, ${c} candidate)`] : [];
  });
  if (list.length === 0) return [];
  return [
    `failed or flagged trials were left out of ${list.length} cell(s): ${list.join("; ")}; ` +
      "`vnetbench show RUN` gives each reason",
  ];
}

function coverageWarnings(baselineOnly: string[], candidateOnly: string[]): string[] {
  const warn = (keys: string[], where: string) =>
    keys.length > 0
      ? [`${keys.length} cell(s) only in the ${where} run, not compared: ${keys.join(", ")}`]
      : [];
  return [...warn(baselineOnly, "baseline"), ...warn(candidateOnly, "candidate")];
}

/** The trials a side that would settle every inconclusive metric; null when one has no practical number. */
function trialsNeeded(inconclusive: readonly MetricComparison[]): number | null {
  let most = 0;
  for (const m of inconclusive) {
    if (m.verdict !== "inconclusive" || m.trialsPerSide === null) return null;
    most = Math.max(most, m.trialsPerSide);
  }
  return most > 0 ? most : null;
}

/** Welch's t needs a spread on each side: with one trial a side nothing can be called. */
function trialCountWarnings(comparison: Comparison): string[] {
  const single = comparison.results.filter((r) => r.judged && Math.min(r.baseline.n, r.candidate.n) < 2);
  if (single.length === 0) return [];
  return [
    `${single.length} of ${comparison.tests} judged metrics have a single trial on a side, so they cannot be ` +
      "called a regression or improvement: run 2 or more trials a side (--trials)",
  ];
}

/** 1 on a regression; 4 when inconclusive and strict (the flag or the matrix's `acceptance.inconclusive: fail`); else 0. */
export function comparisonExitCode(comparison: RunComparison, strict: boolean): ExitCode {
  if (comparison.regression) return ExitCode.regression;
  if (comparison.inconclusive && (strict || comparison.thresholds.inconclusive === "fail"))
    return ExitCode.inconclusive;
  return ExitCode.ok;
}
