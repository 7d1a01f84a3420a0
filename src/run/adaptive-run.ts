// A candidate run that knows its baseline (`run --baseline RUN`): after its initial trials, rounds
// of one more trial for the cells whose verdict is not settled, up to `--max-trials`, with the
// looks and their α from src/compare/adaptive.ts. Everything is re-derived from the stored trials,
// so a resumed run continues with the same looks and rounds.

import {
  type AdaptiveMode,
  judgedCounts,
  replayLooks,
  type SequentialState,
  StoredTrials,
} from "../compare/adaptive.js";
import { describeCells } from "../compare/describe.js";
import { describeDrift, driftBefore, type RunDrift } from "../compare/drift.js";
import { checkFingerprint, describeDifferences } from "../compare/fingerprint.js";
import type { MetricName } from "../compare/metrics.js";
import { thresholdsFor } from "../compare/runs.js";
import { VERDICTS, type Verdict } from "../compare/verdict.js";
import type { Cell } from "../domain/cell.js";
import { ExitCode, InputError } from "../errors.js";
import type { Store, StoredRun } from "../storage/store.js";
import type { RoundSource } from "./runner.js";

/** What a candidate run stores about its adaptive design (`metadata.adaptive`). */
export interface AdaptiveSettings {
  /** The baseline run's id. */
  baseline: string;
  /** `regression` (`--baseline`), or `precision` (`--trials auto`). */
  mode: AdaptiveMode;
  /** Trials every cell gets before the first look. */
  initialTrials: number;
  /** The most trials a cell gets. */
  maxTrials: number;
}

/** The closing figures of an adaptive run, stored as `metadata.adaptive.outcome`. */
export interface AdaptiveOutcome {
  /** The headline of the sequential comparison with the baseline. */
  result: "regression" | "inconclusive" | "no regression";
  counts: Record<Verdict, number>;
  /** Candidate trials each cell got, and in all; the fixed design runs every cell to maxTrials. */
  trialsPerCell: Record<string, number>;
  trialsSpent: number;
  fixedDesignTrials: number;
  looks: SequentialState["looks"];
}

/** The default cap: twice the initial trials. */
export function defaultMaxTrials(initial: number): number {
  return 2 * initial;
}

/**
 * Checks a baseline for a candidate's cells before anything runs: the same cell keys on both sides
 * (a mismatch is bad input, naming the first cells that differ) and a cap above the initial trials.
 */
export function checkBaseline(
  baseline: StoredRun,
  cells: readonly Pick<Cell, "key">[],
  settings: Omit<AdaptiveSettings, "baseline">,
): void {
  const theirs = new Set(baseline.cells.map((cell) => cell.key));
  const ours = new Set(cells.map((cell) => cell.key));
  const missing = [...ours].filter((key) => !theirs.has(key));
  const extra = [...theirs].filter((key) => !ours.has(key));
  if (missing.length > 0 || extra.length > 0) {
    const list = (keys: string[]) =>
      `${keys.slice(0, 3).join(", ")}${keys.length > 3 ? ` (and ${keys.length - 3} more)` : ""}`;
    const none = missing.length === ours.size ? ", none of them in common" : "";
    throw new InputError(
      `--baseline ${baseline.id}: its cells differ from this run's${none} (cells match on every parameter, durations included): ` +
        [
          missing.length > 0 ? `${missing.length} not in the baseline: ${list(missing)}` : "",
          extra.length > 0 ? `${extra.length} only in the baseline: ${list(extra)}` : "",
        ]
          .filter(Boolean)
          .join("; ") +
        ". Run the candidate with the baseline's flags or matrix",
    );
  }
  if (!(settings.maxTrials >= settings.initialTrials))
    throw new InputError(
      `--max-trials: ${settings.maxTrials} is below the ${settings.initialTrials} initial trials a cell gets`,
    );
}

/**
 * What a candidate's machine facts (recorded when it starts) say against its baseline's: a line
 * naming the hardware facts that differ — the verdict would then measure the machines too — or
 * undefined when they agree or were not recorded on both sides.
 */
export function baselineMachineWarning(store: Store, runId: string): string | undefined {
  const candidate = store.getRun(runId, { histograms: false });
  const settings = candidate.metadata.adaptive as AdaptiveSettings | undefined;
  if (settings === undefined) return undefined;
  const baseline = store.getRun(settings.baseline, { histograms: false });
  const check = checkFingerprint(baseline.metadata, candidate.metadata);
  if (check.matches) return undefined;
  return (
    `--baseline ${baseline.id} was measured on other hardware (${describeDifferences(check).join("; ")}): ` +
    "the verdict against it measures the machines as well as the change"
  );
}

/**
 * The looks so far, from the stored trials (read without histograms: a look needs none), with the
 * run-to-run drift of the runs stored before this one (as `compare` reads it). The baseline is
 * read once and kept with the inputs made of each cell's trials: after a round only the cells that
 * got a trial are measured again.
 */
