// Two stored runs → the comparison `vnetbench compare` prints: fingerprints checked, cells matched
// by key, every metric judged (compare.ts), cells ordered worst first, and warnings with hints.

import type { Cell } from "../domain/cell.js";
import { ExitCode, InputError } from "../errors.js";
import type { RunView } from "../report/run-view.js";
import {
  type AdaptiveMode,
  type SequentialDesign,
  sequentialComparison,
  type TrialSource,
} from "./adaptive.js";
import {
  type CompareOptions,
  type Comparison,
  compareCells,
  type MetricComparison,
  type Thresholds,
} from "./compare.js";
import { describeSetup, describeTraffic } from "./describe.js";
import { describeDrift } from "./drift.js";
import { checkFingerprint, describeDifferences, type FingerprintCheck } from "./fingerprint.js";
import {
  type CellMeasurements,
  type CellValues,
  type MetricName,
  matchValues,
  measureCell,
  type OneSidedMetric,
} from "./metrics.js";
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

/** A run as a comparison reads it: what it says of the run, and each cell's measurements. */
export interface MeasuredRun extends ComparedRun {
  /** In the run's matrix order. */
  cells: Array<Cell & { measurements: CellMeasurements }>;
}

function side(run: ComparedRun): ComparedRun {
  const { id, label, createdAt, status, trialsPerCell, metadata } = run;
  return { id, label, createdAt, status, trialsPerCell, metadata };
}

/** A view's run measured from its cells' trials. */
export function measuredRun(view: RunView): MeasuredRun {
  return {
    ...side(view),
    cells: view.cells.map(({ key, setup, traffic, trials }) => ({
      key,
      setup,
      traffic,
      measurements: measureCell(trials),
    })),
  };
}

const RANK = new Map(VERDICT_ORDER.map((verdict, i) => [verdict, i]));

function worstVerdict(metrics: readonly MetricComparison[]): Verdict {
  let worst: Verdict = "unchanged";
  for (const m of metrics) if (m.judged && RANK.get(m.verdict)! < RANK.get(worst)!) worst = m.verdict;
  return worst;
}

/**
 * Each cell's comparison by its candidate measurements, with what it was made of: a comparison
 * made again after a round re-uses the cells whose metrics' verdicts are the very ones of the last.
 */
const cellsBefore = new WeakMap<CellMeasurements, { base: CellMeasurements; cell: CellComparison }>();

function cellComparison(
  cell: MeasuredRun["cells"][number],
  base: CellMeasurements,
  metrics: MetricComparison[],
): CellComparison {
  const before = cellsBefore.get(cell.measurements);
  const kept = before?.cell;
  if (
    kept &&
    before.base === base &&
    kept.key === cell.key &&
    kept.setup === cell.setup &&
    kept.traffic === cell.traffic &&
    kept.metrics.length === metrics.length &&
    kept.metrics.every((m, i) => m === metrics[i])
  )
    return kept;
  const comparison: CellComparison = {
    key: cell.key,
    setup: cell.setup,
    traffic: cell.traffic,
    group: describeSetup(cell.setup),
    name: describeTraffic(cell.traffic),
    verdict: worstVerdict(metrics),
    metrics,
    generatorLimited: { baseline: base.generatorLimited, candidate: cell.measurements.generatorLimited },
  };
  cellsBefore.set(cell.measurements, { base, cell: comparison });
  return comparison;
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
  return compareMeasuredRuns(measuredRun(baseline), measuredRun(candidate), options);
}

