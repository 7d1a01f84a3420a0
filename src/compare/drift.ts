// Run-to-run drift. On a shared machine a whole run's figures move with the other work going on
// while it runs, so the trials of one run are not independent draws: a baseline and a candidate
// made one after the other differ by that drift even when nothing changed (18 % on this project's
// 2-core lab host), a difference Welch's t over trials would call. Earlier runs of the same cells
// on this host measure it: per judged metric, the variance of a run's mean ln(value) from one run
// to the next beyond what its trials' spread explains (a random effect of the run, as in a
// two-level model). The comparison adds it to each side's variance. Medians over cells and run
// pairs, so that a real change among the earlier runs (a regressed candidate) does not set it.

import { loadMeasuredRun } from "../report/run-view.js";
import type { Store } from "../storage/store.js";
import { type CellValues, METRIC_NAMES, METRICS, type MetricName } from "./metrics.js";

/** A metric's run-to-run variance of mean ln(value), with the run pairs it came from. */
export interface RunDrift {
  /** Variance of one run's mean ln(value) about the host's (τ²); a difference of two runs has 2τ². */
  variance: number;
  /** Degrees of freedom credited to the estimate: the run pairs it is the median over. */
  df: number;
  /** Successive run pairs (over all cells) and distinct runs it was measured on. */
  pairs: number;
  runs: number;
}

/** Fewest successive run pairs, and runs, a drift is estimated from: below, one odd pair would set it. */
export const MIN_DRIFT_PAIRS = 3;
export const MIN_DRIFT_RUNS = 4;

/** Median of χ²₁ (scipy.stats.chi2.median(1)): a squared normal's median is this times its mean. */
const CHI2_1_MEDIAN = 0.454936423119572;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Mean ln(value) of a run's trials of a cell and its variance (s²/n); null below 2 positive values. */
function runMean(values: readonly number[] | undefined): { mean: number; variance: number } | null {
  const logs = (values ?? []).filter((v) => v > 0).map(Math.log);
  if (logs.length < 2) return null;
  const mean = logs.reduce((a, b) => a + b, 0) / logs.length;
  const s2 = logs.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (logs.length - 1);
  return { mean, variance: s2 / logs.length };
}

/**
 * The drift of each metric over runs in time order. For each cell, successive runs that measured
 * it give d = the difference of their mean ln(value), whose expectation of d² is 2τ² plus the two
 * means' variances: 2τ² ≈ median(d²)/median(χ²₁) − median(the means' variances), clipped at 0.
 */
export function runDrift(
  runs: ReadonlyArray<{ id: string; cells: ReadonlyArray<{ key: string; values: CellValues }> }>,
  metrics: readonly MetricName[],
): Partial<Record<MetricName, RunDrift>> {
  const drift: Partial<Record<MetricName, RunDrift>> = {};
  for (const metric of metrics) {
    const last = new Map<string, { mean: number; variance: number }>();
    const squares: number[] = [];
    const variances: number[] = [];
    const used = new Set<string>();
    for (const run of runs)
      for (const cell of run.cells) {
        const now = runMean(cell.values[metric]);
        if (now === null) continue;
        const before = last.get(cell.key);
        if (before) {
          squares.push((now.mean - before.mean) ** 2);
          variances.push(now.variance + before.variance);
          used.add(run.id);
        }
        last.set(cell.key, now);
      }
    // A run counts once it was paired with an earlier one: the first run of each pair is counted too.
    if (squares.length < MIN_DRIFT_PAIRS || used.size + 1 < MIN_DRIFT_RUNS) continue;
    const variance = Math.max(0, (median(squares) / CHI2_1_MEDIAN - median(variances)) / 2);
    drift[metric] = { variance, df: squares.length, pairs: squares.length, runs: used.size + 1 };
  }
  return drift;
}

/** Earlier runs read for the drift: the newest this many on the candidate's host sharing a cell with it. */
export const DRIFT_HISTORY_RUNS = 10;

/**
 * The drift for comparing with a candidate run: from the runs stored before it on the same host
 * (its `hostname`) that share a cell with it, the newest DRIFT_HISTORY_RUNS, oldest first; the
 * baseline is among them when it came before. The same whenever it is asked (later runs never
 * count), so `compare` and the run's own looks agree.
 */
export function driftBefore(store: Store, candidateId: string): Partial<Record<MetricName, RunDrift>> {
  const records = store.listRuns();
  const at = records.findIndex((run) => run.id === candidateId);
  const candidate = records[at];
  if (candidate === undefined) return {};
  const keys = new Set(store.getRun(candidateId, { cells: [] }).cells.map((cell) => cell.key));
  const history = [];
  for (const record of records.slice(0, at).reverse()) {
    if (history.length >= DRIFT_HISTORY_RUNS) break;
    if (record.status === "running" || record.metadata.hostname !== candidate.metadata.hostname) continue;
    const cells = loadMeasuredRun(store, record.id)
      .cells.filter((cell) => keys.has(cell.key))
      .map((cell) => ({ key: cell.key, values: cell.measurements.values }));
    if (cells.length > 0) history.push({ id: record.id, cells });
  }
  return runDrift(history.reverse(), METRIC_NAMES);
}

/** What the drift added to a comparison, in a line: each metric's run-to-run spread (%) and the runs it came from. */
export function describeDrift(drift: Partial<Record<MetricName, RunDrift>>): string | null {
  const entries = (Object.entries(drift) as Array<[MetricName, RunDrift]>).filter(([, d]) => d.variance > 0);
  if (entries.length === 0) return null;
  const runs = Math.max(...entries.map(([, d]) => d.runs));
  return (
    `run-to-run drift on this host, from up to ${runs} earlier runs of these cells, is part of every interval ` +
    `(two runs differ by it even when nothing changed): ${entries
      .map(([metric, d]) => `${METRICS[metric].label} ±${(100 * Math.sqrt(d.variance)).toPrecision(2)} %`)
      .join(", ")}`
  );
}
