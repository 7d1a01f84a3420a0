// Traffic → netperf omni command lines, and which traffic netperf cannot send.

import type { Traffic } from "../../domain/traffic.js";
import { wholeSeconds } from "../tools.js";

export type NetperfTest = "TCP_STREAM" | "TCP_MAERTS" | "TCP_RR" | "TCP_CRR" | "UDP_STREAM" | "UDP_RR";

/** The omni test for a traffic, or null when there is none. */
export function netperfTest(traffic: Traffic): NetperfTest | null {
  const key = `${traffic.protocol}/${traffic.pattern}`;
  const tests: Record<string, NetperfTest> = {
    "tcp/stream": "TCP_STREAM",
    "tcp/maerts": "TCP_MAERTS",
    "tcp/rr": "TCP_RR",
    "tcp/crr": "TCP_CRR",
    "udp/stream": "UDP_STREAM",
    "udp/rr": "UDP_RR",
  };
  return tests[key] ?? null;
}

export function netperfUnsupported(traffic: Traffic): string | null {
  const what = `driver netperf cannot do ${traffic.protocol}/${traffic.pattern}`;
  if (!netperfTest(traffic)) {
    return `${what}: netperf runs tcp stream/maerts/rr/crr and udp stream/rr`;
  }
  if (typeof traffic.rate === "number") {
    return `${what}: netperf cannot pace to ${traffic.rate} messages/s (needs --enable-intervals builds); use rate max`;
  }
  if (traffic.rate === "peak") return `${what}: netperf cannot pace, so it cannot search the peak rate`;
  return null;
}

/** Selectors of every test; latency ones are added for request/response. Printed as KEY=value (-k). */
const COMMON = [
  "THROUGHPUT",
  "THROUGHPUT_UNITS",
  "ELAPSED_TIME",
  "LOCAL_CPU_UTIL",
  "REMOTE_CPU_UTIL",
  "LOCAL_SD",
  "REMOTE_SD",
  "SD_UNITS",
  "LOCAL_SEND_CALLS",
  "REMOTE_RECV_CALLS",
  "LOCAL_BYTES_SENT",
  "REMOTE_BYTES_RECVD",
  "LOCAL_BYTES_RECVD",
  "REMOTE_BYTES_SENT",
];
const RR = [
  "TRANSACTION_RATE",
  "REQUEST_SIZE",
  "RESPONSE_SIZE",
  "MIN_LATENCY",
  "MEAN_LATENCY",
  "P50_LATENCY",
  "P90_LATENCY",
  "P99_LATENCY",
  "MAX_LATENCY",
  "STDDEV_LATENCY",
];

export function netserverArgv(port: number): string[] {
  // -D: stay in the foreground, so stopping our handle stops the server.
  return ["netserver", "-D", "-p", String(port)];
}

/** `-c -C` asks netperf for its own CPU figures (kept apart from ours); `-f m` fixes 10^6bits/s. */
export function netperfArgv(traffic: Traffic, address: string, port: number, durationS: number): string[] {
  const test = netperfTest(traffic);
  if (!test) throw new RangeError(`netperf: no omni test for ${traffic.protocol}/${traffic.pattern}`);
  const rr = test.endsWith("RR");
  const argv = [
    "netperf",
    "-H",
    address,
    "-p",
    String(port),
    "-t",
    test,
    "-l",
    String(wholeSeconds(durationS)),
  ];
  argv.push("-c", "-C", "-f", "m", "--", "-k", [...COMMON, ...(rr ? RR : [])].join(","));
  if (rr) argv.push("-r", `${traffic.requestSize},${traffic.responseSize}`);
  // The sender's message size: ours for STREAM, netserver's for MAERTS.
  else if (test === "TCP_MAERTS") argv.push("-M", String(traffic.requestSize));
  else argv.push("-m", String(traffic.requestSize));
  return argv;
}
