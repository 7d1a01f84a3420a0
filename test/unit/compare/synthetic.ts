// Synthetic trials for comparison tests: seeded, with realistic run-to-run noise.

import type { Random } from "../../../src/analysis/random.js";
import type { MetricInput } from "../../../src/compare/metrics.js";

/** A standard normal draw (Box–Muller) from a seeded uniform source. */
export function gaussian(random: Random): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** `n` trial values around `centre` with relative noise `cv` (0.02 = 2 % standard deviation). */
export function trials(random: Random, n: number, centre: number, cv: number): number[] {
  return Array.from({ length: n }, () => centre * (1 + cv * gaussian(random)));
}

/**
 * A request/response matrix of `cells` cells, two metrics each (p50 latency, messages/s), with
 * 1–3 % noise per cell; in `slowCell` the candidate is `slowdown` slower (latency × (1 + slowdown),
 * messages/s ÷ (1 + slowdown)).
 */
export function syntheticMatrix(
  random: Random,
  options: { cells: number; trials: number; slowCell: number; slowdown: number },
): MetricInput[] {
  const inputs: MetricInput[] = [];
  for (let cell = 0; cell < options.cells; cell++) {
    const cellKey = `cell-${cell}`;
    const cv = 0.01 + 0.02 * random();
    const latency = 20 + 200 * random();
    const factor = cell === options.slowCell ? 1 + options.slowdown : 1;
    inputs.push({
      cellKey,
      metric: "latencyP50",
      baseline: trials(random, options.trials, latency, cv),
      candidate: trials(random, options.trials, latency * factor, cv),
    });
    inputs.push({
      cellKey,
      metric: "messagesPerSecond",
      baseline: trials(random, options.trials, 1e6 / latency, cv),
      candidate: trials(random, options.trials, 1e6 / latency / factor, cv),
    });
  }
  return inputs;
}
