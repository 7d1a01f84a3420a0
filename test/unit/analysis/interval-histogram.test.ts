import assert from "node:assert/strict";
import { test } from "node:test";
import { IntervalHistogram } from "../../../src/analysis/interval-histogram.js";
import { mulberry32 } from "../../../src/analysis/random.js";

/** The exact value at a percentile (nearest rank), as HdrHistogram reports it. */
function exact(sorted: readonly number[], rank: number): number {
  return sorted[Math.max(0, Math.ceil((rank / 100) * sorted.length) - 1)]!;
}

test("percentiles are within 1 % of the exact nearest-rank values, from 1 µs to seconds", () => {
  const random = mulberry32(7);
  const histogram = new IntervalHistogram();
  const values: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    // Log-uniform over 2 µs … 2 s, as a tail-heavy latency would spread.
    const ns = 2_000 * 10 ** (6 * random());
    values.push(ns);
    histogram.record(ns);
  }
  values.sort((a, b) => a - b);
  const ranks = [1, 50, 90, 99, 99.9];
  const read = histogram.percentiles(ranks);
  assert.equal(read.length, ranks.length);
  ranks.forEach((rank, i) => {
    const relative = Math.abs(read[i]! / exact(values, rank) - 1);
    assert.ok(
      relative < 0.01,
      `p${rank}: ${read[i]} vs ${exact(values, rank)} (${(relative * 100).toFixed(2)} %)`,
    );
  });
});

test("reset empties it: the next interval holds only its own values", () => {
  const histogram = new IntervalHistogram();
  for (let i = 0; i < 100; i++) histogram.record(5_000_000);
  histogram.reset();
  assert.equal(histogram.totalCount, 0);
  assert.deepEqual(histogram.percentiles([50]), []);
  histogram.record(20_000);
  const [p99] = histogram.percentiles([99]);
  assert.ok(Math.abs(p99! / 20_000 - 1) < 0.01, `${p99}`);
});

test("values below 1 µs and beyond the top are kept, at the ends", () => {
  const histogram = new IntervalHistogram();
  histogram.record(10);
  histogram.record(1e12);
  const [low, high] = histogram.percentiles([50, 100]);
  assert.equal(low, 1_000);
  assert.ok(high! >= 9.9e10, `${high}`);
});
