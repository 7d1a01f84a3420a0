import assert from "node:assert/strict";
import { test } from "node:test";
import { newLatencyHistogram, recordNs } from "../../../../src/analysis/latency.js";
import { generatorLimitOf, sampleFrom } from "../../../../src/drivers/builtin/trial.js";

function histogramOf(valuesUs: number[]) {
  const histogram = newLatencyHistogram();
  for (const value of valuesUs) recordNs(histogram, value * 1000);
  return histogram;
}

const base = {
  durationS: 1,
  messagesSent: 1000,
  messagesReceived: 1000,
  bytesSent: 0,
  bytesReceived: 0,
  bytesDelivered: 0,
};
/** 1000 latencies: 98.9 % at `fast` µs and the slowest 1.1 % at `slow` (so p99 is `slow`). */
const tail = (fast: number, slow: number) => [...Array(989).fill(fast), ...Array(11).fill(slow)];

test("a sender that achieved less than the offered rate is generator-limited", () => {
  const reason = generatorLimitOf({ ...base, messagesSent: 900, offeredRate: 1000 });
  assert.match(reason ?? "", /achieved 900 of 1000/);
  assert.equal(generatorLimitOf({ ...base, messagesSent: 995, offeredRate: 1000 }), null);
});

test("the tool's delays flag a trial when they move p99 beyond the threshold, relative to the path's own p99", () => {
  // The path alone: p99 65 µs; the tool's lateness pushes the reported p99 to 260 µs (4×): flagged,
  // although 260 µs is far below the old fixed 250 µs lateness bound's reach.
  const limited = generatorLimitOf({
    ...base,
    offeredRate: 1000,
    histogram: histogramOf(tail(60, 260)),
    pathLatency: histogramOf(tail(60, 65)),
    lateness: histogramOf(tail(1, 195)),
  });
  assert.match(limited ?? "", /move latency p99 from 65 to 260 µs/);
  const faithful = generatorLimitOf({
    ...base,
    offeredRate: 1000,
    histogram: histogramOf(tail(60, 66)),
    pathLatency: histogramOf(tail(60, 65)),
  });
  assert.equal(faithful, null, "a shift under the floor does not count");
});

test("sampleFrom carries the flag and its reason, and the receive lag", () => {
  const sample = sampleFrom({
    ...base,
    offeredRate: 2000,
    histogram: histogramOf(tail(60, 65)),
    pathLatency: histogramOf(tail(60, 65)),
    receiveLag: histogramOf(tail(1, 3)),
  });
  assert.equal(sample.generatorLimited, true);
  assert.ok(sample.warnings.some((warning) => /achieved 1000 of 2000/.test(warning)));
  assert.ok(Math.abs((sample.receiveLag?.p99Us ?? 0) - 3) < 0.01, "receive lag p99 kept");
});
