// The operations on stored runs (list, show, compare, report, export), apart from running: a
// command that only reads results loads this and what it needs, not the labs, drivers and matrix
// parser a run brings in.

import { existsSync } from "node:fs";
import { driftBefore } from "./compare/drift.js";
import { compareMeasuredRuns, type RunCompareOptions, type RunComparison } from "./compare/runs.js";
import { type RunReference, resolveReference } from "./compare/select.js";
import { InputError } from "./errors.js";
import { detailCells } from "./report/detail.js";
import { EXPORT_FORMATS, type ExportFormat, serializeRun, storedRunCsv } from "./report/export.js";
import { loadMeasuredRun, loadRunView, type RunView, withTrials } from "./report/run-view.js";
import { vnetbenchVersion } from "./run/metadata.js";
import { ownerAlive, type RunOwner } from "./run/owner.js";
import { DEFAULT_DB } from "./storage/location.js";
import { assertRoom, type RunRecord, Store } from "./storage/store.js";

export { DEFAULT_DB };

/** Opens the store; `forRun`: one a run will write to, checked writable with room to spare first. */
export function openStore(db: string | undefined, { forRun = false } = {}): Store {
  // No room for a run: refused before a new store file is even made.
  if (forRun) assertRoom(db ?? DEFAULT_DB);
  const store = new Store(db ?? DEFAULT_DB);
  if (forRun) {
    try {
      store.assertWritable();
    } catch (error) {
      store.close();
      throw error;
    }
  }
  try {
    store.markAbandoned((owner) => ownerAlive(owner as RunOwner) === false);
  } catch {
    // A read-only store is still shown as it is.
  }
  return store;
}

/** The store for commands that read stored runs: a missing file is said so, never created empty. */
export function openExistingStore(db: string | undefined, options: { forRun?: boolean } = {}): Store {
  const path = db ?? DEFAULT_DB;
  if (!existsSync(path))
    throw new InputError(
      `no results database at ${path}: nothing was run there yet (\`vnetbench run\` creates it; --db PATH names another)`,
    );
  return openStore(path, options);
}

export function listRuns(db?: string): RunRecord[] {
  const store = openExistingStore(db);
  try {
    return store.listRuns();
  } finally {
    store.close();
  }
}

/**
 * A stored run as its JSON view. `histograms: false` leaves the trials' histograms out, `trials:
 * false` the trials (the cell summaries come from the store either way): what `show` prints needs
 * neither.
 */
export function showRun(
  reference: string,
  db?: string,
  options: { histograms?: boolean; trials?: boolean } = {},
): RunView {
  const store = openExistingStore(db);
  try {
    return loadRunView(store, reference, { histograms: options.histograms ?? true, trials: options.trials });
  } finally {
    store.close();
  }
}

export interface CompareRunsOptions extends RunCompareOptions {
  db?: string;
}

/** Compares a candidate run with a baseline, each named by id, prefix, `latest` or `{ label }`. */
export function compareRuns(
  baseline: RunReference,
  candidate: RunReference,
  options: CompareRunsOptions = {},
): RunComparison {
  const store = openExistingStore(options.db);
  try {
    const base = loadMeasuredRun(store, resolveReference(store, baseline));
    const cand = loadMeasuredRun(store, resolveReference(store, candidate));
    return compareMeasuredRuns(base, cand, { drift: driftBefore(store, cand.id), ...options });
  } finally {
    store.close();
  }
}

export interface ReportOptions extends RunCompareOptions {
  db?: string;
  /** A baseline to compare the run with (`report --vs`). */
  vs?: RunReference;
}

/** The self-contained HTML report of a run, with a comparison when `vs` names a baseline. */
export async function reportRun(reference: RunReference, options: ReportOptions = {}): Promise<string> {
  const store = openExistingStore(options.db);
  let run: RunView;
  let comparison: RunComparison | undefined;
  let baseline: RunView | undefined;
  let trialCounts: Map<string, { total: number; completed: number }>;
  try {
    // Summaries only: the trials are read of the cells drawn (all of a small run), the others'
    // counted from their stored measurements.
    run = loadRunView(store, resolveReference(store, reference), { trials: false });
    const measured = loadMeasuredRun(store, run.id);
    trialCounts = new Map(
      measured.cells.map(({ key, measurements: m }) => [
        key,
        { total: m.trusted + m.excluded, completed: m.completed },
      ]),
    );
    if (options.vs !== undefined) {
      baseline = loadRunView(store, resolveReference(store, options.vs), { trials: false });
      comparison = compareMeasuredRuns(loadMeasuredRun(store, baseline.id), measured, {
        drift: driftBefore(store, run.id),
        ...options,
      });
    }
    // Histograms only of the cells whose latency distribution is drawn (the baseline's overlaid).
    const detail = detailCells(run, comparison, trialCounts);
    const drawn = run.cells.filter((cell) => !detail || detail.has(cell.key)).map((cell) => cell.key);
    run = withTrials(run, store.getRun(run.id, { cells: drawn }).results);
    if (baseline) baseline = withTrials(baseline, store.getRun(baseline.id, { cells: drawn }).results);
  } finally {
    store.close();
  }
  // Loaded on demand: Vega is heavy, and every other command (the agent included) would pay for it.
  const { reportHtml } = await import("./report/html.js");
  return reportHtml({
    run,
    baseline,
    comparison,
    generator: { version: vnetbenchVersion(), at: new Date().toISOString() },
    trialCounts,
  });
}

/** A run serialized for other tools: CSV (a row per trial and direction) or the RunView JSON. */
export function exportRun(reference: RunReference, format: ExportFormat, db?: string): string {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format))
    throw new InputError(
      `--format: '${format}' is not an export format; expected one of ${EXPORT_FORMATS.join(", ")}`,
    );
  const store = openExistingStore(db);
  try {
    const id = resolveReference(store, reference);
    if (format === "csv") return storedRunCsv(store, id);
    return serializeRun(loadRunView(store, id, { histograms: true }), format);
  } finally {
    store.close();
  }
}
