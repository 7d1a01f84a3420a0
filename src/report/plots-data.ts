// The rows each report plot draws, read from a run (and a comparison). Pure: no rendering here.

import type { CpuSummary } from "../analysis/cpu.js";
import { mergeCpuSummaries } from "../analysis/cpu.js";
import { latencyCdf, mergeHistograms } from "../analysis/latency.js";
import { median } from "../analysis/statistics.js";
import { samplesOf } from "../analysis/summary.js";
import { describeCell, describeSetup, describeTraffic } from "../compare/describe.js";
import { METRICS } from "../compare/metrics.js";
import type { RunComparison } from "../compare/runs.js";
import type { Trial } from "../domain/cell.js";
import type { SeriesPoint } from "../domain/sample.js";
import { isTransactional } from "../domain/traffic.js";
import { seriesIntervalMs } from "../drivers/builtin/flows.js";
import { CPU_CATEGORIES } from "../monitors/cpu-report.js";
import type { CellView, RunView } from "./run-view.js";

/**
 * A unique, short label per cell: the traffic alone when every cell shares one setup, setup and
 * traffic otherwise, and the measured window when that is all that tells two cells apart.
 */
export function cellLabels(cells: readonly CellView[]): Map<string, string> {
  const oneSetup = new Set(cells.map((c) => describeSetup(c.setup))).size <= 1;
  const base = (c: CellView) => (oneSetup ? describeTraffic(c.traffic) : describeCell(c));
  const seen = new Map<string, number>();
  for (const c of cells) seen.set(base(c), (seen.get(base(c)) ?? 0) + 1);
  return new Map(
    cells.map((c) => {
      const label = base(c);
      return [
        c.key,
        seen.get(label)! > 1 ? `${label} (${c.traffic.durationS}s+${c.traffic.warmupS}s)` : label,
      ];
    }),
  );
}

export const PERCENTILES = [
  ["p50", "p50"],
  ["p90", "p90"],
  ["p99", "p99"],
  ["p999", "p99.9"],
  ["max", "max"],
] as const;

export interface PercentileRow {
  cell: string;
  percentile: string;
  us: number;
  /** `baseline` or `candidate` when a comparison overlays both runs. */
  run?: string;
}

/**
 * Which run rows come from, and the labels of the cells to draw: a baseline is drawn under the
 * candidate's labels, for the cells both runs have.
 */
export interface Side {
  run: "baseline" | "candidate";
  labels: Map<string, string>;
}

/** Latency percentiles of each cell with latency, from its merged histogram. */
export function percentileRows(view: RunView, side?: Side): PercentileRow[] {
  const labels = side?.labels ?? cellLabels(view.cells);
  return view.cells.flatMap((cell) => {
    const latency = cell.summary.latencyUs;
    if (!latency || !labels.has(cell.key)) return [];
    return PERCENTILES.map(([field, percentile]) => ({
      cell: labels.get(cell.key)!,
      percentile,
      us: latency[field],
      ...(side ? { run: side.run } : {}),
    }));
  });
}

export interface CdfRow {
  cell: string;
  us: number;
  /** Cumulative fraction of messages at or below `us`. */
  fraction: number;
  /** −log10(1 − fraction): 1 is p90, 2 is p99, 3 is p99.9, so the tail gets room. */
  nines: number;
  /** `baseline` or `candidate` when a comparison overlays both runs. */
  run?: string;
}

/** Points of each cell's latency CDF, from the histograms of its completed trials (forward direction). */
export function cdfRows(view: RunView, points = 200, side?: Side): CdfRow[] {
  const labels = side?.labels ?? cellLabels(view.cells);
  return view.cells.flatMap((cell) => {
    if (!labels.has(cell.key)) return [];
    const histograms = samplesOf(cell.trials).flatMap((s) => (s.histogram ? [s.histogram] : []));
    const merged = mergeHistograms(histograms);
    if (!merged) return [];
    return latencyCdf(merged, points).map(([us, fraction]) => ({
      cell: labels.get(cell.key)!,
      us,
      fraction,
      nines: Math.log10(1 / Math.max(1e-12, 1 - fraction)),
      ...(side ? { run: side.run } : {}),
    }));
  });
}

export interface LoadRow {
  /** The traffic without its rate: one curve. */
  series: string;
  rate: number;
  percentile: "p50" | "p99";
  us: number;
}

export interface PeakMark {
  series: string;
  rate: number;
}

/** The peak throughput a later issue records in a cell's summary, when there. */
function peakOf(cell: CellView): number | null {
  const peak = (cell.summary as { peak?: { messagesPerSecond?: unknown } | null }).peak;
  return typeof peak?.messagesPerSecond === "number" ? peak.messagesPerSecond : null;
}

function seriesName(cell: CellView, oneSetup: boolean): string {
  const { traffic } = cell;
  const name = `${traffic.protocol} ${traffic.pattern} ${traffic.requestSize}/${traffic.responseSize}`;
  return oneSetup ? name : `${describeSetup(cell.setup)}: ${name}`;
}

