import assert from "node:assert/strict";
import { test } from "node:test";
import {
  decodeHistogram,
  encodeHistogram,
  latencyCdf,
  mergeHistograms,
  newLatencyHistogram,
  recordNs,
  summarizeLatency,
} from "../../../src/analysis/latency.js";

function histogramOf(valuesNs: number[]) {
  const histogram = newLatencyHistogram();
  for (const value of valuesNs) recordNs(histogram, value);
  return histogram;
}

/** Within HdrHistogram's 3-significant-digit resolution. */
function near(actual: number | undefined, expected: number) {
  assert.ok(
    actual !== undefined && Math.abs(actual - expected) <= expected * 0.001 + 0.001,
    `${actual} ≉ ${expected}`,
  );
}

test("summary of 1..1000 µs: percentiles, mean, min and max in microseconds", () => {
  const summary = summarizeLatency(histogramOf(Array.from({ length: 1000 }, (_, i) => (i + 1) * 1000)));
  near(summary?.min, 1);
  near(summary?.p50, 500);
  near(summary?.p90, 900);
  near(summary?.p99, 990);
  near(summary?.p999, 999);
  near(summary?.max, 1000);
  near(summary?.mean, 500.5);
});

test("an empty histogram has no summary", () => {
  assert.equal(summarizeLatency(newLatencyHistogram()), null);
});

test("merging trials takes percentiles of the union, not the mean of percentiles", () => {
  // Trial A: 99 fast (10 µs) + 1 slow (10 ms); trial B: 100 at 20 µs.
  const a = histogramOf([...Array(99).fill(10_000), 10_000_000]);
  const b = histogramOf(Array(100).fill(20_000));
  const merged = mergeHistograms([encodeHistogram(a), encodeHistogram(b)]);
  assert.ok(merged);
  assert.equal(merged.totalCount, 200);
  const summary = summarizeLatency(merged)!;
  // Sorted: 99 × 10 µs, 100 × 20 µs, 1 × 10 ms — the 100th and 198th values are 20 µs.
  near(summary.p50, 20);
  near(summary.p99, 20);
  near(summary.max, 10_000);
  near(summary.min, 10);
  // The average of the two trials' p99s would be (10 + 20) / 2 = 15 µs, which no message had.
  assert.notEqual(summary.p99, 15);
});

test("encode/decode round-trips every recorded value", () => {
  const original = histogramOf([1500, 2500, 2500, 999_999, 123_456_789]);
  const decoded = decodeHistogram(encodeHistogram(original));
  assert.equal(decoded.totalCount, 5);
  assert.deepEqual(summarizeLatency(decoded), summarizeLatency(original));
});

test("merging nothing gives null", () => {
  assert.equal(mergeHistograms([]), null);
});

test("values below 1 ns are clamped, not lost", () => {
  const histogram = histogramOf([0, -5, 0.2]);
  assert.equal(histogram.totalCount, 3);
});

test("the CDF rises monotonically from the minimum to the maximum", () => {
  const cdf = latencyCdf(histogramOf(Array.from({ length: 500 }, (_, i) => (i + 1) * 1000)), 50);
  assert.equal(cdf.length, 51);
  for (let i = 1; i < cdf.length; i++) {
    assert.ok(cdf[i]![0] >= cdf[i - 1]![0]);
    assert.ok(cdf[i]![1] >= cdf[i - 1]![1]);
  }
  near(cdf[0]![0], 1);
});
