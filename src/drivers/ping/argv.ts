// Traffic → ping command line, and which traffic ping cannot send.

import { ipOf, type Traffic } from "../../domain/traffic.js";
import { wholeSeconds } from "../tools.js";

/** Smallest payload that carries ping's timestamp (a struct timeval): below it, no RTT is printed. */
export const PING_MIN_PAYLOAD = 16;
const PING_MAX_PAYLOAD = 65_507;
/** Seconds a paced ping waits past its schedule for the last replies. */
export const PING_LINGER_S = 2;

/** Why ping cannot send this traffic, or null. */
export function pingUnsupported(traffic: Traffic): string | null {
  const what = `driver ping cannot do ${traffic.protocol}/${traffic.pattern}`;
  if (traffic.protocol !== "icmp") return `${what}: ping only sends protocol icmp`;
  if (traffic.pattern !== "rr" && traffic.pattern !== "flood") {
    return `${what}: ping does patterns rr (paced, -i from rate) and flood (-f)`;
  }
  if (traffic.responseSize !== traffic.requestSize) {
    return `${what}: an echo reply is as big as its request (request ${traffic.requestSize}, response ${traffic.responseSize})`;
  }
  if (traffic.requestSize < PING_MIN_PAYLOAD || traffic.requestSize > PING_MAX_PAYLOAD) {
    return `${what}: size ${traffic.requestSize} is outside ${PING_MIN_PAYLOAD}..${PING_MAX_PAYLOAD} bytes (below ${PING_MIN_PAYLOAD} ping prints no RTT)`;
  }
  if (traffic.pattern === "flood" && traffic.rate !== "max") {
    return `${what}: a flood has no rate (got ${traffic.rate}); use rate max, or pattern rr for paced pings`;
  }
  return null;
}

/**
 * flood: `-f -q` (flood prints no per-reply lines anyway; -q saves its dots).
 * rr at rate max: `-A`, adaptive — one probe outstanding, the next sent on each reply (closed loop).
 * rr at a rate: `-i 1/rate` with `-c rate×duration`, and a deadline a little longer for late replies.
 */
export function pingArgv(traffic: Traffic, address: string, durationS: number): string[] {
  const seconds = wholeSeconds(durationS);
  const base = ["ping", ...(ipOf(traffic) === 6 ? ["-6"] : []), "-n", "-s", String(traffic.requestSize)];
  if (traffic.pattern === "flood") return [...base, "-f", "-q", "-w", String(seconds), address];
  if (traffic.rate === "max") return [...base, "-A", "-w", String(seconds), address];
  if (traffic.rate === "peak")
    throw new RangeError("ping: rate peak must be resolved to a number before a trial");
  const count = Math.max(1, Math.round(traffic.rate * durationS));
  const interval = (1 / traffic.rate).toFixed(6);
  return [...base, "-i", interval, "-c", String(count), "-w", String(seconds + PING_LINGER_S), address];
}
