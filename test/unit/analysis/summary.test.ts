import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeHistogram, newLatencyHistogram, recordNs } from "../../../src/analysis/latency.js";
import { samplesOf, summarizeSamples } from "../../../src/analysis/summary.js";
import type { Trial } from "../../../src/domain/cell.js";
import { lossOf, type Sample } from "../../../src/domain/sample.js";

function sample(overrides: Partial<Sample>, latenciesUs: number[] = []): Sample {
  const histogram = newLatencyHistogram();
  for (const us of latenciesUs) recordNs(histogram, us * 1000);
  return {
    driver: "builtin",
    direction: "forward",
    durationS: 1,
    messagesSent: 0,
    messagesReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    messagesPerSecond: 0,
    throughputMbps: 0,
    latencyUs: null,
    histogram: latenciesUs.length ? encodeHistogram(histogram) : null,
    loss: lossOf(0, 0),
    lateness: null,
    generatorLimited: false,
    warnings: [],
    ...overrides,
  };
}

function trial(n: number, samples: Sample[], status: Trial["status"] = "completed"): Trial {
  return { cellKey: "k", trial: n, status, startedAt: "", finishedAt: "", samples };
}

test("loss ratio counts only delivered messages, and is 0 when nothing was sent", () => {
  assert.deepEqual(lossOf(1000, 990, 3, 1), {
    sent: 1000,
    received: 990,
    ratio: 0.01,
    reordered: 3,
    duplicates: 1,
  });
  assert.equal(lossOf(0, 0).ratio, 0);
  assert.equal(lossOf(10, 12).ratio, 0, "more received than sent (duplicates upstream) is not negative loss");
});

test("rates are pooled over measured time, loss summed, latency merged", () => {
  const a = sample(
    { durationS: 2, messagesReceived: 2000, throughputMbps: 10, loss: lossOf(2000, 2000) },
    Array(100).fill(10),
  );
  const b = sample(
    { durationS: 1, messagesReceived: 500, throughputMbps: 4, loss: lossOf(510, 500, 2, 0) },
    Array(100).fill(30),
  );
  const summary = summarizeSamples([a, b]);
  assert.equal(summary.trials, 2);
  assert.equal(summary.messagesPerSecond, 2500 / 3);
  assert.equal(summary.throughputMbps, (10 * 2 + 4 * 1) / 3);
  assert.deepEqual(summary.loss, {
    sent: 2510,
    received: 2500,
    ratio: 10 / 2510,
    reordered: 2,
    duplicates: 0,
  });
  assert.ok(Math.abs(summary.latencyUs!.p50 - 10) < 0.02);
  assert.ok(Math.abs(summary.latencyUs!.max - 30) < 0.05);
});

test("failed trials and the other direction are left out", () => {
  const forward = sample({ durationS: 1, messagesReceived: 100 });
  const reverse = sample({ direction: "reverse", durationS: 1, messagesReceived: 7 });
  const trials = [
    trial(1, [forward, reverse]),
    trial(2, [sample({ durationS: 1, messagesReceived: 1e9 })], "failed"),
  ];
  assert.equal(samplesOf(trials).length, 1);
  assert.equal(summarizeSamples(samplesOf(trials)).messagesPerSecond, 100);
  assert.equal(summarizeSamples(samplesOf(trials, "reverse")).messagesPerSecond, 7);
});

test("a generator-limited trial marks the summary", () => {
  const limited = sample({
    generatorLimited: true,
    warnings: ["late"],
    lateness: { p50Us: 1, p99Us: 900, maxUs: 2000 },
  });
  const summary = summarizeSamples([sample({}), limited]);
  assert.equal(summary.generatorLimited, true);
  assert.equal(summary.latenessP99Us, 900);
  assert.deepEqual(summary.warnings, ["late"]);
});

test("no samples: no rates, no latency", () => {
  const summary = summarizeSamples([]);
  assert.equal(summary.messagesPerSecond, null);
  assert.equal(summary.latencyUs, null);
});
