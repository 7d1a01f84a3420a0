// Vega-Lite specifications of the report's plots: pure builders from rows (plots-data.ts) to a
// spec; plots-render.ts turns a spec into SVG.

import type { TopLevelSpec } from "vega-lite";
import type { Verdict } from "../compare/verdict.js";
import type {
  CdfRow,
  CpuRow,
  DeltaRow,
  DemandRow,
  LoadRow,
  PeakMark,
  PercentileRow,
  SeriesRow,
} from "./plots-data.js";
import { PERCENTILES } from "./plots-data.js";

const WIDTH = 640;

/**
 * Shared look: a font every browser has, and room for long cell names. Rendered without a canvas,
 * Vega estimates text widths generously (0.8 em a character), so the label limits are wide.
 */
const CONFIG = {
  font: "sans-serif",
  legend: { labelLimit: 480, orient: "right" },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  axisY: { labelLimit: 480 },
} as const;

/** Cells keep the matrix's order in legends (sort: null), not the alphabet's. */
const CELL_COLOR = {
  field: "cell",
  type: "nominal",
  title: "cell",
  sort: null,
  scale: { scheme: "tableau10" },
} as const;

/** Baseline dashed, candidate solid, when the rows overlay a comparison's two runs. */
function runDash(rows: ReadonlyArray<{ run?: string }>) {
  if (!rows.some((row) => row.run !== undefined)) return {};
  return {
    strokeDash: {
      field: "run",
      type: "nominal",
      title: "run",
      sort: ["candidate", "baseline"],
      scale: {
        domain: ["candidate", "baseline"],
        range: [
          [1, 0],
          [5, 3],
        ],
      },
      legend: { symbolType: "stroke", symbolStrokeColor: "#333333", symbolStrokeWidth: 2 },
    },
  } as const;
}

/** Latency percentiles (p50 … max) of each cell, log scale: one line per cell (and run). */
export function latencyPercentilesSpec(rows: PercentileRow[]): TopLevelSpec {
  return {
    title: "Latency percentiles per cell (merged histograms)",
    width: WIDTH,
    height: 300,
    config: CONFIG,
    data: { values: rows },
    mark: { type: "line", point: true },
    encoding: {
      x: {
        field: "percentile",
        type: "ordinal",
        sort: PERCENTILES.map(([, name]) => name),
        title: "percentile",
        axis: { labelAngle: 0 },
      },
      y: { field: "us", type: "quantitative", scale: { type: "log" }, title: "latency (µs, log scale)" },
      color: CELL_COLOR,
      ...runDash(rows),
      detail: { field: "run" },
    },
  };
}

/**
 * Latency CDF with the tail spread out: the y axis is −log10(1 − fraction), labelled as the
 * percentile (0 → 0 %, 1 → 90 %, 2 → 99 %, 3 → 99.9 %, 4 → 99.99 %).
 */
export function latencyCdfSpec(rows: CdfRow[]): TopLevelSpec {
  return {
    title: "Latency CDF (merged histograms, tail stretched)",
    width: WIDTH,
    height: 320,
    config: CONFIG,
    data: { values: rows },
    mark: { type: "line", interpolate: "step-after" },
    encoding: {
      x: { field: "us", type: "quantitative", scale: { type: "log" }, title: "latency (µs, log scale)" },
      y: {
        field: "nines",
        type: "quantitative",
        scale: { domain: [0, 4] },
        title: "messages at or below (percentile)",
        axis: {
          values: [0, 1, 2, 3, 4],
          labelExpr: "format(100 * (1 - pow(10, -datum.value)), '.2~f') + '%'",
        },
      },
      color: CELL_COLOR,
      ...runDash(rows),
      detail: { field: "run" },
    },
  };
}

/** p50 and p99 against offered load, one colour per traffic, the peak marked by a dashed rule. */
export function latencyLoadSpec(rows: LoadRow[], peaks: PeakMark[]): TopLevelSpec {
  const color = {
    field: "series",
    type: "nominal",
    title: "traffic",
    sort: null,
    scale: { scheme: "tableau10" },
  } as const;
  const x = {
    field: "rate",
    type: "quantitative",
    scale: { type: "log", nice: false, padding: 12 },
    title: "offered load (messages/s, log scale)",
  } as const;
  const y = {
    field: "us",
    type: "quantitative",
    scale: { type: "log" },
    title: "latency (µs, log scale)",
  } as const;
  const strokeDash = {
    field: "percentile",
    type: "nominal",
    title: "percentile",
    sort: ["p50", "p99"],
    legend: { symbolType: "stroke", symbolStrokeColor: "#333333", symbolStrokeWidth: 2 },
  } as const;
  return {
    title: "Latency against offered load",
    width: WIDTH,
    height: 300,
    config: CONFIG,
    layer: [
      // Lines and points apart: a line with points would draw the dash legend's symbols invisible.
      { data: { values: rows }, mark: "line", encoding: { x, y, color, strokeDash } },
      { data: { values: rows }, mark: { type: "point", filled: true }, encoding: { x, y, color } },
      // The peak, when a cell recorded one (no peaks draw nothing): a dashed rule and its label.
      {
        data: { values: peaks },
        mark: { type: "rule", strokeDash: [2, 2], strokeWidth: 2 },
        encoding: { x, color },
      },
      {
        data: { values: peaks },
        mark: { type: "text", text: "peak", align: "left", dx: 3, baseline: "top", y: 0 },
        encoding: { x, color },
      },
    ],
  };
}

/**
 * Stacked horizontal bars: CPUs kept busy per cell, split by `part` (category or process), stacked
 * in `order` (default: as the rows come).
 */
