// The power of a planned comparison, stated before anything runs: for the design (trials a side,
// judged tests, α, the noise threshold) and this machine's trial-to-trial spread of each judged
// metric (from earlier runs of the same cells, or a stated assumption), the smallest change each
// judged metric can be called at, and the trials a side that would resolve the noise threshold.

import { minDetectableChange, type PowerDesign, trialsToResolve } from "../analysis/power.js";
import { median } from "../analysis/statistics.js";
import type { Cell } from "../domain/cell.js";
import { DEFAULT_THRESHOLDS, isJudged, noiseFor, type Thresholds } from "./compare.js";
import { METRICS, type MetricName, metricValues, type TrialMeasurements } from "./metrics.js";

/**
 * Trial-to-trial spread (standard deviation of ln value) assumed where the store has no earlier
 * run of the cells: 2 % for medians and rates, 5 % for p99 and CPU, as the loopback and netns-lab
 * runs of this project spread (p99 and CPU accounting are the noisier figures).
 */
export const ASSUMED_SPREAD: Partial<Record<MetricName, number>> = {
  latencyP50: 0.02,
  latencyP99: 0.05,
  messagesPerSecond: 0.02,
  throughputMbps: 0.02,
  peakMessagesPerSecond: 0.02,
  serviceDemandOutsideGenerator: 0.05,
};

/** The judged metrics a cell will measure: latency where messages have a round trip, a rate, CPU. */
export function plannedMetrics(traffic: Cell["traffic"], thresholds: Thresholds): MetricName[] {
  const measured: MetricName[] =
    traffic.rate === "peak"
      ? ["peakMessagesPerSecond"]
      : traffic.pattern === "stream" || traffic.pattern === "maerts"
        ? ["throughputMbps", "serviceDemandOutsideGenerator"]
        : ["latencyP50", "latencyP99", "messagesPerSecond", "serviceDemandOutsideGenerator"];
  const optional = (Object.keys(thresholds.judge ?? {}) as MetricName[]).filter(
    (metric) => !measured.includes(metric),
  );
  return [...measured, ...optional].filter((metric) => isJudged(metric, traffic.pattern, thresholds));
}

export interface PlanPower {
  trialsPerSide: number;
  /** Judged tests of the comparison: Σ over cells of their judged metrics. */
  judgedTests: number;
  alpha: number;
  /** Per judged metric: the smallest change (in %) called a regression with 80 % power; null when none can be. */
  minDetectableChangePercent: Partial<Record<MetricName, number | null>>;
  /** Per judged metric: the spread used (SD of ln value) and where it came from. */
  spread: Partial<Record<MetricName, { sigma: number; source: "store" | "assumed"; cells: number }>>;
  /** Per judged metric: the noise threshold (relative) and the trials a side that resolve it (null: none practical). */
  noise: Partial<Record<MetricName, number>>;
  trialsToResolve: Partial<Record<MetricName, number | null>>;
  /** Plain statements for the plan and the run's header. */
  notes: string[];
}

/** SD of the logs of positive values (null with fewer than 2). */
function logSpread(values: readonly number[]): number | null {
  const logs = values.filter((v) => v > 0).map(Math.log);
  if (logs.length < 2) return null;
  const mean = logs.reduce((a, b) => a + b, 0) / logs.length;
  return Math.sqrt(logs.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (logs.length - 1));
}

/**
 * This machine's spread of each metric over earlier runs' trials of the planned cells: per cell
 * and run the SD of ln(value), then the median over them (one odd cell does not set the design).
 */
