// Turns the run command's flags into an explicit list of cells (a cross product), validating
// every value and naming the flag when one is wrong. Pure.

import { type Cell, cellKey } from "../domain/cell.js";
import { DIRECTIONS, type Direction, type SetupSelection } from "../domain/setup.js";
import {
  DRIVER_CHOICES,
  type DriverChoice,
  type DriverName,
  IP_VERSIONS,
  type IpVersion,
  MAX_FLOWS,
  PATTERNS,
  type Pattern,
  PROTOCOLS,
  type Protocol,
  type Rate,
  type Traffic,
} from "../domain/traffic.js";
import { InputError } from "../errors.js";

export interface TrafficFlags {
  protocol?: string;
  pattern?: string;
  size?: string;
  responseSize?: string;
  rate?: string;
  duration?: string;
  warmup?: string;
  driver?: string;
  setup?: string;
  direction?: string;
  /** Parallel flows per cell, e.g. `1,4`. */
  flows?: string;
  /** IP versions, e.g. `4,6`. */
  ip?: string;
}

/** Biggest message of any protocol (a UDP datagram's own limit is the driver's to enforce). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
export const MAX_DURATION_S = 3600;

function list(flag: string, value: string): string[] {
  const items = value.split(",").map((item) => item.trim());
  if (items.some((item) => item === ""))
    throw new InputError(`--${flag} '${value}': empty item in the comma-separated list`);
  return [...new Set(items)];
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T[] {
  return list(flag, value).map((item) => {
    if (!(allowed as readonly string[]).includes(item)) {
      throw new InputError(`--${flag}: '${item}' is not one of ${allowed.join(", ")}`);
    }
    return item as T;
  });
}

export function parseSizes(flag: string, value: string): number[] {
  return list(flag, value).map((item) => {
    const bytes = parseByteSize(item);
    if (bytes === null || bytes < 1 || bytes > MAX_MESSAGE_BYTES) {
      throw new InputError(
        `--${flag}: '${item}' is not a message size in bytes between 1 and ${MAX_MESSAGE_BYTES} (e.g. 64, 1400, 16k, 1m)`,
      );
    }
    return bytes;
  });
}

/** `64`, `1400`, `16k` (× 1024) or `1m` (× 1024²), either case; null when it is not a size. */
export function parseByteSize(text: string): number | null {
  const match = /^(\d+)([kKmM])?$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * (match[2] === undefined ? 1 : /k/i.test(match[2]) ? 1024 : 1024 * 1024);
}

export function parseRates(value: string): Rate[] {
  return list("rate", value).map((item) => {
    if (item === "max" || item === "peak") return item;
    const match = /^(\d+(?:\.\d+)?)([kKmM])?$/.exec(item);
    const rate = match ? Number(match[1]) * (match[2] ? (/k/i.test(match[2]) ? 1e3 : 1e6) : 1) : Number.NaN;
    if (!(rate > 0) || rate > 10e6) {
      throw new InputError(
        `--rate: '${item}' is not a rate in messages/s (a number up to 10M, e.g. 1000 or 50k), 'max' or 'peak'`,
      );
    }
    return rate;
  });
}

/** `--flows 1,4`: whole numbers of parallel flows, 1 to MAX_FLOWS. */
function parseFlows(value: string): number[] {
  return list("flows", value).map((item) => {
    const flows = Number(item);
    if (!Number.isInteger(flows) || flows < 1 || flows > MAX_FLOWS)
      throw new InputError(
        `--flows: '${item}' is not a whole number of parallel flows between 1 and ${MAX_FLOWS}`,
      );
    return flows;
  });
}

/** `--ip 4,6`: the IP versions each cell runs over. */
function parseIpVersions(value: string): IpVersion[] {
  return list("ip", value).map((item) => {
    const version = Number(item);
    if (!(IP_VERSIONS as readonly number[]).includes(version) || !/^\d$/.test(item))
      throw new InputError(`--ip: '${item}' is not an IP version (4 or 6; both: --ip 4,6)`);
    return version as IpVersion;
  });
}

/** A traffic's non-default flows and IP version (left out at their defaults, so keys stay as before). */
function withFlowsAndIp(traffic: Traffic, flows: number, ip: IpVersion): Traffic {
  return { ...traffic, ...(flows > 1 ? { flows } : {}), ...(ip !== 4 ? { ip } : {}) };
}

