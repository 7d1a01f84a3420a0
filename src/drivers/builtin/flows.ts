// Parallel flows (iperf3 -P, netperf's concurrent instances, flent's tcp_nup): N data sessions of
// the same traffic at once from one agent, and the per-interval series they share.

import { encodeHistogram, mergeHistograms, summarizeLatency } from "../../analysis/latency.js";
import type { FlowFigures, Lateness, Sample } from "../../domain/sample.js";
import { flowsOf } from "../../domain/traffic.js";
import { runPattern } from "./patterns.js";
import { IntervalSeries, SERIES_INTERVAL_MS, type SeriesClock, systemSeriesClock } from "./series.js";
import type { PatternContext } from "./trial.js";

/** A long trial's series keeps at most this many points: its interval grows instead. */
const MAX_SERIES_POINTS = 600;

/** The series interval for a measured window: 100 ms, longer for windows over a minute. */
export function seriesIntervalMs(durationS: number): number {
  return Math.max(SERIES_INTERVAL_MS, Math.ceil((durationS * 1000) / MAX_SERIES_POINTS));
}

/** One flow's own figures, kept beside the total. */
function figuresOf(sample: Sample, flow: number): FlowFigures {
  return {
    flow,
    messagesSent: sample.messagesSent,
    messagesReceived: sample.messagesReceived,
    bytesSent: sample.bytesSent,
    bytesReceived: sample.bytesReceived,
    messagesPerSecond: sample.messagesPerSecond,
    throughputMbps: sample.throughputMbps,
    latencyUs: sample.latencyUs,
  };
}

function worst(delays: Array<Lateness | null | undefined>): Lateness | null {
  const present = delays.filter((d): d is Lateness => d != null);
  if (present.length === 0) return null;
  return {
    p50Us: Math.max(...present.map((d) => d.p50Us)),
    p99Us: Math.max(...present.map((d) => d.p99Us)),
    maxUs: Math.max(...present.map((d) => d.maxUs)),
  };
}

const sum = (samples: readonly Sample[], field: (s: Sample) => number) =>
  samples.reduce((total, sample) => total + field(sample), 0);

/**
 * The total of parallel flows: counts, bytes and rates summed (each flow's rate over its own
 * window), latency histograms merged (never percentiles averaged), the worst flow's tool delays
 * and path latency (summaries, not histograms),
 * generator-limited when any flow was; each flow's figures kept in `flows`. Pure.
 */
export function mergeFlows(samples: readonly Sample[]): Sample {
  const first = samples[0];
  if (!first) throw new RangeError("mergeFlows needs at least one flow");
  const histogram = mergeHistograms(samples.flatMap((s) => (s.histogram ? [s.histogram] : [])));
  const sent = sum(samples, (s) => s.loss.sent);
  const received = sum(samples, (s) => s.loss.received);
  const socketDrops = samples.some((s) => s.loss.socketDrops !== undefined)
    ? sum(samples, (s) => s.loss.socketDrops ?? 0)
    : undefined;
  const receiveLags = samples.map((s) => s.receiveLag);
  const pathLatencies = samples.map((s) => s.pathLatency);
  return {
    driver: first.driver,
    direction: first.direction,
    durationS: Math.max(...samples.map((s) => s.durationS)),
    messagesSent: sum(samples, (s) => s.messagesSent),
    messagesReceived: sum(samples, (s) => s.messagesReceived),
    bytesSent: sum(samples, (s) => s.bytesSent),
    bytesReceived: sum(samples, (s) => s.bytesReceived),
    messagesPerSecond: sum(samples, (s) => s.messagesPerSecond),
    throughputMbps: sum(samples, (s) => s.throughputMbps),
    latencyUs: histogram ? summarizeLatency(histogram) : null,
    histogram: histogram && histogram.totalCount > 0 ? encodeHistogram(histogram) : null,
    loss: {
      sent,
      received,
      ratio: sent > 0 ? Math.max(0, sent - received) / sent : 0,
      reordered: sum(samples, (s) => s.loss.reordered),
      duplicates: sum(samples, (s) => s.loss.duplicates),
      ...(socketDrops !== undefined ? { socketDrops } : {}),
    },
    lateness: worst(samples.map((s) => s.lateness)),
    ...(receiveLags.some((lag) => lag !== undefined) ? { receiveLag: worst(receiveLags) } : {}),
    ...(pathLatencies.some((path) => path !== undefined) ? { pathLatency: worst(pathLatencies) } : {}),
    generatorLimited: samples.some((s) => s.generatorLimited),
    ...(first.dataPath ? { dataPath: first.dataPath } : {}),
    warnings: [
      ...new Set(
        samples.flatMap((s, i) => s.warnings.map((w) => (samples.length > 1 ? `flow ${i + 1}: ${w}` : w))),
      ),
    ],
    flows: samples.map((s, i) => figuresOf(s, i + 1)),
  };
}

/**
 * Runs the cell's flows at once, each its own data session, with one series recorded across all
 * of them; a single flow's sample is returned as it is (plus its series).
 */
export async function runFlows(
  ctx: Omit<PatternContext, "series">,
  run: (ctx: PatternContext) => Promise<Sample> = runPattern,
  clock: SeriesClock = systemSeriesClock,
): Promise<Sample> {
  const series = new IntervalSeries(clock, seriesIntervalMs(ctx.traffic.durationS));
  try {
    const flows = flowsOf(ctx.traffic);
    const samples = await Promise.all(Array.from({ length: flows }, () => run({ ...ctx, series })));
    const sample = flows === 1 ? samples[0]! : mergeFlows(samples);
    return { ...sample, series: series.points };
  } finally {
    series.stop();
  }
}
