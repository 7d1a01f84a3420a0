// Builds a baseline and a candidate run of a given shape (e.g. examples/seed-full.yaml's 1310 cells
// × 10 trials) from a few real trials: each cell gets a real trial of its traffic, cloned with
// small multiplicative noise per trial (histograms rescaled, not just their percentiles), and a few
// cells of the candidate carry planted changes. For bench/scale.ts and the scale test.

import type * as hdr from "hdr-histogram-js";
import {
  decodeHistogram,
  encodeHistogram,
  newLatencyHistogram,
  summarizeLatency,
} from "../src/analysis/latency.js";
import { mulberry32, type Random } from "../src/analysis/random.js";
import type { Cell, Trial } from "../src/domain/cell.js";
import type { LatencySummary, Sample } from "../src/domain/sample.js";
import { refreshCellSummary } from "../src/report/run-view.js";
import type { Store } from "../src/storage/store.js";

/** A change planted in one cell of the candidate: every trial's figure scaled by `factor`. */
export interface PlantedChange {
  cellKey: string;
  what: "latency" | "throughput" | "cpu";
  factor: number;
}

export interface ScaleStoreOptions {
  cells: readonly Cell[];
  trials: number;
  /** Real completed trials to clone; a cell takes the one whose traffic is closest to its own. */
  sources: readonly Trial[];
  /** Cells of `sources` (their traffic tells which cell each source fits). */
  sourceCells: readonly Cell[];
  metadata: Record<string, unknown>;
  /** How many cells of the candidate change (spread over the matrix; default 8). */
  planted?: number;
  /** Relative spread (σ of the log) of trial-to-trial noise (default 0.02). */
  noise?: number;
  seed?: number;
}

export interface ScaleStore {
  baseline: string;
  candidate: string;
  planted: PlantedChange[];
}

/** Patterns standing in for one another when no real trial of the pattern is at hand. */
const SIMILAR: Record<string, string> = { maerts: "stream", flood: "stream", crr: "rr", paced: "rr" };
const SIMILAR_PROTOCOL: Record<string, string> = { icmp: "udp" };

function sourceFor(cell: Cell, sources: ReadonlyMap<string, Trial>): Trial {
  const { protocol, pattern, rate } = cell.traffic;
  const rateKind = typeof rate === "number" ? "rate" : "max";
  const protocols = [protocol, SIMILAR_PROTOCOL[protocol] ?? protocol, "tcp"];
  const patterns = [pattern, SIMILAR[pattern] ?? pattern];
  for (const p of protocols)
    for (const q of patterns)
      for (const r of [rateKind, "rate", "max"]) {
        const found = sources.get(`${p}:${q}:${r}`);
        if (found) return found;
      }
  return sources.values().next().value!;
}