/** The axes of one protocol and pattern that flags and a matrix's traffic option both combine. */
export interface TrafficAxes {
  protocol: Protocol;
  pattern: Pattern;
  sizes: readonly number[];
  /** Response sizes; each request's own size when absent. */
  responseSizes: readonly number[] | null;
  /** The rates asked for (the pattern's defaults when null, see ratesFor). */
  rates: Rate[] | null;
  flows: readonly number[];
  ips: readonly IpVersion[];
  durationS: number;
  warmupS: number;
}

/** Every traffic of the axes (sizes × rates × flows × IP versions), each given its driver. */
export function trafficCombinations(
  axes: TrafficAxes,
  driverOf: (traffic: Traffic) => DriverName,
): Traffic[] {
  const { protocol, pattern, durationS, warmupS } = axes;
  const combinations: Traffic[] = [];
  for (const requestSize of axes.sizes)
    for (const responseSize of axes.responseSizes ?? [requestSize])
      for (const rate of ratesFor(pattern, protocol, axes.rates))
        for (const flows of new Set(axes.flows))
          for (const ip of new Set(axes.ips)) {
            const base: Traffic = {
              protocol,
              pattern,
              requestSize,
              responseSize,
              rate,
              durationS,
              warmupS,
              driver: "builtin",
            };
            const traffic = withFlowsAndIp(base, flows, ip);
            traffic.driver = driverOf(traffic);
            combinations.push(traffic);
          }
  return combinations;
}

export function parseSeconds(flag: string, value: string, minimum: number): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < minimum || seconds > MAX_DURATION_S) {
    throw new InputError(
      `--${flag}: '${value}' is not a number of seconds between ${minimum} and ${MAX_DURATION_S}`,
    );
  }
  return seconds;
}

export interface PlannedCells {
  cells: Cell[];
  /** Combinations of the cross product that cannot exist, with why. */
  skipped: Array<{ combination: string; reason: string }>;
  /** Flags that apply to some cells only, named once each. */
  warnings: string[];
}