/** compareRunViews from the runs' measurements (e.g. those stored with the cells' summaries). */
export function compareMeasuredRuns(
  baseline: MeasuredRun,
  candidate: MeasuredRun,
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
  const trusted = (run: MeasuredRun) =>
    new Map(run.cells.filter((c) => c.measurements.trusted > 0).map((c) => [c.key, c.measurements.values]));
  const matched = matchValues(trusted(baseline), trusted(candidate));
  const patterns = new Map(candidate.cells.map((cell) => [cell.key, cell.traffic.pattern]));
  for (const input of matched.inputs) input.pattern = patterns.get(input.cellKey);
  if (matched.inputs.length === 0) {
    throw new InputError(
      `runs ${baseline.id} and ${candidate.id} have no cell with completed trials in common ` +
        "(cells match on every parameter, durations included): run the same matrix on both",
    );
  }
  const thresholds = thresholdsFor(baseline, candidate, options.thresholds);
  const design = sequentialDesign(baseline, candidate);
  // A candidate that ran with `--baseline` this baseline is judged by its own looks: judging its
  // trials all at once at full α would undo the α spent over them.
  const comparison = design
    ? sequentialComparison(
        candidate.cells.map((cell) => cell.key),
        measuredTrialSource(trusted(baseline), candidate, patterns),
        design,
        { ...options, thresholds },
      )
    : compareCells(matched.inputs, { ...options, thresholds });
  const byCell = new Map<string, MetricComparison[]>();
  for (const result of comparison.results) {
    const list = byCell.get(result.cellKey);
    if (list) list.push(result);
    else byCell.set(result.cellKey, [result]);
  }
  const baseCells = new Map(baseline.cells.map((cell) => [cell.key, cell.measurements]));
  const pairs = new Map<string, CellPair>();
  const cells: CellComparison[] = [];
  for (const cell of candidate.cells) {
    const metrics = byCell.get(cell.key);
    if (!metrics) continue;
    const base = baseCells.get(cell.key)!;
    pairs.set(cell.key, { baseline: base, candidate: cell.measurements });
    cells.push(cellComparison(cell, base, metrics));
  }
  // A stable sort keeps the matrix order within each verdict.
  cells.sort((a, b) => RANK.get(a.verdict)! - RANK.get(b.verdict)!);

  const warnings = [
    ...describeDifferences(fingerprint).map((line) => `fingerprint differs: ${line}`),
    ...softwareWarnings(fingerprint),
    ...generatorWarnings(cells, pairs),
    ...excludedWarnings(cells, pairs),
    ...coverageWarnings(matched.baselineOnly, matched.candidateOnly),
    ...trialCountWarnings(comparison),
    ...(options.drift && describeDrift(options.drift) ? [describeDrift(options.drift)!] : []),
    ...(design
      ? [
          `the candidate ran with --baseline ${baseline.id}: each cell is judged at its last look ` +
            `(${design.initial} trials a cell, then one a round while open, up to ${design.max}; α spent over the looks)`,
        ]
      : []),
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
 * The candidate's stored measurements as the looks' source, counted as the run's own looks count
 * them: a cell has run its trials in a row from 1, and a look at n takes the values of trusted
 * trials numbered n or less (a failed or flagged trial leaves a gap, not a later trial's value).
 */
export function measuredTrialSource(
  baseline: ReadonlyMap<string, CellValues>,
  candidate: MeasuredRun,
  patterns: ReadonlyMap<string, string>,
): TrialSource {
  const cells = new Map(candidate.cells.map((cell) => [cell.key, cell.measurements]));
  return {
    ran: (key) => cells.get(key)?.ran ?? 0,
    inputs(open, n) {
      const sliced = new Map(
        [...open].flatMap((key) => {
          const m = cells.get(key);
          if (!m) return [];
          const upTo = (metric: MetricName, values: number[]) => {
            const trials = m.valueTrials[metric]!;
            return values.filter((_, i) => trials[i]! <= n);
          };
          const values = Object.entries(m.values).map(([k, v]) => [k, upTo(k as MetricName, v!)]);
          return [[key, Object.fromEntries(values)]];
        }),
      );
      const base = new Map([...baseline].filter(([key]) => open.has(key)));
      const matched = matchValues(base, sliced as Map<string, CellValues>);
      for (const input of matched.inputs) input.pattern = patterns.get(input.cellKey);
      return matched.inputs;
    },
  };
}

/** The adaptive design a candidate ran with against this baseline (`metadata.adaptive`), if it did. */
function sequentialDesign(baseline: MeasuredRun, candidate: MeasuredRun): SequentialDesign | null {
  const adaptive = candidate.metadata.adaptive as
    | { baseline: string; mode: AdaptiveMode; initialTrials: number; maxTrials: number }
    | undefined;
  if (adaptive?.baseline !== baseline.id) return null;
  return { initial: adaptive.initialTrials, max: adaptive.maxTrials, mode: adaptive.mode };
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

/** A compared cell's measurements on each side. */
type CellPair = { baseline: CellMeasurements; candidate: CellMeasurements };

/** One warning naming every cell whose generator could not keep up, with its count per side. */
function generatorWarnings(cells: CellComparison[], pairs: ReadonlyMap<string, CellPair>): string[] {
  const limited = cells.filter(
    (cell) => cell.generatorLimited.baseline + cell.generatorLimited.candidate > 0,
  );
  if (limited.length === 0) return [];
  const list = limited.map((cell) => {
    const pair = pairs.get(cell.key)!;
    return (
      `${cell.group}: ${cell.name} (${cell.generatorLimited.baseline}/${pair.baseline.completed} baseline, ` +
      `${cell.generatorLimited.candidate}/${pair.candidate.completed} candidate trials)`
    );
  });
  return [
    `the traffic generator could not keep up in ${limited.length} cell(s): ${list.join("; ")}. ` +
      "Their latency and rate measure the tool, not the path: lower --rate or give the generator a CPU of its own",
  ];
}

/** One warning naming every compared cell with trials left out (failed or flagged), per side. */
function excludedWarnings(cells: CellComparison[], pairs: ReadonlyMap<string, CellPair>): string[] {
  const list = cells.flatMap((cell) => {
    const { baseline, candidate } = pairs.get(cell.key)!;
    return baseline.excluded + candidate.excluded > 0
      ? [`${cell.group}: ${cell.name} (${baseline.excluded} baseline, ${candidate.excluded} candidate)`]
      : [];
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
