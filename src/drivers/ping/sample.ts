// A parsed ping run → the common Sample.

import { encodeHistogram, summarizeLatency } from "../../analysis/latency.js";
import { lossOf, type Sample } from "../../domain/sample.js";
import type { Traffic } from "../../domain/traffic.js";
import { RunError } from "../../errors.js";
import { blankSample } from "../tools.js";
import type { PingResult } from "./parse.js";

/** The Sample of one ping run over `durationS` seconds; fails when ping printed no statistics. */
export function pingSample(result: PingResult, traffic: Traffic, durationS: number): Sample {
  const summary = result.summary;
  if (!summary) {
    const why =
      result.errors.length > 0 ? result.errors.join("; ") : "no `packets transmitted` line in its output";
    throw new RunError(`ping: no statistics: ${why}`);
  }
  const payload = result.payloadBytes ?? traffic.requestSize;
  const sample = blankSample("ping");
  const warnings: string[] = [];
  const latencyUs = summarizeLatency(result.histogram);
  if (!latencyUs && summary.received > 0) {
    warnings.push(
      traffic.pattern === "flood"
        ? "ping -f prints no per-reply RTTs: no percentiles, only ping's min/avg/max/mdev in tool.rttUs"
        : "ping printed no RTTs: no latency recorded",
    );
  }
  if (summary.errors > 0) warnings.push(`ping reported ${summary.errors} ICMP errors`);
  const seconds = durationS > 0 ? durationS : (summary.timeMs ?? 0) / 1000;
  return {
    ...sample,
    durationS: seconds,
    messagesSent: summary.transmitted,
    messagesReceived: summary.received,
    bytesSent: summary.transmitted * payload,
    bytesReceived: summary.received * payload,
    messagesPerSecond: seconds > 0 ? summary.received / seconds : 0,
    // Each delivered echo carries the payload both ways.
    throughputMbps: seconds > 0 ? (summary.received * payload * 2 * 8) / seconds / 1e6 : 0,
    latencyUs,
    histogram: latencyUs ? encodeHistogram(result.histogram) : null,
    loss: lossOf(summary.transmitted, summary.received, result.sequence.reordered, summary.duplicates),
    warnings,
    tool: {
      rttUs: summary.rttUs,
      ipgUs: summary.ipgUs,
      ewmaUs: summary.ewmaUs,
      pipe: summary.pipe,
      timeMs: summary.timeMs,
      icmpErrors: summary.errors,
    },
  };
}
