// A simulated comparison of a whole matrix, for the gate's unit test (a small shape) and
// bench/gate-sim.ts (the seed-full shape): per cell 4 judged metrics with log-normal trial noise
// of 1–3 %, occasional 5× outliers (always the bad way: a hiccup slows a trial), and regressions
// planted in chosen cells. Runs the fixed design and the adaptive one on the same draws.

import { mulberry32, type Random } from "../../../src/analysis/random.js";
import { replayLooks } from "../../../src/compare/adaptive.js";
import { type CompareOptions, compareCells, type MetricComparison } from "../../../src/compare/compare.js";
import { METRICS, type MetricInput, type MetricName } from "../../../src/compare/metrics.js";
import { gaussian } from "./synthetic.js";

const JUDGED: readonly MetricName[] = [
  "latencyP50",
  "latencyP99",
  "messagesPerSecond",
  "serviceDemandOutsideGenerator",
];

export interface GateShape {
  cells: number;
  /** Trials a side of the fixed design, and the baseline's in the adaptive one. */
  trials: number;
  /** Adaptive designs: the candidate's trials at the first look, and the most a cell gets (one more a round while open). */
  adaptive: ReadonlyArray<{ initial: number; max: number }>;
  /** Chance that a trial value is a 5× outlier. */
  outlierRate: number;
  /** Cell index → planted regression (0.1 = 10 % worse on every judged metric). */
  planted: ReadonlyMap<number, number>;
}

interface SimCell {
  key: string;
  sigma: number;
  centre: number;
  factor: number;
}

function draw(
  random: Random,
  cell: SimCell,
  metric: MetricName,
  n: number,
  worse: number,
  outlierRate: number,
) {
  const up = METRICS[metric].better === "lower";
  return Array.from({ length: n }, () => {
    const outlier = random() < outlierRate ? 5 : 1;
    const value = cell.centre * Math.exp(cell.sigma * gaussian(random)) * outlier * worse;
    return up ? value : cell.centre ** 2 / value;
  });
}

export interface DesignOutcome {
  /** Planted cell index → whether its cell verdict was regression. */
  detected: Map<number, boolean>;
  /** A regression called in a cell where none was planted. */
  falseRegression: boolean;
  /** Candidate trials per cell, on average. */
  candidateTrials: number;
}

function outcome(
  shape: GateShape,
  cells: SimCell[],
  results: MetricComparison[],
  candidateTrials: number,
): DesignOutcome {
  const regressed = new Set(
    results.filter((m) => m.judged && m.verdict === "regression").map((m) => m.cellKey),
  );
  const detected = new Map([...shape.planted.keys()].map((i) => [i, regressed.has(cells[i]!.key)]));
  const planted = new Set([...shape.planted.keys()].map((i) => cells[i]!.key));
  return {
    detected,
    falseRegression: [...regressed].some((key) => !planted.has(key)),
    candidateTrials,
  };
}

/** One simulated comparison, seeded: the fixed design and the adaptive one on the same baseline. */
export function simulateComparison(
  shape: GateShape,
  seed: number,
  options: CompareOptions = {},
): { fixed: DesignOutcome; adaptive: DesignOutcome[] } {
  const random = mulberry32(seed);
  const cells: SimCell[] = Array.from({ length: shape.cells }, (_, i) => ({
    key: `cell-${i}`,
    sigma: 0.01 + 0.02 * random(),
    centre: 20 + 200 * random(),
    factor: 1 + (shape.planted.get(i) ?? 0),
  }));
  const baseline = new Map<string, number[]>();
  const candidate = new Map<string, number[]>();
  const id = (cell: SimCell, metric: MetricName) => `${cell.key}\u0000${metric}`;
  for (const cell of cells)
    for (const metric of JUDGED) {
      baseline.set(id(cell, metric), draw(random, cell, metric, shape.trials, 1, shape.outlierRate));
      const most = Math.max(shape.trials, ...shape.adaptive.map((design) => design.max));
      candidate.set(id(cell, metric), draw(random, cell, metric, most, cell.factor, shape.outlierRate));
    }
  const inputs = (keep: (cell: SimCell) => boolean, n: number): MetricInput[] =>
    cells.filter(keep).flatMap((cell) =>
      JUDGED.map((metric) => ({
        cellKey: cell.key,
        metric,
        baseline: baseline.get(id(cell, metric))!,
        candidate: candidate.get(id(cell, metric))!.slice(0, n),
      })),
    );
  const quick = { resamples: 1, ...options };
  const fixed = compareCells(
    inputs(() => true, shape.trials),
    quick,
  );
  const adaptive = shape.adaptive.map((design) => {
    const looks = replayLooks(
      cells.map((cell) => cell.key),
      { ran: () => design.max, inputs: (open, n) => inputs((cell) => open.has(cell.key), n) },
      { ...design, mode: "regression" },
      quick,
    );
    const spent = [...looks.trialsAt.values()].reduce((sum, n) => sum + n, 0);
    return outcome(shape, cells, looks.results, spent / shape.cells);
  });
  return { fixed: outcome(shape, cells, fixed.results, shape.trials), adaptive };
}

export interface GateSummary {
  comparisons: number;
  /** Per planted regression: the share detected. */
  detection: Map<number, number>;
  /** Share of comparisons with a false regression. */
  falseRegressionRate: number;
  /** Candidate trials per cell, on average. */
  candidateTrials: number;
}

/** Runs `comparisons` seeded comparisons and summarizes each design. */
export function simulateGate(
  shape: GateShape,
  comparisons: number,
  firstSeed = 1,
): { fixed: GateSummary; adaptive: GateSummary[] } {
  const runs = Array.from({ length: comparisons }, (_, k) => simulateComparison(shape, firstSeed + k));
  const summary = (pick: (r: (typeof runs)[number]) => DesignOutcome): GateSummary => ({
    comparisons,
    detection: new Map(
      [...shape.planted.entries()].map(([cell, size]) => [
        size,
        runs.filter((r) => pick(r).detected.get(cell)).length / comparisons,
      ]),
    ),
    falseRegressionRate: runs.filter((r) => pick(r).falseRegression).length / comparisons,
    candidateTrials: runs.reduce((sum, r) => sum + pick(r).candidateTrials, 0) / comparisons,
  });
  return {
    fixed: summary((r) => r.fixed),
    adaptive: shape.adaptive.map((_, k) => summary((r) => r.adaptive[k]!)),
  };
}
