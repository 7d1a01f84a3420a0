// The JSON shape of a run (`run --json`, `show --json`, `export --format json`): a public
// contract — fields are added, never renamed or removed.

import type { CpuSummary } from "../analysis/cpu.js";
import { type PeakSummary, summarizePeaks } from "../analysis/peak-summary.js";
import type { ServiceDemand } from "../analysis/service-demand.js";
import {
  type CellSummary,
  type ExcludedTrials,
  excludedTrials,
  samplesOf,
  summarizeSamples,
} from "../analysis/summary.js";
import { type CellMeasurements, measureCell } from "../compare/metrics.js";
import type { MeasuredRun } from "../compare/runs.js";
import { type Cell, isTrusted, type Trial } from "../domain/cell.js";
import { vnetbenchVersion } from "../run/metadata.js";
import { summarizeTrialCpu } from "../run/trial-cpu.js";
import type { Store, StoredRun } from "../storage/store.js";

export interface CellView extends Cell {
  trials: Trial[];
  summary: CellSummary & {
    cpu: CpuSummary | null;
    serviceDemand: ServiceDemand | null;
    /** A cell at rate `peak`: the peak, the criterion that stopped the search, its precision and the latency–load curve. */
    peak?: PeakSummary;
    /** Failed and flagged trials, left out of every figure above, with their reasons. */
    excluded: ExcludedTrials;
  };
  /**
   * Per-direction summaries of a bidirectional cell, and both together (`total`: rates summed,
   * latency from both directions' merged histograms, loss over both).
   */
  directions?: { forward: CellSummary; reverse: CellSummary; total: CellSummary };
}

export interface RunView {
  id: string;
  label: string;
  tester: string;
  status: string;
  createdAt: string;
  finishedAt: string | null;
  command: string[];
  trialsPerCell: number;
  metadata: Record<string, unknown>;
  cells: CellView[];
}

/**
 * Which summarizeCell made a stored summary: bump it when the summary's fields change, so stores
 * summarized before are summarized again (a new vnetbench version does so too).
 */
const SUMMARY_FORMAT = 6;

let version: string | undefined;

/** The version stored summaries are kept under: vnetbench's and the summary format's. */
export function summaryVersion(): string {
  version ??= `${vnetbenchVersion()}+${SUMMARY_FORMAT}`;
  return version;
}

/**
 * What is stored of a cell's summary (the histograms' merge is the costly part of a view), with
 * what a comparison reads of its trials.
 */
export type StoredCellSummary = Pick<CellView, "summary" | "directions"> & { measurements: CellMeasurements };

/** A cell's summary from its trials: merged histograms, pooled rates, CPU and the peak search. */
export function summarizeCell(cell: Cell, trials: readonly Trial[]): StoredCellSummary {
  const measurements = measureCell(trials);
  const summary: CellView["summary"] = {
    ...summarizeSamples(samplesOf(trials)),
    ...summarizeTrialCpu(cell.traffic, trials),
    // Said even when the limited trials are left out of the figures.
    generatorLimited: trials.some(
      (trial) => trial.status === "completed" && trial.samples.some((sample) => sample.generatorLimited),
    ),
    excluded: excludedTrials(trials),
  };
  const peak = summarizePeaks(trials.filter(isTrusted));
  if (peak) summary.peak = peak;
  if (cell.setup.direction !== "bidirectional") return { summary, measurements };
  const forward = summarizeSamples(samplesOf(trials));
  const reverse = summarizeSamples(samplesOf(trials, "reverse"));
  return {
    summary,
    directions: { forward, reverse, total: totalOf(forward, reverse, trials) },
    measurements,
  };
}

const sumOf = (a: number | null, b: number | null) => (a === null && b === null ? null : (a ?? 0) + (b ?? 0));

/** Both directions of a bidirectional cell as one: what the path carried in all. */
function totalOf(forward: CellSummary, reverse: CellSummary, trials: readonly Trial[]): CellSummary {
  const both = summarizeSamples([...samplesOf(trials), ...samplesOf(trials, "reverse")]);
  return {
    ...both,
    trials: forward.trials,
    messagesPerSecond: sumOf(forward.messagesPerSecond, reverse.messagesPerSecond),
    throughputMbps: sumOf(forward.throughputMbps, reverse.throughputMbps),
  };
}

/** A cell with its trials and summary (computed from the trials unless given). */
export function cellView(
  cell: Cell,
  trials: Trial[],
  stored: Pick<StoredCellSummary, "summary" | "directions"> = summarizeCell(cell, trials),
): CellView {
  const view: CellView = { ...cell, trials, summary: stored.summary };
  if (stored.directions) view.directions = stored.directions;
  return view;
}

