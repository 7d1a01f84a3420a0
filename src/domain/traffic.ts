// Traffic: what a trial sends. Pure data; validation lives in plan/.

export const PROTOCOLS = ["tcp", "udp", "icmp"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/**
 * rr: closed-loop request/response (netperf TCP_RR/UDP_RR); crr: connect, request, response, close
 * (TCP_CRR); stream: bulk client→server (TCP_STREAM/UDP_STREAM); maerts: bulk server→client
 * (TCP_MAERTS); paced: open loop at an offered rate; flood: ping -f.
 */
export const PATTERNS = ["rr", "crr", "stream", "maerts", "paced", "flood"] as const;
export type Pattern = (typeof PATTERNS)[number];

export const DRIVERS = ["builtin", "sockperf", "iperf3", "ping", "netperf"] as const;
export type DriverName = (typeof DRIVERS)[number];
/** What a user may ask for: a driver, or `auto` (the reference tool where the built-in engine is known to add its own tail). */
export const DRIVER_CHOICES = [...DRIVERS, "auto"] as const;
export type DriverChoice = (typeof DRIVER_CHOICES)[number];

/** IP version a cell's traffic uses; 4 unless asked (cells of version 4 keep their keys). */
export const IP_VERSIONS = [4, 6] as const;
export type IpVersion = (typeof IP_VERSIONS)[number];

/** The most parallel flows one cell may run (an agent holds at most 64 data sessions, two directions). */
export const MAX_FLOWS = 32;

/** Offered load in messages per second, `max` (as fast as the pattern goes) or `peak` (search). */
export type Rate = number | "max" | "peak";

export interface Traffic {
  protocol: Protocol;
  pattern: Pattern;
  /** Bytes of each request (client → server message). */
  requestSize: number;
  /** Bytes of each response (server → client message); equal to requestSize unless set. */
  responseSize: number;
  rate: Rate;
  /** Measured window of one trial, seconds. */
  durationS: number;
  /** Traffic before the measured window starts, seconds (not recorded). */
  warmupS: number;
  driver: DriverName;
  /** Parallel flows of this traffic at once (iperf3 -P; default 1); a rate applies to each flow. */
  flows?: number;
  /** IP version of the addresses used (default 4). */
  ip?: IpVersion;
}

/** How many flows a cell runs at once. */
export function flowsOf(traffic: Pick<Traffic, "flows">): number {
  return traffic.flows ?? 1;
}

/** The IP version a cell runs over. */
export function ipOf(traffic: Pick<Traffic, "ip">): IpVersion {
  return traffic.ip ?? 4;
}

/** Patterns whose unit of work is a transaction (service demand per transaction) rather than a KB. */
export function isTransactional(pattern: Pattern): boolean {
  return pattern !== "stream" && pattern !== "maerts";
}