/** A flag's name as typed: `responseSize` → `--response-size`. */
export function flagName(option: string): string {
  return `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** --duration and --warmup, validated the same way whichever cells they apply to. */
export function timingFromFlags(flags: Pick<TrafficFlags, "duration" | "warmup">): {
  durationS?: number;
  warmupS?: number;
} {
  return {
    ...(flags.duration !== undefined ? { durationS: parseSeconds("duration", flags.duration, 0.1) } : {}),
    ...(flags.warmup !== undefined ? { warmupS: parseSeconds("warmup", flags.warmup, 0) } : {}),
  };
}

// Whether an offered rate changes a pattern's traffic (the others set their own pace).
function takesRate(pattern: Pattern, protocol: Protocol): boolean {
  return ratesFor(pattern, protocol, [1]).some((rate) => rate !== "max");
}

/** Why a protocol/pattern pair is meaningless whatever the driver, or null. */
export function impossible(protocol: Protocol, pattern: Pattern): string | null {
  if (pattern === "crr" && protocol !== "tcp") return "crr (connect/request/response) exists for tcp only";
  if (pattern === "flood" && protocol !== "icmp") return "flood is a ping pattern (icmp)";
  if (protocol === "icmp" && pattern !== "rr" && pattern !== "flood")
    return "icmp does rr (paced ping) and flood only";
  return null;
}

// Closed-loop and bulk patterns set their own pace: an offered rate only applies to open loop and
// to datagram streams, which otherwise go as fast as they can.
export function ratesFor(pattern: Pattern, protocol: Protocol, rates: Rate[] | null): Rate[] {
  if (pattern === "paced") return rates ?? FLAG_DEFAULTS.rates;
  if (protocol === "udp" && (pattern === "stream" || pattern === "maerts")) return rates ?? ["max"];
  if (protocol === "icmp" && pattern === "rr") return rates ?? FLAG_DEFAULTS.rates;
  return ["max"];
}

export interface FlagDefaults {
  protocols: Protocol[];
  patterns: Pattern[];
  sizes: number[];
  rates: Rate[];
  durationS: number;
  warmupS: number;
}

export const FLAG_DEFAULTS: FlagDefaults = {
  protocols: ["tcp"],
  patterns: ["rr"],
  sizes: [64],
  rates: [1000],
  durationS: 5,
  warmupS: 1,
};

export function cellsFromFlags(
  flags: TrafficFlags,
  unsupported: (traffic: Traffic) => string | null,
  setups: SetupSelection[],
  autoDriver: (traffic: Traffic) => DriverName = () => "builtin",
): PlannedCells {
  const protocols = flags.protocol ? oneOf("protocol", flags.protocol, PROTOCOLS) : FLAG_DEFAULTS.protocols;
  const patterns = flags.pattern ? oneOf("pattern", flags.pattern, PATTERNS) : FLAG_DEFAULTS.patterns;
  const sizes = flags.size ? parseSizes("size", flags.size) : FLAG_DEFAULTS.sizes;
  const responseSizes = flags.responseSize ? parseSizes("response-size", flags.responseSize) : null;
  const rates = flags.rate ? parseRates(flags.rate) : null;
  const timing = timingFromFlags(flags);
  const durationS = timing.durationS ?? FLAG_DEFAULTS.durationS;
  const warmupS = timing.warmupS ?? FLAG_DEFAULTS.warmupS;
  const drivers = flags.driver
    ? oneOf("driver", flags.driver, DRIVER_CHOICES)
    : (["builtin"] as DriverChoice[]);
  const flowCounts = flags.flows ? parseFlows(flags.flows) : [1];
  const ipVersions = flags.ip ? parseIpVersions(flags.ip) : ([4] as IpVersion[]);

  const cells: Cell[] = [];
  const skipped: PlannedCells["skipped"] = [];
  for (const setup of setups) {
    for (const driver of drivers) {
      for (const protocol of protocols) {
        for (const pattern of patterns) {
          const combination = `${driver} ${protocol} ${pattern}`;
          const reason = impossible(protocol, pattern);
          if (reason) {
            skipped.push({ combination, reason });
            continue;
          }
          const axes = {
            ...{ protocol, pattern, sizes, responseSizes, rates, durationS, warmupS },
            ...{ flows: flowCounts, ips: ipVersions },
          };
          for (const traffic of trafficCombinations(axes, (t) =>
            driver === "auto" ? autoDriver(t) : driver,
          )) {
            const why = unsupported(traffic);
            if (!why) {
              cells.push({ key: cellKey(setup, traffic), setup, traffic });
              continue;
            }
            const { requestSize, responseSize, rate, flows = 1, ip = 4 } = traffic;
            skipped.push({
              combination: `${combination} ${requestSize}/${responseSize} rate=${rate}${flows > 1 ? ` flows=${flows}` : ""}${ip !== 4 ? ` ip=${ip}` : ""}`,
              reason: why,
            });
          }
        }
      }
    }
  }
  const warnings: string[] = [];
  if (rates?.some((rate) => rate !== "max")) {
    const pairs = protocols.flatMap((protocol) =>
      patterns.filter((pattern) => !impossible(protocol, pattern)).map((pattern) => ({ protocol, pattern })),
    );
    const paceless = pairs.filter((pair) => !takesRate(pair.pattern, pair.protocol));
    const names = paceless.map((pair) => `${pair.protocol} ${pair.pattern}`).join(", ");
    if (paceless.length === pairs.length)
      throw new InputError(
        `--rate: ${names} sets its own pace, so an offered rate does not apply (it does to paced traffic, udp streams and icmp rr; use --pattern paced for a fixed rate)`,
      );
    if (paceless.length > 0) warnings.push(`--rate does not apply to ${names} (they set their own pace)`);
  }
  if (cells.length === 0) {
    const reasons = [...new Set(skipped.map((item) => `${item.combination}: ${item.reason}`))].slice(0, 5);
    throw new InputError(`the flags give no runnable cell — ${reasons.join("; ")}`);
  }
  return { cells: dedupe(cells), skipped, warnings };
}

function dedupe(cells: Cell[]): Cell[] {
  return [...new Map(cells.map((cell) => [cell.key, cell])).values()];
}

/** The setups named by --setup (validated by the caller against known names) and --direction. */
export function setupsFromFlags(names: string[], direction: string | undefined): SetupSelection[] {
  const directions = direction ? oneOf("direction", direction, DIRECTIONS) : (["one-way"] as Direction[]);
  return names.flatMap((network) =>
    directions.map((dir) => ({
      network,
      direction: dir,
      cpu: "none",
      guest: "default",
      hypervisor: "default",
    })),
  );
}
