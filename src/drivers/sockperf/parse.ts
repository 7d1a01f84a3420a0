// Pure parse of sockperf's client output (ping-pong, under-load, throughput) and of its
// --full-log CSV, whose per-message RTTs go into an HdrHistogram so trials merge.

import { type LatencyHistogram, newLatencyHistogram, recordNs } from "../../analysis/latency.js";

/** What sockperf prints about a latency run (ping-pong or under-load) and a throughput run. */
export interface SockperfSummary {
  /** sockperf's measured window: the run minus its own 400 ms warm-up and the last few ms. */
  valid: { runtimeS: number; sent: number; received: number } | null;
  total: { runtimeS: number; warmupMs: number; sent: number; received: number } | null;
  dropped: number;
  duplicated: number;
  outOfOrder: number;
  /** Averages and percentiles as sockperf prints them, microseconds (full RTT with --full-rtt). */
  avgUs: number | null;
  stddevUs: number | null;
  percentilesUs: Record<string, number>;
  /** Throughput mode: messages sent (the client cannot see what arrived). */
  throughput: { sent: number; seconds: number; messageRate: number; mbps: number } | null;
  /** ERROR lines and the "no messages" verdicts: the run did not measure. */
  errors: string[];
}

// sockperf colours some lines even when not on a terminal.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");
const TOTAL =
  /\[Total Run\] RunTime=([\d.]+) sec; Warm up time=(\d+) msec; SentMessages=(\d+); ReceivedMessages=(\d+)/;
const VALID = /\[Valid Duration\] RunTime=([\d.]+) sec; SentMessages=(\d+); ReceivedMessages=(\d+)/;
const AVG = /====> avg-(?:rtt|latency)=([\d.]+) \(std-dev=([\d.]+)\)/;
const COUNTERS = /# dropped messages = (\d+); # duplicated messages = (\d+); # out-of-order messages = (\d+)/;
const PERCENTILE = /---> (?:percentile ([\d.]+)|<(MAX|MIN)> observation) = +([\d.]+)/;
const SENT_TOTAL = /Total of (\d+) messages sent in ([\d.]+) sec/;
const RATE = /Summary: Message Rate is (\d+) \[msg\/sec\]/;
const BANDWIDTH = /Summary: BandWidth is [\d.]+ MBps \(([\d.]+) Mbps\)/;
const FAILURES = [/ERROR: (.*)/, /(No messages were (?:received from the server|sent).*)/];

export function parseSockperf(text: string): SockperfSummary {
  const summary: SockperfSummary = {
    valid: null,
    total: null,
    dropped: 0,
    duplicated: 0,
    outOfOrder: 0,
    avgUs: null,
    stddevUs: null,
    percentilesUs: {},
    throughput: null,
    errors: [],
  };
  const throughput = { sent: 0, seconds: 0, messageRate: 0, mbps: 0 };
  let throughputLines = 0;
  const rules: Array<[RegExp, (m: RegExpExecArray) => void]> = [
    [
      TOTAL,
      (m) => {
        summary.total = {
          runtimeS: Number(m[1]),
          warmupMs: Number(m[2]),
          sent: Number(m[3]),
          received: Number(m[4]),
        };
      },
    ],
    [
      VALID,
      (m) => {
        summary.valid = { runtimeS: Number(m[1]), sent: Number(m[2]), received: Number(m[3]) };
      },
    ],
    [
      AVG,
      (m) => {
        summary.avgUs = Number(m[1]);
        summary.stddevUs = Number(m[2]);
      },
    ],
    [
      COUNTERS,
      (m) => {
        summary.dropped = Number(m[1]);
        summary.duplicated = Number(m[2]);
        summary.outOfOrder = Number(m[3]);
      },
    ],
    [
      PERCENTILE,
      (m) => {
        summary.percentilesUs[m[1] ?? m[2]!.toLowerCase()] = Number(m[3]);
      },
    ],
    [
      SENT_TOTAL,
      (m) => {
        throughput.sent = Number(m[1]);
        throughput.seconds = Number(m[2]);
        throughputLines++;
      },
    ],
    [
      RATE,
      (m) => {
        throughput.messageRate = Number(m[1]);
        throughputLines++;
      },
    ],
    [
      BANDWIDTH,
      (m) => {
        throughput.mbps = Number(m[1]);
        throughputLines++;
      },
    ],
  ];
  const lines = text.replace(ANSI, "").split("\n");
  lines.forEach((line, i) => {
    for (const [pattern, apply] of rules) {
      const m = pattern.exec(line);
      if (m) {
        apply(m);
        return;
      }
    }
    for (const failure of FAILURES) {
      const f = failure.exec(line);
      if (!f) continue;
      // sockperf breaks an error's errno onto the next line.
      const next = lines[i + 1]?.trim() ?? "";
      summary.errors.push(next.startsWith("(errno=") ? `${f[1]!.trim()} ${next}` : f[1]!.trim());
    }
  });
  if (throughputLines === 3) summary.throughput = throughput;
  return summary;
}

/** Per-message RTTs of a --full-log file, nanoseconds. */
export interface SockperfFullLog {
  histogram: LatencyHistogram;
  messages: number;
}

const LOG_ROW = /^(\d+), ([\d.]+), ([\d.]+), ([\d.]+)$/;

/** Reads the `packet, txTime(sec), rxTime(sec), rtt(usec)` rows; the summary around them is ignored. */
export function parseSockperfFullLog(text: string): SockperfFullLog {
  const histogram = newLatencyHistogram();
  let messages = 0;
  for (const line of text.split("\n")) {
    const row = LOG_ROW.exec(line.trim());
    if (!row) continue;
    recordNs(histogram, Number(row[4]) * 1000);
    messages++;
  }
  return { histogram, messages };
}
