// Which cells a report details (plots, a row per metric, every trial): all of a small run; of a
// large one only those a reviewer must read, so a 1300-cell report stays small and opens quickly.

import { type CellComparison, type RunComparison, VERDICT_ORDER } from "../compare/runs.js";
import type { CellView, RunView } from "./run-view.js";

/** Up to this many cells a run is detailed in full; beyond, this many cells at most. */
export const DETAIL_LIMIT = 20;

/** How far a cell's largest unsettled change goes, in multiples of its metric's noise threshold. */
function changeSize(cell: CellComparison): number {
  let size = 0;
  for (const m of cell.metrics)
    if (m.verdict !== "unchanged" && Number.isFinite(m.estimate))
      size = Math.max(size, Math.abs(m.estimate) / Math.max(m.noise, Number.EPSILON));
  return size;
}

/**
 * The keys of the cells to detail, or null for all of them: with a comparison, the cells that
 * changed or are inconclusive, worst verdict first and the largest changes first within one (a
 * thousand inconclusive cells are mostly noise; a planted 30 % change leads them); without, the cells with failed or generator-limited
 * trials or warnings.
 */
export function detailCells(
  run: RunView,
  comparison?: RunComparison,
  counts?: ReadonlyMap<string, TrialCounts>,
): Set<string> | null {
  if (run.cells.length <= DETAIL_LIMIT) return null;
  const keys = comparison
    ? comparison.cells
        .filter((cell) => cell.verdict !== "unchanged")
        .map((cell, order) => ({
          cell,
          order,
          rank: VERDICT_ORDER.indexOf(cell.verdict),
          size: changeSize(cell),
        }))
        // Worst verdict first; within one, the largest change (a stable order among equals).
        .sort((a, b) => a.rank - b.rank || b.size - a.size || a.order - b.order)
        .map(({ cell }) => cell.key)
    : run.cells
        .filter(
          (cell) =>
            cell.summary.generatorLimited ||
            cell.summary.warnings.length > 0 ||
            notAllCompleted(cell, counts),
        )
        .map((cell) => cell.key);
  return new Set(keys.slice(0, DETAIL_LIMIT));
}

/** Trials of a cell, and how many completed: what a report needs of the cells whose trials it does not read. */
export interface TrialCounts {
  total: number;
  completed: number;
}

/** A cell's trial counts: from `counts` when given for it, else from its trials. */
export function trialCounts(
  cell: Pick<CellView, "key" | "trials">,
  counts?: ReadonlyMap<string, TrialCounts>,
): TrialCounts {
  return (
    counts?.get(cell.key) ?? {
      total: cell.trials.length,
      completed: cell.trials.filter((trial) => trial.status === "completed").length,
    }
  );
}

function notAllCompleted(cell: CellView, counts?: ReadonlyMap<string, TrialCounts>): boolean {
  const { total, completed } = trialCounts(cell, counts);
  return completed < total;
}
