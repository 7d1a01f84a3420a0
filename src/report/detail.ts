// Which cells a report details (plots, a row per metric, every trial): all of a small run; of a
// large one only those a reviewer must read, so a 1300-cell report stays small and opens quickly.

import type { RunComparison } from "../compare/runs.js";
import type { RunView } from "./run-view.js";

/** Up to this many cells a run is detailed in full; beyond, this many cells at most. */
export const DETAIL_LIMIT = 20;

/**
 * The keys of the cells to detail, or null for all of them: with a comparison, the cells that
 * changed or are inconclusive, worst first; without, the cells with failed or generator-limited
 * trials or warnings.
 */
export function detailCells(run: RunView, comparison?: RunComparison): Set<string> | null {
  if (run.cells.length <= DETAIL_LIMIT) return null;
  const keys = comparison
    ? comparison.cells.filter((cell) => cell.verdict !== "unchanged").map((cell) => cell.key)
    : run.cells
        .filter(
          (cell) =>
            cell.summary.generatorLimited ||
            cell.summary.warnings.length > 0 ||
            cell.trials.some((trial) => trial.status !== "completed"),
        )
        .map((cell) => cell.key);
  return new Set(keys.slice(0, DETAIL_LIMIT));
}