/**
 * Latency against offered load: cells that differ only in their paced rate make one curve (two or
 * more rates needed); the peak, when a cell of the series recorded one, is marked.
 */
export function loadRows(view: RunView): { rows: LoadRow[]; peaks: PeakMark[] } {
  const oneSetup = new Set(view.cells.map((c) => describeSetup(c.setup))).size <= 1;
  const series = new Map<string, CellView[]>();
  for (const cell of view.cells) {
    const { traffic } = cell;
    if (typeof traffic.rate !== "number" && traffic.rate !== "peak") continue;
    // Everything but the rate: the series a cell belongs to.
    const id = JSON.stringify([cell.setup, { ...traffic, rate: null }]);
    series.set(id, [...(series.get(id) ?? []), cell]);
  }
  const rows: LoadRow[] = [];
  const peaks: PeakMark[] = [];
  for (const cells of series.values()) {
    const name = seriesName(cells[0]!, oneSetup);
    const paced = cells.filter((c) => typeof c.traffic.rate === "number" && c.summary.latencyUs);
    for (const cell of cells) {
      const peak = peakOf(cell);
      if (peak !== null) peaks.push({ series: name, rate: peak });
      rows.push(...curveRows(cell, name));
    }
    if (paced.length < 2) continue;
    for (const cell of paced.sort((a, b) => (a.traffic.rate as number) - (b.traffic.rate as number))) {
      const latency = cell.summary.latencyUs!;
      const rate = cell.traffic.rate as number;
      rows.push({ series: name, rate, percentile: "p50", us: latency.p50 });
      rows.push({ series: name, rate, percentile: "p99", us: latency.p99 });
    }
  }
  const drawn = new Set(rows.map((r) => r.series));
  return { rows, peaks: peaks.filter((p) => drawn.has(p.series)) };
}

/** A peak search's latency–load curve: each trial of the search at its offered rate. */
function curveRows(cell: CellView, series: string): LoadRow[] {
  const points = (cell.summary.peak?.curve ?? []).filter((point) => point.latencyUs !== null);
  return points
    .sort((a, b) => a.offeredMessagesPerSecond - b.offeredMessagesPerSecond)
    .flatMap((point) =>
      (["p50", "p99"] as const).map((percentile) => ({
        series,
        rate: point.offeredMessagesPerSecond,
        percentile,
        us: point.latencyUs![percentile],
      })),
    );
}

/** The CPU summary a later issue stores on each trial, when it has the expected shape. */
function trialCpu(trial: Trial): CpuSummary | null {
  const cpu = (trial as Trial & { cpu?: unknown }).cpu as Partial<CpuSummary> | null | undefined;
  const valid =
    cpu && typeof cpu.hostSeconds === "number" && typeof cpu.wallSeconds === "number" && cpu.byCategory;
  return valid ? (cpu as CpuSummary) : null;
}

export interface CpuRow {
  cell: string;
  /** A /proc/stat category (user, system, softirq, ...) or an attributed process (qemu, vhost, ...). */
  part: string;
  /** CPUs kept busy: CPU-seconds per wall-second. */
  cpus: number;
}

export interface CpuData {
  byCategory: CpuRow[];
  byProcess: CpuRow[];
  /**
   * One row per cell: the merged CPU summary, for the table beside the plots, and the per-trial
   * medians of host and generator CPU-seconds (the figures `compare` judges).
   */
  cells: Array<{
    cell: string;
    summary: CpuSummary;
    perTrial: { hostSeconds: number; generatorSeconds: number };
  }>;
}

/** CPU per cell from the trials that carry it (merged: seconds summed, rates from the sums); null when none do. */
export function cpuData(view: RunView): CpuData | null {
  const labels = cellLabels(view.cells);
  const data: CpuData = { byCategory: [], byProcess: [], cells: [] };
  for (const cell of view.cells) {
    const summaries = cell.trials.filter((t) => t.status === "completed").flatMap((t) => trialCpu(t) ?? []);
    if (summaries.length === 0) continue;
    const merged = mergeCpuSummaries(summaries);
    const label = labels.get(cell.key)!;
    const perWall = (seconds: number) => (merged.wallSeconds > 0 ? seconds / merged.wallSeconds : 0);
    data.cells.push({
      cell: label,
      summary: merged,
      perTrial: {
        hostSeconds: median(summaries.map((cpu) => cpu.hostSeconds)),
        generatorSeconds: median(summaries.map((cpu) => cpu.generatorSeconds)),
      },
    });
    for (const category of CPU_CATEGORIES)
      data.byCategory.push({ cell: label, part: category, cpus: perWall(merged.byCategory[category]) });
    for (const [name, seconds] of Object.entries(merged.processes))
      data.byProcess.push({ cell: label, part: name, cpus: perWall(seconds) });
    data.byProcess.push({ cell: label, part: "generator", cpus: perWall(merged.generatorSeconds) });
  }
  return data.cells.length > 0 ? data : null;
}

export interface DemandRow {
  cell: string;
  /** Median over trials of host CPU µs per transaction or per KB. */
  us: number;
  unit: "µs/transaction" | "µs/KB";
}

