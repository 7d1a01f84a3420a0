// Sample: the one shape every driver returns for one trial (one direction of traffic).

/** Latency percentiles in microseconds, from an HdrHistogram. */
export interface LatencySummary {
  min: number;
  p50: number;
  mean: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Only delivered messages count: ratio = (sent − received) / sent. */
export interface LossSummary {
  sent: number;
  received: number;
  ratio: number;
  reordered: number;
  duplicates: number;
  /** Datagrams dropped at a receiving socket on either end (its buffer full): the tool's, not the path's; counted in the loss above. */
  socketDrops?: number;
}

/** How late an open-loop sender was against its schedule, microseconds. */
export interface Lateness {
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

/** One flow's own figures in a cell of parallel flows (the sample's figures are their total). */
export type FlowFigures = { /** 1-based flow number. */ flow: number } & Pick<
  Sample,
  | "messagesSent"
  | "messagesReceived"
  | "bytesSent"
  | "bytesReceived"
  | "messagesPerSecond"
  | "throughputMbps"
  | "latencyUs"
>;

/** One interval of a trial's time series (flent's view): what happened in [tS − intervalS, tS). */
export interface SeriesPoint {
  /** End of the interval, seconds from the start of the measured window. */
  tS: number;
  /** Length of the interval, seconds (timers run late on a busy machine). */
  intervalS: number;
  messagesPerSecond: number;
  throughputMbps: number;
  /** Latency percentiles of the messages completed in the interval, µs (null: none completed). */
  p50Us: number | null;
  p99Us: number | null;
}

/** Four significant digits: a series point is drawn, not computed with, and every trial stores its series. */
export function compact(value: number): number {
  return Number(value.toPrecision(4));
}

/** Host CPU in one interval of a trial, from the CPU monitor's samples. */
export interface CpuSeriesPoint {
  /** End of the interval, seconds since the measured window opened. */
  tS: number;
  intervalS: number;
  /** Host busy CPU-seconds per second (CPUs busy) in the interval. */
  hostCpus: number;
  /** The traffic generator's share of it. */
  generatorCpus: number;
}

export interface Sample {
  driver: string;
  /** `forward` is client → server (or the round trip); `reverse` the server → client half of a bidirectional cell. */
  direction: "forward" | "reverse";
  /** Length of the measured window, seconds. */
  durationS: number;
  messagesSent: number;
  messagesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** Delivered messages (transactions for rr/crr) per second. */
  messagesPerSecond: number;
  /** Delivered payload bits per second / 10^6, both directions of a transaction counted. */
  throughputMbps: number;
  latencyUs: LatencySummary | null;
  /** HdrHistogram of per-message latency in nanoseconds, compressed base64; merged across trials. */
  histogram: string | null;
  loss: LossSummary;
  lateness: Lateness | null;
  /** How long answers waited to be read after they could have been (open-loop receive side), microseconds. */
  receiveLag?: Lateness | null;
  /**
   * Open loop: latency from the actual send with the receive lag taken out — the path's share, with
   * the tool's own delays removed (compare with `latencyUs` to see how far the tool moved it), µs.
   */
  pathLatency?: Lateness | null;
  /** The generator could not keep its schedule or saturated its CPU: latency would be the tool's, not the path's. */
  generatorLimited: boolean;
  /** The built-in engine's rr and paced: whether its native data path (C) or Node's carried the messages. */
  dataPath?: "native" | "node";
  warnings: string[];
  /** Figures a tool reports about itself (iperf3's CPU, netperf's service demand), kept apart from ours. */
  tool?: Record<string, unknown>;
  /** Parallel flows: each flow's own figures (the fields above are their sum, histograms merged). */
  flows?: FlowFigures[];
  /** Per-interval figures inside the measured window (built-in engine), all flows together. */
  series?: SeriesPoint[];
}

/** A loss summary from counts, with ratio 0 when nothing was sent. */
export function lossOf(sent: number, received: number, reordered = 0, duplicates = 0): LossSummary {
  const ratio = sent > 0 ? Math.max(0, sent - received) / sent : 0;
  return { sent, received, ratio, reordered, duplicates };
}