function trialsByCell(trials: readonly Trial[]): Map<string, Trial[]> {
  const byCell = new Map<string, Trial[]>();
  for (const trial of trials) {
    const list = byCell.get(trial.cellKey);
    if (list) list.push(trial);
    else byCell.set(trial.cellKey, [trial]);
  }
  return byCell;
}

/** The view of a run; cells whose summary is in `summaries` are not summarized again. */
export function runView(run: StoredRun, summaries?: ReadonlyMap<string, StoredCellSummary>): RunView {
  const byCell = trialsByCell(run.results);
  return {
    id: run.id,
    label: run.label,
    tester: run.tester,
    status: run.status,
    createdAt: run.createdAt,
    finishedAt: run.finishedAt,
    command: run.command,
    trialsPerCell: run.trials,
    metadata: run.metadata,
    cells: run.cells.map((cell) => cellView(cell, byCell.get(cell.key) ?? [], summaries?.get(cell.key))),
  };
}

/**
 * A stored run's view from the summaries kept in the store; cells without one (trials recorded by
 * an older vnetbench, or since) are summarized from their histograms and the summaries kept.
 * Without `histograms` the trials' samples carry none: enough for tables, comparisons and CSV;
 * without `trials` the cells have none, only their summaries: enough for `show`.
 */
export function loadRunView(
  store: Store,
  reference: string,
  options: { histograms?: boolean; trials?: boolean } = {},
): RunView {
  const run =
    options.trials === false
      ? store.getRun(reference, { cells: [] })
      : store.getRun(reference, { histograms: options.histograms ?? false });
  const summaries = store.cellSummaries(run.id, summaryVersion()) as Map<string, StoredCellSummary>;
  for (const [key, summary] of summarizeMissing(
    store,
    run,
    summaries,
    options.histograms && options.trials !== false ? run : undefined,
  ))
    summaries.set(key, summary);
  return runView(run, summaries);
}

/**
 * Summarizes the cells of a run without a stored summary from their trials (read with their
 * histograms unless `full` holds them) and keeps the summaries.
 */
function summarizeMissing(
  store: Store,
  run: StoredRun,
  stored: ReadonlyMap<string, unknown>,
  full?: StoredRun,
): Map<string, StoredCellSummary> {
  const missing = run.cells.filter((cell) => !stored.has(cell.key));
  const computed = new Map<string, StoredCellSummary>();
  const held = full && trialsByCell(full.results);
  // A batch of cells at a time: every histogram of a large run at once weighs hundreds of MB.
  for (let start = 0; start < missing.length; start += SUMMARY_BATCH) {
    const batch = missing.slice(start, start + SUMMARY_BATCH);
    const trials =
      held ?? trialsByCell(store.getRun(run.id, { cells: batch.map((cell) => cell.key) }).results);
    const summaries = new Map(
      batch.map((cell) => [cell.key, summarizeCell(cell, trials.get(cell.key) ?? [])]),
    );
    store.saveCellSummaries(run.id, summaryVersion(), summaries);
    for (const [key, summary] of summaries) computed.set(key, summary);
  }
  return computed;
}

const SUMMARY_BATCH = 100;

/**
 * A stored run as a comparison reads it: its cells' measurements from the stored summaries, no
 * trial read (cells without a stored summary are summarized and kept, as by loadRunView).
 */
export function loadMeasuredRun(store: Store, reference: string): MeasuredRun {
  const run = store.getRun(reference, { cells: [] });
  const measurements = store.cellSummaries(run.id, summaryVersion(), "measurements") as Map<
    string,
    CellMeasurements
  >;
  for (const [key, summary] of summarizeMissing(store, run, measurements))
    measurements.set(key, summary.measurements);
  const { id, label, createdAt, status, trials: trialsPerCell, metadata } = run;
  return {
    id,
    label,
    createdAt,
    status,
    trialsPerCell,
    metadata,
    cells: run.cells.map((cell) => ({ ...cell, measurements: measurements.get(cell.key)! })),
  };
}

/** The view with these trials (e.g. read again with their histograms) in place of its cells' own. */
export function withTrials(view: RunView, trials: readonly Trial[]): RunView {
  const byCell = trialsByCell(trials);
  return {
    ...view,
    cells: view.cells.map((cell) => {
      const replaced = byCell.get(cell.key);
      return replaced ? { ...cell, trials: replaced } : cell;
    }),
  };
}

/** Summarizes one cell of a run again and keeps it (after a trial of the cell was recorded). */
export function refreshCellSummary(store: Store, runId: string, cell: Cell): void {
  const trials = store.getRun(runId, { cells: [cell.key] }).results;
  store.saveCellSummaries(runId, summaryVersion(), new Map([[cell.key, summarizeCell(cell, trials)]]));
}
