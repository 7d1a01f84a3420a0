// Traffic → iperf3 command lines, and which traffic iperf3 cannot send.

import type { Direction } from "../../domain/setup.js";
import type { Traffic } from "../../domain/traffic.js";
import { wholeSeconds } from "../tools.js";

/** From the cell: its flows as parallel streams, and a bidirectional setup as both directions at once. */
export interface Iperf3Options {
  /** `-P`: parallel streams (1 by default). */
  parallel?: number;
  /** `--bidir`: both directions at once; one Sample each. */
  bidirectional?: boolean;
}

/** The largest UDP payload over IPv4 (65535 − 20 IP − 8 UDP); iperf3 refuses a longer --length. */
export const MAX_UDP_PAYLOAD = 65507;

export function iperf3Unsupported(traffic: Traffic, direction?: Direction): string | null {
  const what = `driver iperf3 cannot do ${traffic.protocol}/${traffic.pattern}`;
  if (traffic.protocol === "icmp") return `${what}: iperf3 sends tcp or udp`;
  if (traffic.pattern !== "stream" && traffic.pattern !== "maerts") {
    return `${what}: iperf3 measures throughput only (stream, maerts); use sockperf or netperf for ${traffic.pattern}`;
  }
  if (traffic.requestSize < 1) return `${what}: size ${traffic.requestSize} must be at least 1 byte`;
  if (traffic.protocol === "udp" && traffic.requestSize > MAX_UDP_PAYLOAD)
    return `${what}: a udp datagram carries at most ${MAX_UDP_PAYLOAD} bytes, not ${traffic.requestSize}`;
  // iperf3 takes --reverse or --bidir, not both: bidirectional traffic is `stream` with --bidir.
  if (direction === "bidirectional" && traffic.pattern === "maerts")
    return `${what} bidirectional: iperf3 sends both ways with --bidir (use pattern stream)`;
  return null;
}

export function iperf3ServerArgv(port: number): string[] {
  // --forceflush: the "Server listening" line must reach us through a pipe at once.
  return ["iperf3", "--server", "--port", String(port), "--forceflush"];
}

/** `-l` is the write size (the UDP datagram); a rate in messages/s becomes `-b` bits/s; `-O` omits the warm-up. */
export function iperf3ClientArgv(
  traffic: Traffic,
  address: string,
  port: number,
  options: Iperf3Options = {},
): string[] {
  if (traffic.rate === "peak")
    throw new RangeError("iperf3: rate peak must be resolved to a number before a trial");
  const argv = ["iperf3", "--client", address, "--port", String(port), "--json"];
  argv.push("--time", String(wholeSeconds(traffic.durationS)), "--length", String(traffic.requestSize));
  if (traffic.warmupS > 0) argv.push("--omit", String(wholeSeconds(traffic.warmupS)));
  if (traffic.protocol === "udp") argv.push("--udp");
  if (traffic.pattern === "maerts") argv.push("--reverse");
  if (traffic.rate !== "max")
    argv.push("--bitrate", String(Math.round(traffic.rate * traffic.requestSize * 8)));
  // iperf3 paces udp at 1 Mbit/s unless told: `max` means unlimited.
  else if (traffic.protocol === "udp") argv.push("--bitrate", "0");
  if (options.parallel && options.parallel > 1) argv.push("--parallel", String(options.parallel));
  if (options.bidirectional) argv.push("--bidir");
  return argv;
}
