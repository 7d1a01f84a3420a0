// Latency histograms: HdrHistogram in nanoseconds, 3 significant digits. Percentiles of merged
// trials come from the merged histogram, never from averaged percentiles.

import { createRequire } from "node:module";
import type * as Hdr from "hdr-histogram-js";
import type { LatencySummary } from "../domain/sample.js";

export type LatencyHistogram = Hdr.Histogram;

let loaded: typeof Hdr | undefined;

/**
 * hdr-histogram-js, loaded on first use: views of stored runs read stored summaries, not
 * histograms, and loading it took a tenth of a CPU-second from every command.
 */
function hdr(): typeof Hdr {
  loaded ??= createRequire(import.meta.url)("hdr-histogram-js") as typeof Hdr;
  return loaded;
}

/** A new, auto-resizing histogram for nanosecond values. */
export function newLatencyHistogram(): LatencyHistogram {
  return hdr().build({
    bitBucketSize: 64,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 2,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

/** Records one latency in nanoseconds; values below 1 ns (clock jitter) count as 1 ns. */
export function recordNs(histogram: LatencyHistogram, ns: number): void {
  histogram.recordValue(ns < 1 ? 1 : Math.round(ns));
}

const NS_PER_US = 1000;

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** min, p50, mean, p90, p99, p99.9 and max in microseconds, or null when nothing was recorded. */
export function summarizeLatency(histogram: LatencyHistogram): LatencySummary | null {
  if (histogram.totalCount === 0) return null;
  const at = (p: number) => round3(histogram.getValueAtPercentile(p) / NS_PER_US);
  return {
    min: round3(histogram.minNonZeroValue / NS_PER_US),
    p50: at(50),
    mean: round3(histogram.mean / NS_PER_US),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    // From the buckets (as percentiles are), so a decoded histogram summarizes identically.
    max: at(100),
  };
}

export function encodeHistogram(histogram: LatencyHistogram): string {
  return hdr().encodeIntoCompressedBase64(histogram);
}

export function decodeHistogram(encoded: string): LatencyHistogram {
  return hdr().decodeFromCompressedBase64(encoded, 64, false) as LatencyHistogram;
}

/** Merges encoded histograms (e.g. every trial of a cell) into one; null when there are none. */
export function mergeHistograms(encoded: readonly string[]): LatencyHistogram | null {
  if (encoded.length === 0) return null;
  const merged = newLatencyHistogram();
  for (const item of encoded) merged.add(decodeHistogram(item));
  return merged;
}

/** Points of the latency CDF (value in µs, cumulative fraction), for plots. */
export function latencyCdf(histogram: LatencyHistogram, points = 200): Array<[number, number]> {
  if (histogram.totalCount === 0) return [];
  const cdf: Array<[number, number]> = [];
  for (let i = 0; i <= points; i++) {
    // Denser towards the tail, where the interesting part of a latency CDF is.
    const fraction = 1 - 10 ** (-4 * (i / points));
    const percentile = Math.min(100, fraction * 100);
    cdf.push([round3(histogram.getValueAtPercentile(percentile) / NS_PER_US), fraction]);
  }
  return cdf;
}
