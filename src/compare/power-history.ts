// The power of a planned run from what the store already knows: earlier runs of the same cells on
// this host give the trial-to-trial spread of each judged metric.

import type { Cell } from "../domain/cell.js";
import type { Store } from "../storage/store.js";
import type { Thresholds } from "./compare.js";
import { METRIC_NAMES } from "./metrics.js";
import { observedSpread, type PlanPower, planPower } from "./power.js";

/** Earlier runs read for the spread: the newest few on this host that share a cell with the plan. */
const HISTORY_RUNS = 3;

/** The plan's power, with the spread from up to HISTORY_RUNS earlier runs of its cells on `hostname`. */
export function powerFromHistory(
  store: Store | null,
  cells: readonly Pick<Cell, "key" | "traffic">[],
  trialsPerSide: number,
  acceptance: Partial<Thresholds>,
  hostname: string,
): PlanPower {
  const keys = new Set(cells.map((cell) => cell.key));
  const runs = [];
  const candidates = (store?.listRuns() ?? [])
    .filter((run) => run.metadata.hostname === hostname && run.status !== "running")
    .reverse();
  for (const record of candidates) {
    if (runs.length >= HISTORY_RUNS) break;
    const run = store!.getRun(record.id);
    if (run.cells.some((cell) => keys.has(cell.key))) runs.push(run);
  }
  return planPower(cells, trialsPerSide, acceptance, observedSpread(runs, keys, METRIC_NAMES));
}