function looks(
  store: Store,
  runId: string,
  drift: Partial<Record<MetricName, RunDrift>>,
): () => {
  candidate: StoredRun;
  settings: AdaptiveSettings;
  state: SequentialState;
} {
  let kept: { baseline: StoredRun; trials: StoredTrials } | undefined;
  return () => {
    const candidate = store.getRun(runId, { histograms: false });
    const settings = candidate.metadata.adaptive as AdaptiveSettings;
    if (kept?.baseline.id !== settings.baseline) {
      const baseline = store.getRun(settings.baseline, { histograms: false });
      const patterns = new Map(candidate.cells.map((cell) => [cell.key, cell.traffic.pattern]));
      kept = { baseline, trials: new StoredTrials(baseline.results, patterns) };
    }
    const state = replayLooks(
      candidate.cells.map((cell) => cell.key),
      kept.trials.source(candidate.results),
      { initial: settings.initialTrials, max: settings.maxTrials, mode: settings.mode },
      // The looks decide which cells go on; the interval of the medians is only reported (by compare).
      { thresholds: thresholdsFor(kept.baseline, candidate), drift, medianInterval: false },
    );
    return { candidate, settings, state };
  };
}

/** The headline of a sequential comparison, as `compare` words it. */
function outcomeOf(
  state: SequentialState,
  cells: readonly Cell[],
  settings: AdaptiveSettings,
): AdaptiveOutcome {
  const counts = judgedCounts(state.results);
  const trialsPerCell = Object.fromEntries(
    cells.map((cell) => [cell.key, state.trialsAt.get(cell.key) ?? 0]),
  );
  return {
    result: counts.regression > 0 ? "regression" : counts.inconclusive > 0 ? "inconclusive" : "no regression",
    counts,
    trialsPerCell,
    trialsSpent: Object.values(trialsPerCell).reduce((sum, n) => sum + n, 0),
    fixedDesignTrials: cells.length * settings.maxTrials,
    looks: state.looks,
  };
}

/** The rounds of a stored candidate run with `metadata.adaptive`; undefined for any other run. */
export function adaptiveRounds(store: Store, runId: string): RoundSource | undefined {
  if (store.getRun(runId, { cells: [] }).metadata.adaptive === undefined) return undefined;
  const drift = driftBefore(store, runId);
  const replay = looks(store, runId, drift);
  return {
    next() {
      const { candidate, state } = replay();
      if (state.next === null) return null;
      const index = new Map(candidate.cells.map((cell, i) => [cell.key, i]));
      const open = state.looks.at(-1)?.open ?? candidate.cells.map((cell) => cell.key);
      return {
        round: state.looks.length + 1,
        open,
        trials: state.next.map(({ cellKey, trial }) => ({ cellIndex: index.get(cellKey)!, trial })),
      };
    },
    finish() {
      const { candidate, settings, state } = replay();
      const outcome = outcomeOf(state, candidate.cells, settings);
      store.setMetadataField(runId, "adaptive", { ...settings, outcome });
      const drifted = describeDrift(drift);
      return [...closingNotes(candidate.cells, settings, outcome), ...(drifted ? [drifted] : [])];
    },
  };
}

/** The design, said before the first trial. */
export function adaptiveNote(settings: AdaptiveSettings): string {
  const looks = settings.maxTrials - settings.initialTrials;
  return (
    `adaptive against baseline ${settings.baseline}: ${settings.initialTrials} trials a cell, then one more a round for the cells ` +
    `${settings.mode === "precision" ? "not yet settled or precise to the noise threshold" : "hinting at a regression not yet called"}, ` +
    `up to ${settings.maxTrials} (--max-trials; default twice the initial trials); ` +
    (looks > 0
      ? `α/5 at the first look, 4α/5 at the cap${looks > 1 ? `; the ${looks - 1} look(s) between only stop cells` : ""}`
      : "one look with all of α")
  );
}

/** The closing note: the verdict against the baseline and the trials spent per cell vs the fixed design. */
export function closingNotes(
  cells: readonly Cell[],
  settings: AdaptiveSettings,
  outcome: AdaptiveOutcome,
): string[] {
  const names = describeCells(cells);
  const percent = Math.round((100 * outcome.trialsSpent) / outcome.fixedDesignTrials);
  const byCount = new Map<number, string[]>();
  for (const cell of cells) {
    const n = outcome.trialsPerCell[cell.key] ?? 0;
    byCount.set(n, [...(byCount.get(n) ?? []), names.get(cell.key)!]);
  }
  const perCell = [...byCount]
    .sort(([a], [b]) => b - a)
    .map(([n, list]) => `  ${n} trials: ${list.join(", ")}`);
  return [
    `against baseline ${settings.baseline} (sequential, ${outcome.looks.length} look(s)): ${outcome.result.toUpperCase()} ` +
      `(${VERDICTS.map((v) => `${outcome.counts[v]} ${v}`).join(", ")} judged metrics)`,
    `trials spent: ${outcome.trialsSpent} over ${cells.length} cell(s), ${percent} % of the fixed design's ` +
      `${outcome.fixedDesignTrials} (${settings.maxTrials} a cell, --max-trials); ${settings.initialTrials} a cell before the first look:`,
    ...perCell,
  ];
}

/** The exit code an adaptive run's verdict asks for: 1 on a regression, else 0 (as `compare`). */
export function adaptiveExitCode(metadata: Record<string, unknown>): ExitCode {
  const outcome = (metadata.adaptive as { outcome?: AdaptiveOutcome } | undefined)?.outcome;
  return outcome?.result === "regression" ? ExitCode.regression : ExitCode.ok;
}
