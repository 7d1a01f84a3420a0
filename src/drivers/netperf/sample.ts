// Parsed netperf omni output → the common Sample. netperf's latency percentiles come without a
// histogram (and without p99.9), so they stay in `tool`, beside its own CPU and service demand.

import { lossOf, type Sample } from "../../domain/sample.js";
import type { Traffic } from "../../domain/traffic.js";
import { RunError } from "../../errors.js";
import { blankSample } from "../tools.js";
import type { NetperfOutput } from "./parse.js";

/** A selector's number; netperf's -1 means "not measured". */
function measured(values: Record<string, string>, key: string): number | null {
  const raw = values[key];
  if (raw === undefined || raw.trim() === "") return null;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new RunError(`netperf: ${key} is "${raw}", expected a number`);
  return value < 0 ? null : value;
}

export function netperfSample(output: NetperfOutput, traffic: Traffic, durationS: number): Sample {
  const { values } = output;
  const seconds = measured(values, "ELAPSED_TIME") ?? durationS;
  const throughput = measured(values, "THROUGHPUT");
  if (throughput === null)
    throw new RunError("netperf: no THROUGHPUT in its output: expected the THROUGHPUT selector");
  const units = values["THROUGHPUT_UNITS"];
  const transactional = traffic.pattern === "rr" || traffic.pattern === "crr";
  const expectedUnits = transactional ? "Trans/s" : "10^6bits/s";
  if (units !== undefined && units !== expectedUnits) {
    throw new RunError(`netperf: THROUGHPUT_UNITS is "${units}", expected "${expectedUnits}"`);
  }
  const base = {
    ...blankSample("netperf"),
    durationS: seconds,
    warnings: [...output.warnings],
    tool: toolFigures(values),
  };
  return transactional
    ? rrSample(base, values, traffic, seconds)
    : streamSample(base, values, traffic, seconds, throughput);
}

function rrSample(base: Sample, values: Record<string, string>, traffic: Traffic, seconds: number): Sample {
  const rate = measured(values, "TRANSACTION_RATE") ?? measured(values, "THROUGHPUT")!;
  const transactions = Math.round(rate * seconds);
  const request = measured(values, "REQUEST_SIZE") ?? traffic.requestSize;
  const response = measured(values, "RESPONSE_SIZE") ?? traffic.responseSize;
  return {
    ...base,
    messagesSent: transactions,
    messagesReceived: transactions,
    bytesSent: transactions * request,
    bytesReceived: transactions * response,
    messagesPerSecond: rate,
    throughputMbps: (rate * (request + response) * 8) / 1e6,
    loss: lossOf(transactions, transactions),
    warnings: [
      ...base.warnings,
      "netperf reports latency percentiles without a histogram or p99.9: they are in tool.latencyUs, not merged",
    ],
  };
}

function streamSample(
  base: Sample,
  values: Record<string, string>,
  traffic: Traffic,
  seconds: number,
  mbps: number,
): Sample {
  const maerts = traffic.pattern === "maerts";
  const derivedBytes = Math.round((mbps * 1e6 * seconds) / 8);
  const bytesSent = measured(values, maerts ? "REMOTE_BYTES_SENT" : "LOCAL_BYTES_SENT") ?? derivedBytes;
  const bytesReceived = measured(values, maerts ? "LOCAL_BYTES_RECVD" : "REMOTE_BYTES_RECVD") ?? derivedBytes;
  // UDP: one send call is one datagram, so send and receive calls give the loss.
  const sends = measured(values, "LOCAL_SEND_CALLS");
  const receives = measured(values, "REMOTE_RECV_CALLS");
  const datagrams = traffic.protocol === "udp" && sends !== null && receives !== null;
  const messagesSent = datagrams ? sends : Math.round(bytesSent / traffic.requestSize);
  const messagesReceived = datagrams ? receives : Math.round(bytesReceived / traffic.requestSize);
  return {
    ...base,
    messagesSent,
    messagesReceived,
    bytesSent,
    bytesReceived,
    messagesPerSecond: seconds > 0 ? messagesReceived / seconds : 0,
    throughputMbps: mbps,
    // TCP delivers what it accepted; bytes in flight at the end are not lost.
    loss: datagrams ? lossOf(messagesSent, messagesReceived) : lossOf(messagesReceived, messagesReceived),
  };
}

function toolFigures(values: Record<string, string>): Record<string, unknown> {
  const latency = {
    min: measured(values, "MIN_LATENCY"),
    mean: measured(values, "MEAN_LATENCY"),
    p50: measured(values, "P50_LATENCY"),
    p90: measured(values, "P90_LATENCY"),
    p99: measured(values, "P99_LATENCY"),
    max: measured(values, "MAX_LATENCY"),
    stddev: measured(values, "STDDEV_LATENCY"),
  };
  return {
    // netperf's own CPU from /proc/stat busy ticks (about 30 % low for rr, see DESIGN.md), not our host CPU.
    localCpuPercent: measured(values, "LOCAL_CPU_UTIL"),
    remoteCpuPercent: measured(values, "REMOTE_CPU_UTIL"),
    localServiceDemand: measured(values, "LOCAL_SD"),
    remoteServiceDemand: measured(values, "REMOTE_SD"),
    serviceDemandUnits: values["SD_UNITS"] ?? null,
    latencyUs: Object.values(latency).some((v) => v !== null) ? latency : null,
  };
}