export function cpuBarsSpec(
  rows: CpuRow[],
  labels: { title: string; part: string },
  order: string[] | null = null,
): TopLevelSpec {
  const { title } = labels;
  return {
    title,
    width: WIDTH,
    config: CONFIG,
    data: { values: rows },
    mark: "bar",
    encoding: {
      y: { field: "cell", type: "nominal", title: null, sort: null },
      x: {
        field: "cpus",
        type: "quantitative",
        title: "CPUs busy (CPU-seconds per wall-second)",
        stack: true,
      },
      color: {
        field: "part",
        type: "nominal",
        title: labels.part,
        sort: order,
        scale: { scheme: "tableau10" },
      },
    },
  };
}

/**
 * Small multiples of a trial's time series: a row per cell, a column per panel (rate,
 * latency, host CPU), each with its own vertical scale, so a stall or a ramp shows.
 */
export function trialSeriesSpec(rows: SeriesRow[]): TopLevelSpec {
  return {
    title: "Inside one trial: per-interval rate, latency and host CPU",
    config: { ...CONFIG, legend: { orient: "bottom" } },
    data: { values: rows },
    facet: {
      row: {
        field: "cell",
        type: "nominal",
        title: null,
        sort: null,
        header: { labelAngle: 0, labelAlign: "left", labelLimit: 300 },
      },
      column: {
        field: "panel",
        type: "nominal",
        title: null,
        sort: ["rate", "latency (µs)", "host CPUs"],
      },
    },
    spec: {
      width: 190,
      height: 70,
      mark: { type: "line", strokeWidth: 1.2 },
      encoding: {
        x: { field: "tS", type: "quantitative", title: "s into the measured window" },
        y: { field: "value", type: "quantitative", title: null },
        color: { field: "line", type: "nominal", title: null, scale: { scheme: "tableau10" } },
      },
    },
    resolve: { scale: { y: "independent" } },
  };
}

/** Service demand per cell: a bar chart per unit (per transaction, per KB), each axis titled with it. */
export function serviceDemandSpec(rows: DemandRow[]): TopLevelSpec {
  const units = [...new Set(rows.map((r) => r.unit))];
  return {
    title: "Service demand: host CPU per unit of work (median of trials)",
    config: CONFIG,
    vconcat: units.map((unit) => ({
      width: WIDTH,
      data: { values: rows.filter((r) => r.unit === unit) },
      mark: "bar",
      encoding: {
        y: { field: "cell", type: "nominal", title: null, sort: null },
        x: { field: "us", type: "quantitative", title: `host CPU ${unit}` },
      },
    })),
  };
}

export const VERDICT_COLORS: Record<Verdict, string> = {
  regression: "#d62728",
  improvement: "#2ca02c",
  inconclusive: "#ff7f0e",
  unchanged: "#7f7f7f",
};

/** A delta row as drawn: its interval cut to the panel's range, and whether it was. */
export interface DrawnDelta extends DeltaRow {
  lowShown: number;
  highShown: number;
  clipped: boolean;
  noiseLow: number;
  noiseHigh: number;
}

/**
 * Cuts intervals to a range per metric — 1.5× the largest change of medians, and at least 3× the
 * noise — so that one huge interval (a tiny sample's) does not flatten every other row.
 */
export function clipDeltas(rows: readonly DeltaRow[], noisePercent: number): DrawnDelta[] {
  const limits = new Map<string, number>();
  for (const row of rows)
    limits.set(row.metric, Math.max(limits.get(row.metric) ?? 3 * noisePercent, 1.5 * Math.abs(row.change)));
  return rows.map((row) => {
    const limit = limits.get(row.metric)!;
    return {
      ...row,
      lowShown: Math.max(row.low, -limit),
      highShown: Math.min(row.high, limit),
      clipped: row.low < -limit || row.high > limit,
      noiseLow: -noisePercent,
      noiseHigh: noisePercent,
    };
  });
}

/**
 * Baseline → candidate changes with their intervals: a panel per metric, a row per cell; the grey
 * band is ±noise, where a change does not count.
 */
export function deltasSpec(rows: DeltaRow[], noisePercent: number): TopLevelSpec {
  const y = { field: "cell", type: "nominal", title: null, sort: null } as const;
  const color = {
    field: "verdict",
    type: "nominal",
    title: "verdict",
    scale: { domain: Object.keys(VERDICT_COLORS), range: Object.values(VERDICT_COLORS) },
  } as const;
  return {
    title: "Change of medians, candidate vs baseline, with 95% intervals",
    config: CONFIG,
    data: { values: clipDeltas(rows, noisePercent) },
    facet: { field: "metric", type: "nominal", title: null, sort: [...new Set(rows.map((r) => r.metric))] },
    columns: 3,
    spec: {
      width: 200,
      height: { step: 18 },
      layer: [
        {
          mark: { type: "rect", color: "#bbbbbb", opacity: 0.35 },
          encoding: { y, x: { field: "noiseLow", type: "quantitative" }, x2: { field: "noiseHigh" } },
        },
        { mark: { type: "rule", color: "#555555" }, encoding: { x: { datum: 0, type: "quantitative" } } },
        {
          mark: { type: "rule", strokeWidth: 2 },
          encoding: {
            y,
            x: { field: "lowShown", type: "quantitative", title: "change (%)" },
            x2: { field: "highShown" },
            color,
            strokeDash: {
              field: "clipped",
              type: "nominal",
              title: "interval",
              scale: {
                domain: [false, true],
                range: [
                  [1, 0],
                  [4, 2],
                ],
              },
              legend: { labelExpr: "datum.value ? 'cut at the panel edge' : 'whole'", symbolType: "stroke" },
            },
          },
        },
        {
          mark: { type: "point", filled: true, size: 45 },
          encoding: { y, x: { field: "change", type: "quantitative" }, color },
        },
      ],
    },
    resolve: { scale: { x: "independent" } },
  };
}
