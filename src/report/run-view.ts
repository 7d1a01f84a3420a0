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
import { type Cell, isTrusted, type Trial } from "../domain/cell.js";
import { summarizeTrialCpu } from "../run/trial-cpu.js";
import type { StoredRun } from "../storage/store.js";

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
  /** Per-direction summaries of a bidirectional cell. */
  directions?: { forward: CellSummary; reverse: CellSummary };
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

export function cellView(cell: Cell, trials: Trial[]): CellView {
  const view: CellView = {
    ...cell,
    trials,
    summary: {
      ...summarizeSamples(samplesOf(trials)),
      ...summarizeTrialCpu(cell.traffic, trials),
      // Said even when the limited trials are left out of the figures.
      generatorLimited: trials.some(
        (trial) => trial.status === "completed" && trial.samples.some((sample) => sample.generatorLimited),
      ),
      excluded: excludedTrials(trials),
    },
  };
  const peak = summarizePeaks(trials.filter(isTrusted));
  if (peak) view.summary.peak = peak;
  if (cell.setup.direction === "bidirectional") {
    view.directions = {
      forward: summarizeSamples(samplesOf(trials)),
      reverse: summarizeSamples(samplesOf(trials, "reverse")),
    };
  }
  return view;
}

export function runView(run: StoredRun): RunView {
  const byCell = new Map<string, Trial[]>();
  for (const trial of run.results) byCell.set(trial.cellKey, [...(byCell.get(trial.cellKey) ?? []), trial]);
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
    cells: run.cells.map((cell) => cellView(cell, byCell.get(cell.key) ?? [])),
  };
}
