// Run-to-run drift. On a shared machine a whole run's figures move with the other work going on
// while it runs, so the trials of one run are not independent draws: a baseline and a candidate
// made one after the other differ by that drift even when nothing changed (18 % on this project's
// 2-core lab host), a difference Welch's t over trials would call. Earlier runs of the same cells
// on this host measure it: per metric, how much a run's mean ln(value) moves from one run to the
// next (a random effect of the run, as in a two-level model), which the comparison adds to the
// variance of the difference. The machine's load comes in modes (here latency p50 at 37 µs in most
// runs, at 50 µs in some), so the largest fifth of the moves is left out rather than all but the
// middle: a real change among the earlier runs (a regressed candidate, one or two moves of a cell)
// does not set it, the switches between modes do. The moves also carry the trials' own spread,
// counted twice then: on the safe side.

import { loadMeasuredRun } from "../report/run-view.js";
import type { Store } from "../storage/store.js";
import { type CellValues, METRIC_NAMES, METRICS, type MetricName } from "./metrics.js";

/** A metric's run-to-run variance of mean ln(value), with the run pairs it came from. */
export interface RunDrift {
  /** Variance of one run's mean ln(value) about the host's (τ²); a difference of two runs has 2τ². */
  variance: number;
  /** Degrees of freedom credited to the estimate: the run-to-run steps kept (cells of one step move together). */
  df: number;
  /** Successive run pairs (over all cells) and distinct runs it was measured on. */
  pairs: number;
  runs: number;
}

/** Fewest successive run pairs, and runs, a drift is estimated from: below, one odd pair would set it. */
export const MIN_DRIFT_PAIRS = 3;
export const MIN_DRIFT_RUNS = 4;

/** Share of the largest moves left out. */
const TRIMMED = 0.2;

/**
 * The mean of the smallest 80 % of squared normals over their whole mean: (0.8 − 2·z·φ(z))/0.8
 * with z = Φ⁻¹(0.9) = 1.2815516, φ(z) = 0.1754983 (the truncated second moment of the normal).
 */
const TRIMMED_SQUARE_MEAN = 0.437717;

/** Mean ln(value) of a run's trials of a cell; null below 2 positive values (as the comparison needs). */
function runMean(values: readonly number[] | undefined): number | null {
  // A loop, not filter/map: it runs for every metric of every cell of ten runs.
  let sum = 0;
  let count = 0;
  for (const value of values ?? []) {
    if (!(value > 0)) continue;
    sum += Math.log(value);
    count++;
  }
  return count < 2 ? null : sum / count;
}

/**
 * The drift of each metric over runs in time order. For each cell, successive runs that measured
 * it give d = the difference of their mean ln(value), E[d²] = 2τ² + the two means' variances;
 * 2τ² is taken as the mean of the smallest 80 % of the d², scaled to a whole normal's.
 */
export function runDrift(
  runs: ReadonlyArray<{ id: string; cells: ReadonlyArray<{ key: string; values: CellValues }> }>,
  metrics: readonly MetricName[],
): Partial<Record<MetricName, RunDrift>> {
  const drift: Partial<Record<MetricName, RunDrift>> = {};
  for (const metric of metrics) {
    const last = new Map<string, number>();
    const squares: number[] = [];
    const used = new Set<string>();
    for (const run of runs)
      for (const cell of run.cells) {
        const now = runMean(cell.values[metric]);
        if (now === null) continue;
        const before = last.get(cell.key);
        if (before !== undefined) {
          squares.push((now - before) ** 2);
          used.add(run.id);
        }
        last.set(cell.key, now);
      }
    // A run counts once it was paired with an earlier one: the first run of each pair is counted too.
    if (squares.length < MIN_DRIFT_PAIRS || used.size + 1 < MIN_DRIFT_RUNS) continue;
    const kept = [...squares]
      .sort((a, b) => a - b)
      .slice(0, squares.length - Math.ceil(TRIMMED * squares.length));
    const meanSquare = kept.reduce((sum, v) => sum + v, 0) / kept.length / TRIMMED_SQUARE_MEAN;
    drift[metric] = {
      variance: meanSquare / 2,
      df: Math.max(1, Math.round((1 - TRIMMED) * used.size)),
      pairs: squares.length,
      runs: used.size + 1,
    };
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
