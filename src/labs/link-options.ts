// Per-link options of the lab — MTU and tc shaping — and the pure tc/ip argv that apply them.

import { InputError } from "../errors.js";

/** Emulated link conditions, applied on the egress of both ends (so delay adds twice to an RTT). */
export interface LinkShaping {
  /** One-way delay added by netem, ms. */
  delayMs?: number;
  /** netem jitter around delayMs, ms. */
  jitterMs?: number;
  /** netem random loss, percent of packets. */
  lossPercent?: number;
  /** Rate limit by a token bucket (tbf), Mbit/s (10^6 bit/s). */
  rateMbit?: number;
}

export interface LinkOptions {
  mtu?: number;
  /** New shaping replacing the current one; null removes it, undefined leaves it as it is. */
  shaping?: LinkShaping | null;
  /** Which way the shaping applies: `both` (default) or `FROM-to-TO`, naming the link's two nodes. */
  direction?: string;
}

/**
 * Which ends of a link (a, b) shape their egress for a direction: a's egress carries a → b, so
 * `both` shapes the two ends and `a-to-b` only a.
 */
export function shapedEnds(nodes: readonly [string, string], direction = "both"): [boolean, boolean] {
  const [a, b] = nodes;
  if (direction === "both") return [true, true];
  if (direction === `${a}-to-${b}`) return [true, false];
  if (direction === `${b}-to-${a}`) return [false, true];
  throw new InputError(
    `--direction: '${direction}' is not one of both, ${a}-to-${b}, ${b}-to-${a} (the link's two ends)`,
  );
}

/** Which way a link is shaped, read from the root qdisc kinds of its two ends (a, b). */
export function shapedDirection(nodes: readonly [string, string], kinds: readonly string[]): string {
  const [a, b] = kinds.map((kind) => kind === "tbf" || kind === "netem");
  if (a && b) return "both ways";
  if (a) return `${nodes[0]}→${nodes[1]}`;
  if (b) return `${nodes[1]}→${nodes[0]}`;
  return "none";
}

function check(ok: boolean, field: string, value: unknown, expected: string): void {
  if (!ok) throw new InputError(`link option ${field}: expected ${expected}, got ${JSON.stringify(value)}`);
}

export function validateLinkOptions(options: LinkOptions): void {
  const { mtu, shaping } = options;
  if (options.direction !== undefined && !shaping)
    throw new InputError(
      "--direction: it says which way shaping applies; give --rate-mbit, --delay-ms or --loss-percent with it",
    );
  if (mtu !== undefined)
    check(Number.isInteger(mtu) && mtu >= 68 && mtu <= 65535, "mtu", mtu, "an integer 68–65535");
  if (!shaping) return;
  const { delayMs, jitterMs, lossPercent, rateMbit } = shaping;
  const nonNegative = (v: number | undefined) => v === undefined || (Number.isFinite(v) && v >= 0);
  check(nonNegative(delayMs), "delayMs", delayMs, "a number of milliseconds ≥ 0");
  check(nonNegative(jitterMs), "jitterMs", jitterMs, "a number of milliseconds ≥ 0");
  check(jitterMs === undefined || delayMs !== undefined, "jitterMs", jitterMs, "delayMs to be set too");
  check(
    nonNegative(lossPercent) && (lossPercent ?? 0) <= 100,
    "lossPercent",
    lossPercent,
    "a percentage 0–100",
  );
  check(
    rateMbit === undefined || (Number.isFinite(rateMbit) && rateMbit > 0),
    "rateMbit",
    rateMbit,
    "Mbit/s > 0",
  );
}

/** True when the shaping needs netem (delay or loss) rather than only a token bucket. */
export function needsNetem(shaping: LinkShaping): boolean {
  return shaping.delayMs !== undefined || shaping.lossPercent !== undefined;
}

/**
 * tc argv that install the shaping on one interface whose root qdisc was just removed: netem at the
 * root for delay/loss, a tbf for the rate (under netem when both are asked for).
 */
export function shapingCommands(ifname: string, shaping: LinkShaping): string[][] {
  const commands: string[][] = [];
  let tbfParent = ["root", "handle", "1:"];
  if (needsNetem(shaping)) {
    const netem = ["tc", "qdisc", "add", "dev", ifname, "root", "handle", "1:", "netem"];
    if (shaping.delayMs !== undefined) {
      netem.push("delay", `${shaping.delayMs}ms`);
      if (shaping.jitterMs !== undefined) netem.push(`${shaping.jitterMs}ms`);
    }
    if (shaping.lossPercent !== undefined) netem.push("loss", `${shaping.lossPercent}%`);
    // netem's default queue of 1000 packets drops under a stream long before the rate limit would.
    netem.push("limit", "100000");
    commands.push(netem);
    tbfParent = ["parent", "1:1", "handle", "10:"];
  }
  if (shaping.rateMbit !== undefined) {
    const kbit = Math.max(1, Math.round(shaping.rateMbit * 1000));
    // Burst: 10 ms of the rate, at least 16 KiB (a full-sized frame plus room at low rates).
    const burst = Math.max(16 * 1024, Math.ceil((kbit * 1000) / 8 / 100));
    const tbf = ["tbf", "rate", `${kbit}kbit`, "burst", String(burst), "latency", "100ms"];
    commands.push(["tc", "qdisc", "add", "dev", ifname, ...tbfParent, ...tbf]);
  }
  return commands;
}
