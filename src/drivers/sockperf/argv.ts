// Traffic → sockperf command lines, and which traffic sockperf cannot send.

import type { Traffic } from "../../domain/traffic.js";
import { wholeSeconds } from "../tools.js";

/** sockperf's own header takes 14 bytes of each message. */
const SOCKPERF_MIN_SIZE = 14;
const SOCKPERF_MAX_UDP_SIZE = 65_507;

export function sockperfUnsupported(traffic: Traffic): string | null {
  const what = `driver sockperf cannot do ${traffic.protocol}/${traffic.pattern}`;
  if (traffic.protocol === "icmp") return `${what}: sockperf sends tcp or udp`;
  if (traffic.pattern !== "rr" && traffic.pattern !== "paced" && traffic.pattern !== "stream") {
    return `${what}: sockperf does rr (ping-pong), paced (under-load) and stream (throughput)`;
  }
  if (traffic.pattern !== "stream" && traffic.responseSize !== traffic.requestSize) {
    return `${what}: the sockperf server replies with the request's size (request ${traffic.requestSize}, response ${traffic.responseSize})`;
  }
  if (traffic.requestSize < SOCKPERF_MIN_SIZE) {
    return `${what}: size ${traffic.requestSize} is below sockperf's minimum of ${SOCKPERF_MIN_SIZE} bytes`;
  }
  if (traffic.protocol === "udp" && traffic.requestSize > SOCKPERF_MAX_UDP_SIZE) {
    return `${what}: a udp message of ${traffic.requestSize} bytes exceeds ${SOCKPERF_MAX_UDP_SIZE}`;
  }
  if (traffic.pattern === "paced" && traffic.rate === "max") {
    return `${what}: paced needs a rate in messages/s (got max); use rr for closed-loop latency`;
  }
  return null;
}

export function sockperfServerArgv(protocol: "tcp" | "udp", address: string, port: number): string[] {
  return ["sockperf", "server", ...(protocol === "tcp" ? ["--tcp"] : []), "-i", address, "-p", String(port)];
}

/**
 * rr: `ping-pong` (closed loop; a numeric rate caps it with --mps); paced: `under-load --mps`
 * with every message answered (--reply-every 1, so each one is timed); stream: `throughput`.
 * Latency runs always print full round trips (--full-rtt), not sockperf's default RTT/2.
 */
export function sockperfClientArgv(
  traffic: Traffic,
  address: string,
  port: number,
  durationS: number,
  fullLogPath: string | null,
): string[] {
  if (traffic.rate === "peak")
    throw new RangeError("sockperf: rate peak must be resolved to a number before a trial");
  const mode = { rr: "ping-pong", paced: "under-load", stream: "throughput" }[
    traffic.pattern as "rr" | "paced" | "stream"
  ];
  const argv = ["sockperf", mode, ...(traffic.protocol === "tcp" ? ["--tcp"] : [])];
  argv.push(
    "-i",
    address,
    "-p",
    String(port),
    "-t",
    String(wholeSeconds(durationS)),
    "-m",
    String(traffic.requestSize),
  );
  if (traffic.rate !== "max") argv.push("--mps", String(Math.round(traffic.rate)));
  if (traffic.pattern === "paced") argv.push("--reply-every", "1");
  if (traffic.pattern !== "stream") {
    argv.push("--full-rtt");
    if (fullLogPath) argv.push("--full-log", fullLogPath);
  }
  return argv;
}