/** Service demand per cell: the median over the trials that carry it. */
export function demandRows(view: RunView): DemandRow[] {
  const labels = cellLabels(view.cells);
  return view.cells.flatMap((cell): DemandRow[] => {
    type Demand = { usPerTransaction?: number | null; usPerKB?: number | null } | null | undefined;
    const demands = cell.trials
      .filter((t) => t.status === "completed")
      .map((t) => (t as Trial & { serviceDemand?: Demand }).serviceDemand);
    const perTransaction = demands.flatMap((d) =>
      typeof d?.usPerTransaction === "number" ? [d.usPerTransaction] : [],
    );
    const perKB = demands.flatMap((d) => (typeof d?.usPerKB === "number" ? [d.usPerKB] : []));
    const cellLabel = labels.get(cell.key)!;
    if (perTransaction.length > 0)
      return [{ cell: cellLabel, us: median(perTransaction), unit: "µs/transaction" }];
    if (perKB.length > 0) return [{ cell: cellLabel, us: median(perKB), unit: "µs/KB" }];
    return [];
  });
}

export interface DeltaRow {
  cell: string;
  metric: string;
  /** Relative change of medians and its interval, in percent. */
  change: number;
  low: number;
  high: number;
  verdict: string;
}

/** Relative changes with their intervals, for every metric of every compared cell (absolute metrics left out). */
export function deltaRows(comparison: RunComparison): DeltaRow[] {
  const oneSetup = new Set(comparison.cells.map((c) => c.group)).size <= 1;
  return comparison.cells.flatMap((cell) =>
    cell.metrics
      .filter((m) => m.change === "relative" && [m.estimate, m.low, m.high].every(Number.isFinite))
      .map((m) => ({
        cell: oneSetup ? cell.name : `${cell.group}: ${cell.name}`,
        metric: METRICS[m.metric].label,
        change: m.estimate * 100,
        low: m.low * 100,
        high: m.high * 100,
        verdict: m.verdict,
      })),
  );
}

export interface SeriesRow {
  cell: string;
  /** Which small plot: the rate (delivered; sent for a UDP stream), latency, or host CPU. */
  panel: string;
  /** The line within it (msg/s or Mbit/s, p50 or p99, host or generator). */
  line: string;
  /** Seconds from the start of the measured window. */
  tS: number;
  value: number;
}

/** The trial a cell's time series is drawn from: the trusted one with the median rate (the first of two). */
function medianTrial(trials: readonly Trial[]): Trial | null {
  const drawn = trials
    .filter((t) => t.status === "completed" && (t.samples[0]?.series?.length ?? 0) > 0)
    .sort((a, b) => a.samples[0]!.messagesPerSecond - b.samples[0]!.messagesPerSecond);
  return drawn[Math.floor((drawn.length - 1) / 2)] ?? null;
}

/**
 * One trial's time series per cell (its median trial by messages/s): the delivered rate (sent, for a UDP stream)
 * (Mbit/s for streams, messages/s otherwise, all directions summed), p50 and p99 of the
 * forward direction, and host CPUs busy, per interval.
 */
export function seriesRows(view: RunView): {
  rows: SeriesRow[];
  trials: Map<string, number>;
  /** The series' intervals, ms (100, longer for windows over a minute). */
  intervalsMs: Set<number>;
} {
  const labels = cellLabels(view.cells);
  const rows: SeriesRow[] = [];
  const trials = new Map<string, number>();
  const intervalsMs = new Set<number>();
  for (const cell of view.cells) {
    const trial = medianTrial(cell.trials);
    if (!trial) continue;
    const cellName = labels.get(cell.key)!;
    trials.set(cellName, trial.trial);
    intervalsMs.add(seriesIntervalMs(cell.traffic.durationS));
    const bulk = !isTransactional(cell.traffic.pattern);
    // A UDP stream's receiver is the far agent: its series follows what left the sender.
    const sentOnly = cell.traffic.protocol === "udp" && cell.traffic.pattern === "stream";
    const rate = `${bulk ? "Mbit/s" : "msg/s"}${sentOnly ? " sent" : ""}`;
    const [forward, ...others] = trial.samples;
    forward!.series!.forEach((point, i) => {
      const value = (p: SeriesPoint | undefined) => (bulk ? p?.throughputMbps : p?.messagesPerSecond) ?? 0;
      const total = value(point) + others.reduce((sum, s) => sum + value(s.series?.[i]), 0);
      rows.push({ cell: cellName, panel: "rate", line: rate, tS: point.tS, value: total });
      for (const [line, us] of [
        ["p50 µs", point.p50Us],
        ["p99 µs", point.p99Us],
      ] as const)
        if (us !== null) rows.push({ cell: cellName, panel: "latency (µs)", line, tS: point.tS, value: us });
    });
    for (const point of trial.cpuSeries ?? []) {
      rows.push({ cell: cellName, panel: "host CPUs", line: "host", tS: point.tS, value: point.hostCpus });
      rows.push({
        cell: cellName,
        panel: "host CPUs",
        line: "generator",
        tS: point.tS,
        value: point.generatorCpus,
      });
    }
  }
  return { rows, trials, intervalsMs };
}
