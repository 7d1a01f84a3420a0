// Parsed sockperf output → the common Sample.

import { encodeHistogram, summarizeLatency } from "../../analysis/latency.js";
import { lossOf, type Sample } from "../../domain/sample.js";
import type { Traffic } from "../../domain/traffic.js";
import { RunError } from "../../errors.js";
import { blankSample } from "../tools.js";
import type { SockperfFullLog, SockperfSummary } from "./parse.js";

function failIfErrored(summary: SockperfSummary): void {
  // sockperf exits 0 even when it could not connect or got no reply: its words are the verdict.
  if (summary.errors.length > 0) throw new RunError(`sockperf: ${summary.errors.join("; ")}`);
}

/**
 * A ping-pong or under-load run. The window is sockperf's "Valid Duration" (it drops its own
 * first 400 ms and the last messages); latency comes from the full log, one RTT per message.
 */
export function sockperfLatencySample(
  summary: SockperfSummary,
  log: SockperfFullLog,
  traffic: Traffic,
): Sample {
  failIfErrored(summary);
  const valid = summary.valid;
  if (!valid)
    throw new RunError("sockperf: no `[Valid Duration]` line in its output: expected a latency summary");
  const latencyUs = summarizeLatency(log.histogram);
  const warnings: string[] = [];
  if (log.messages !== valid.received) {
    warnings.push(
      `sockperf's full log has ${log.messages} RTTs but it reports ${valid.received} received messages`,
    );
  }
  const received = valid.received;
  const seconds = valid.runtimeS;
  return {
    ...blankSample("sockperf"),
    durationS: seconds,
    messagesSent: valid.sent,
    messagesReceived: received,
    bytesSent: valid.sent * traffic.requestSize,
    bytesReceived: received * traffic.responseSize,
    messagesPerSecond: seconds > 0 ? received / seconds : 0,
    throughputMbps:
      seconds > 0 ? (received * (traffic.requestSize + traffic.responseSize) * 8) / seconds / 1e6 : 0,
    latencyUs,
    histogram: latencyUs ? encodeHistogram(log.histogram) : null,
    loss: lossOf(valid.sent, received, summary.outOfOrder, summary.duplicated),
    warnings,
    tool: {
      avgRttUs: summary.avgUs,
      stddevRttUs: summary.stddevUs,
      percentilesUs: summary.percentilesUs,
      dropped: summary.dropped,
      totalRun: summary.total,
    },
  };
}

/** A throughput run: sockperf's client only knows what it sent, so loss is not measured. */
export function sockperfThroughputSample(summary: SockperfSummary, traffic: Traffic): Sample {
  failIfErrored(summary);
  const tp = summary.throughput;
  if (!tp)
    throw new RunError(
      "sockperf: no `Summary: Message Rate` / `BandWidth` lines: expected a throughput summary",
    );
  const warnings =
    traffic.protocol === "udp"
      ? ["sockperf throughput counts sent messages only: udp loss is not measured"]
      : [];
  return {
    ...blankSample("sockperf"),
    durationS: tp.seconds,
    messagesSent: tp.sent,
    messagesReceived: tp.sent,
    bytesSent: tp.sent * traffic.requestSize,
    bytesReceived: tp.sent * traffic.requestSize,
    messagesPerSecond: tp.messageRate,
    throughputMbps: tp.mbps,
    loss: lossOf(tp.sent, tp.sent),
    warnings,
    tool: { messageRate: tp.messageRate, mbps: tp.mbps },
  };
}