function gaussian(random: Random): number {
  // Box–Muller.
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** The histogram with every recorded value scaled by `factor`. */
function scaledHistogram(encoded: string, factor: number): string {
  const source = decodeHistogram(encoded) as hdr.Histogram & {
    recordedValuesIterator: {
      reset(): void;
      hasNext(): boolean;
      next(): { valueIteratedTo: number; countAtValueIteratedTo: number };
    };
  };
  const scaled = newLatencyHistogram() as hdr.Histogram & {
    recordValueWithCount(v: number, c: number): void;
  };
  const values = source.recordedValuesIterator;
  values.reset();
  while (values.hasNext()) {
    const value = values.next();
    scaled.recordValueWithCount(
      Math.max(1, Math.round(value.valueIteratedTo * factor)),
      value.countAtValueIteratedTo,
    );
  }
  return encodeHistogram(scaled);
}

/** Rescaled histograms are costly: a pool of latency factors per source histogram, drawn from. */
class HistogramPool {
  private readonly cache = new Map<string, { histogram: string; latency: LatencySummary | null }>();

  constructor(private readonly steps: readonly number[]) {}

  /** The pooled factor nearest `factor` and its histogram. */
  get(
    encoded: string,
    factor: number,
  ): { histogram: string; latency: LatencySummary | null; factor: number } {
    const step = this.steps.reduce((best, s) => (Math.abs(s - factor) < Math.abs(best - factor) ? s : best));
    const key = `${step}\u0000${encoded}`;
    let entry = this.cache.get(key);
    if (!entry) {
      const histogram = scaledHistogram(encoded, step);
      entry = { histogram, latency: summarizeLatency(decodeHistogram(histogram)) };
      this.cache.set(key, entry);
    }
    return { ...entry, factor: step };
  }
}

interface Factors {
  latency: number;
  rate: number;
  cpu: number;
}

function cloneSample(
  sample: Sample,
  direction: Sample["direction"],
  f: Factors,
  pool: HistogramPool,
): Sample {
  const clone: Sample = { ...sample, direction, loss: { ...sample.loss }, warnings: [...sample.warnings] };
  if (sample.histogram) {
    // The nearest pooled histogram; the trial's own percentiles carry its exact factor (within
    // 0.05 % of the histogram's), so trials do not tie where the pool would make them.
    const pooled = pool.get(sample.histogram, f.latency);
    clone.histogram = pooled.histogram;
    clone.latencyUs = pooled.latency && scaleRecord({ ...pooled.latency }, f.latency / pooled.factor);
  }
  clone.messagesPerSecond = sample.messagesPerSecond * f.rate;
  clone.throughputMbps = sample.throughputMbps * f.rate;
  clone.messagesReceived = Math.round(sample.messagesReceived * f.rate);
  clone.bytesReceived = Math.round(sample.bytesReceived * f.rate);
  return clone;
}

function scaleRecord<T extends Record<string, unknown>>(record: T, factor: number): T {
  return Object.fromEntries(
    Object.entries(record).map(([k, v]) => [k, typeof v === "number" ? v * factor : v]),
  ) as T;
}

function cloneTrial(source: Trial, cell: Cell, number: number, f: Factors, pool: HistogramPool): Trial {
  const forward = source.samples.find((s) => s.direction === "forward") ?? source.samples[0]!;
  const directions: Sample["direction"][] =
    cell.setup.direction === "bidirectional" ? ["forward", "reverse"] : ["forward"];
  const trial: Trial = {
    ...structuredClone(source),
    cellKey: cell.key,
    trial: number,
    samples: directions.map((d) => cloneSample(forward, d, f, pool)),
  };
  if (trial.cpu) {
    trial.cpu.hostSeconds *= f.cpu;
    trial.cpu.perWallSecond *= f.cpu;
    trial.cpu.byCategory = scaleRecord(trial.cpu.byCategory, f.cpu);
  }
  if (trial.windowCpuSeconds) trial.windowCpuSeconds *= f.cpu;
  if (trial.serviceDemand) {
    const demand = f.cpu / f.rate;
    const sd = trial.serviceDemand;
    if (sd.usPerTransaction !== undefined) sd.usPerTransaction *= demand;
    if (sd.usPerKB !== undefined) sd.usPerKB *= demand;
    if (sd.withoutGenerator) sd.withoutGenerator = scaleRecord(sd.withoutGenerator, demand);
  }
  return trial;
}

/** Cells spread evenly over the matrix, each with a change its source can show. */
function plant(cells: readonly Cell[], count: number, hasLatency: (cell: Cell) => boolean): PlantedChange[] {
  const kinds: Array<Omit<PlantedChange, "cellKey">> = [
    { what: "latency", factor: 1.3 },
    { what: "throughput", factor: 0.8 },
    { what: "latency", factor: 0.75 },
    { what: "cpu", factor: 1.3 },
  ];
  const planted: PlantedChange[] = [];
  for (let i = 0; i < count; i++) {
    const kind = kinds[i % kinds.length]!;
    let index = Math.floor(((i + 0.5) * cells.length) / count);
    while (kind.what === "latency" && index < cells.length - 1 && !hasLatency(cells[index]!)) index++;
    planted.push({ cellKey: cells[index]!.key, ...kind });
  }
  return planted;
}

/** Writes the two runs into `store`; returns their ids and what was planted. */
export function buildScaleStore(store: Store, options: ScaleStoreOptions): ScaleStore {
  const noise = options.noise ?? 0.02;
  const random = mulberry32(options.seed ?? 1);
  const byTraffic = new Map<string, Trial>();
  options.sources.forEach((trial) => {
    const cell = options.sourceCells.find((c) => c.key === trial.cellKey);
    if (!cell || trial.status !== "completed" || trial.samples.length === 0) return;
    const rate = typeof cell.traffic.rate === "number" ? "rate" : "max";
    const key = `${cell.traffic.protocol}:${cell.traffic.pattern}:${rate}`;
    if (!byTraffic.has(key)) byTraffic.set(key, trial);
  });
  if (byTraffic.size === 0) throw new Error("scale store: no completed source trial with samples");
  const assigned = new Map(options.cells.map((cell) => [cell.key, sourceFor(cell, byTraffic)]));
  const planted = plant(options.cells, options.planted ?? 8, (cell) =>
    assigned.get(cell.key)!.samples.some((s) => s.histogram),
  );
  // Latency factors within ±4σ of noise, and the planted ones.
  const steps = [...Array.from({ length: 33 }, (_, i) => Math.exp(((i - 16) / 4) * noise))];
  for (const p of planted)
    if (p.what === "latency") steps.push(...steps.slice(0, 33).map((s) => s * p.factor));
  const pool = new HistogramPool(steps);
  const now = Date.now();
  const ids = ["baseline", "candidate"].map((label, side) => {
    const id = `scale-${label}-${(options.seed ?? 1).toString(16)}`;
    store.createRun(
      {
        id,
        createdAt: new Date(now + side * 1000).toISOString(),
        finishedAt: new Date(now + side * 1000 + 500).toISOString(),
        status: "completed",
        label,
        tester: "scale-bench",
        command: ["run", "examples/seed-full.yaml", "--label", label],
        trials: options.trials,
        metadata: options.metadata,
      },
      options.cells,
    );
    for (const cell of options.cells) {
      const change = side === 1 ? planted.find((p) => p.cellKey === cell.key) : undefined;
      for (let t = 1; t <= options.trials; t++) {
        const f: Factors = {
          latency: Math.exp(noise * gaussian(random)) * (change?.what === "latency" ? change.factor : 1),
          rate: Math.exp(noise * gaussian(random)) * (change?.what === "throughput" ? change.factor : 1),
          cpu: Math.exp(noise * gaussian(random)) * (change?.what === "cpu" ? change.factor : 1),
        };
        store.recordTrial(id, cloneTrial(assigned.get(cell.key)!, cell, t, f, pool));
      }
      // The runner summarizes a cell after each of its trials; once after the last is the same.
      refreshCellSummary(store, id, cell);
    }
    return id;
  });
  return { baseline: ids[0]!, candidate: ids[1]!, planted };
}

/** One more trial in `cells` of a run, recorded as the runner records it (the cell's summary kept). */
export function addTrials(store: Store, runId: string, cells: readonly Cell[], seed = 2): void {
  const run = store.getRun(runId, { cells: cells.map((cell) => cell.key) });
  const random = mulberry32(seed);
  const pool = new HistogramPool([1]);
  for (const cell of cells) {
    const trials = run.results.filter((t) => t.cellKey === cell.key);
    const last = trials[trials.length - 1]!;
    const f = { latency: 1, rate: Math.exp(0.02 * gaussian(random)), cpu: Math.exp(0.02 * gaussian(random)) };
    store.recordTrial(runId, cloneTrial(last, cell, trials.length + 1, f, pool));
    refreshCellSummary(store, runId, cell);
  }
}
