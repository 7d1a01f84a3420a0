// The quick matrix `run --quick` (and `run` with no matrix) measures: every builtin pattern
// once, small enough to finish in under a minute.

import { type Cell, cellKey } from "../domain/cell.js";
import type { SetupSelection } from "../domain/setup.js";
import type { Traffic } from "../domain/traffic.js";

export const QUICK_TRIALS = 2;

const QUICK_TRAFFIC: Array<Pick<Traffic, "protocol" | "pattern" | "requestSize" | "responseSize" | "rate">> =
  [
    { protocol: "tcp", pattern: "rr", requestSize: 64, responseSize: 64, rate: "max" },
    { protocol: "tcp", pattern: "crr", requestSize: 64, responseSize: 64, rate: "max" },
    { protocol: "tcp", pattern: "stream", requestSize: 16384, responseSize: 16384, rate: "max" },
    { protocol: "tcp", pattern: "maerts", requestSize: 16384, responseSize: 16384, rate: "max" },
    { protocol: "tcp", pattern: "paced", requestSize: 64, responseSize: 64, rate: 1000 },
    { protocol: "udp", pattern: "rr", requestSize: 64, responseSize: 64, rate: "max" },
    { protocol: "udp", pattern: "stream", requestSize: 1400, responseSize: 1400, rate: "max" },
    { protocol: "udp", pattern: "paced", requestSize: 64, responseSize: 64, rate: 10000 },
  ];

/** Across several setups, the cells that tell paths apart: latency both ways of transport, and bulk TCP. */
const ACROSS_SETUPS = QUICK_TRAFFIC.filter(
  (t) => t.pattern === "rr" || (t.protocol === "tcp" && t.pattern === "stream"),
);

/**
 * The quick cells for each setup; trials shrink as setups are added to stay near a minute, unless
 * --duration or --warmup set them.
 */
export function quickCells(
  setups: SetupSelection[],
  timing: { durationS?: number; warmupS?: number } = {},
): Cell[] {
  const perSetup = {
    ...(setups.length > 1 ? { durationS: 0.8, warmupS: 0.2 } : { durationS: 2, warmupS: 0.5 }),
    ...timing,
  };
  const patterns = setups.length > 1 ? ACROSS_SETUPS : QUICK_TRAFFIC;
  return setups.flatMap((setup) =>
    patterns.map((partial) => {
      const traffic: Traffic = { ...partial, ...perSetup, driver: "builtin" };
      return { key: cellKey(setup, traffic), setup, traffic };
    }),
  );
}