export function observedSpread(
  runs: readonly { results: readonly TrialMeasurements[] }[],
  keys: ReadonlySet<string>,
  metrics: readonly MetricName[],
): Partial<Record<MetricName, { sigma: number; cells: number }>> {
  const spreads = new Map<MetricName, number[]>();
  for (const run of runs) {
    const byCell = new Map<string, TrialMeasurements[]>();
    for (const trial of run.results)
      if (keys.has(trial.cellKey)) byCell.set(trial.cellKey, [...(byCell.get(trial.cellKey) ?? []), trial]);
    for (const trials of byCell.values())
      for (const metric of metrics) {
        const sigma = logSpread(metricValues(metric, trials));
        if (sigma !== null) spreads.set(metric, [...(spreads.get(metric) ?? []), sigma]);
      }
  }
  return Object.fromEntries(
    [...spreads].map(([metric, values]) => [metric, { sigma: median(values), cells: values.length }]),
  );
}

function percent(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(2))}%`;
}

/** The power of comparing two runs of these cells with `trialsPerSide` trials each. */
export function planPower(
  cells: readonly Pick<Cell, "traffic">[],
  trialsPerSide: number,
  partial: Partial<Thresholds>,
  observed: Partial<Record<MetricName, { sigma: number; cells: number }>>,
): PlanPower {
  const thresholds: Thresholds = { ...DEFAULT_THRESHOLDS, ...partial, metrics: partial.metrics ?? {} };
  const perCell = cells.map((cell) => plannedMetrics(cell.traffic, thresholds));
  const judgedTests = perCell.reduce((sum, metrics) => sum + metrics.length, 0);
  const metrics = [...new Set(perCell.flat())];
  const power: PlanPower = {
    trialsPerSide,
    judgedTests,
    alpha: thresholds.alpha,
    minDetectableChangePercent: {},
    spread: {},
    noise: {},
    trialsToResolve: {},
    notes: [],
  };
  const coarse: string[] = [];
  for (const metric of metrics) {
    const seen = observed[metric];
    const sigma = seen?.sigma ?? ASSUMED_SPREAD[metric] ?? 0.05;
    const noise = noiseFor(metric, thresholds);
    const design: PowerDesign = { trialsPerSide, tests: judgedTests, alpha: thresholds.alpha, noise };
    const mdc = minDetectableChange(design, sigma);
    const resolve = trialsToResolve(design, sigma);
    power.spread[metric] = { sigma, source: seen ? "store" : "assumed", cells: seen?.cells ?? 0 };
    power.minDetectableChangePercent[metric] = Number.isFinite(mdc) ? Number((mdc * 100).toFixed(2)) : null;
    power.noise[metric] = noise;
    power.trialsToResolve[metric] = resolve;
    if (resolve === null || resolve > trialsPerSide)
      coarse.push(
        `${METRICS[metric].label} (noise threshold ${percent(noise)}, detects ${Number.isFinite(mdc) ? percent(mdc) : "nothing"}: ` +
          `${resolve === null ? "no practical trial count resolves it" : `${resolve} trials a side would`})`,
      );
  }
  const measured = metrics.filter((m) => power.spread[m]?.source === "store");
  const assumed = metrics.filter((m) => power.spread[m]?.source === "assumed");
  const spreadText = (list: MetricName[]) =>
    list.map((m) => `${METRICS[m].label} ${percent(power.spread[m]!.sigma)}`).join(", ");
  power.notes.push(
    `power: ${trialsPerSide} trials a side, ${judgedTests} judged tests, α ${thresholds.alpha} (Benjamini–Hochberg); ` +
      `smallest change called at 80 % power: ${metrics
        .map((m) => {
          const value = power.minDetectableChangePercent[m];
          return `${METRICS[m].label} ${value === null || value === undefined ? "none (1 trial a side)" : `${Number(value.toPrecision(2))}%`}`;
        })
        .join(", ")}`,
  );
  if (measured.length > 0)
    power.notes.push(
      `  trial spread measured on this machine in earlier runs of these cells: ${spreadText(measured)}`,
    );
  if (assumed.length > 0)
    power.notes.push(
      `  trial spread assumed (no earlier run of these cells in the store): ${spreadText(assumed)}`,
    );
  if (coarse.length > 0)
    power.notes.push(`  the noise threshold is below what this design can detect for ${coarse.join("; ")}`);
  return power;
}
