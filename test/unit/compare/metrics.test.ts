import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  defaultJudged,
  METRICS,
  matchTrials,
  metricValues,
  type TrialMeasurements,
} from "../../../src/compare/metrics.js";
import { lossOf, type Sample } from "../../../src/domain/sample.js";

function sample(overrides: Partial<Sample> = {}): Sample {
  return {
    driver: "builtin",
    direction: "forward",
    durationS: 10,
    messagesSent: 1000,
    messagesReceived: 1000,
    bytesSent: 64000,
    bytesReceived: 64000,
    messagesPerSecond: 100,
    throughputMbps: 0.1,
    latencyUs: { min: 10, p50: 20, mean: 22, p90: 30, p99: 40, p999: 50, max: 60 },
    histogram: null,
    loss: lossOf(1000, 1000),
    lateness: null,
    generatorLimited: false,
    warnings: [],
    ...overrides,
  };
}

function trial(
  cellKey: string,
  samples: Sample[],
  extra: Partial<TrialMeasurements> = {},
): TrialMeasurements {
  return { cellKey, status: "completed", samples, ...extra };
}

describe("metrics", () => {
  it("knows which direction is better for every metric", () => {
    const better = Object.fromEntries(Object.entries(METRICS).map(([name, spec]) => [name, spec.better]));
    assert.deepEqual(better, {
      latencyP50: "lower",
      latencyP99: "lower",
      latencyMax: "lower",
      messagesPerSecond: "higher",
      throughputMbps: "higher",
      hostCpuSeconds: "lower",
      serviceDemand: "lower",
      serviceDemandOutsideGenerator: "lower",
      lossRatio: "lower",
      peakMessagesPerSecond: "higher",
    });
  });

  it("reads latency as the worse direction and rates as the sum of both directions", () => {
    const reverse = sample({
      direction: "reverse",
      messagesPerSecond: 50,
      throughputMbps: 0.05,
      latencyUs: { min: 5, p50: 25, mean: 26, p90: 28, p99: 35, p999: 70, max: 80 },
      loss: lossOf(1000, 900),
    });
    const t = trial("c", [sample(), reverse]);
    assert.equal(METRICS.latencyP50.read(t), 25);
    assert.equal(METRICS.latencyP99.read(t), 40);
    assert.equal(METRICS.latencyMax.read(t), 80);
    assert.equal(METRICS.messagesPerSecond.read(t), 150);
    assert.ok(Math.abs(METRICS.throughputMbps.read(t)! - 0.15) < 1e-12);
    assert.equal(METRICS.lossRatio.read(t), 100 / 2000);
  });

  it("reads CPU, service demand and peak only when the trial has them", () => {
    const plain = trial("c", [sample()]);
    assert.equal(METRICS.hostCpuSeconds.read(plain), null);
    assert.equal(METRICS.serviceDemand.read(plain), null);
    assert.equal(METRICS.serviceDemandOutsideGenerator.read(plain), null);
    assert.equal(METRICS.peakMessagesPerSecond.read(plain), null);
    const full = trial("c", [sample()], {
      cpu: { hostSeconds: 3.5 },
      serviceDemand: { usPerKB: 1.25, withoutGenerator: { usPerKB: 0.25 } },
      peak: { messagesPerSecond: 42000 },
    });
    assert.equal(METRICS.hostCpuSeconds.read(full), 3.5);
    assert.equal(METRICS.serviceDemand.read(full), 1.25);
    assert.equal(METRICS.serviceDemandOutsideGenerator.read(full), 0.25);
    assert.equal(METRICS.peakMessagesPerSecond.read(full), 42000);
  });

  it("judges latency, the rate, peak and the path's own CPU by default; host CPU-seconds only reported", () => {
    assert.deepEqual(defaultJudged("rr"), [
      "latencyP50",
      "latencyP99",
      "messagesPerSecond",
      "peakMessagesPerSecond",
      "serviceDemandOutsideGenerator",
    ]);
    assert.ok(defaultJudged("stream").includes("throughputMbps"));
    assert.ok(!defaultJudged("stream").includes("messagesPerSecond"));
    for (const pattern of ["rr", "crr", "stream", "paced", undefined])
      assert.ok(!defaultJudged(pattern).includes("hostCpuSeconds"));
  });

  it("has no latency without a latency summary and no loss when nothing was sent", () => {
    const t = trial("c", [sample({ latencyUs: null, loss: lossOf(0, 0) })]);
    assert.equal(METRICS.latencyP50.read(t), null);
    assert.equal(METRICS.lossRatio.read(t), null);
  });

  it("skips failed trials", () => {
    const trials = [
      trial("c", [sample()]),
      { ...trial("c", [sample({ messagesPerSecond: 1 })]), status: "failed" as const },
    ];
    assert.deepEqual(metricValues("messagesPerSecond", trials), [100]);
  });
});

describe("matchTrials", () => {
  it("matches cells by key and lists what only one side has", () => {
    const baseline = [
      trial("a", [sample({ messagesPerSecond: 100 })], { cpu: { hostSeconds: 1 } }),
      trial("a", [sample({ messagesPerSecond: 110 })], { cpu: { hostSeconds: 2 } }),
      trial("only-base", [sample()]),
    ];
    const candidate = [trial("a", [sample({ messagesPerSecond: 90 })]), trial("only-cand", [sample()])];
    const matched = matchTrials(baseline, candidate, [
      "messagesPerSecond",
      "hostCpuSeconds",
      "peakMessagesPerSecond",
    ]);
    assert.deepEqual(matched.inputs, [
      { cellKey: "a", metric: "messagesPerSecond", baseline: [100, 110], candidate: [90] },
    ]);
    assert.deepEqual(matched.baselineOnly, ["only-base"]);
    assert.deepEqual(matched.candidateOnly, ["only-cand"]);
    assert.deepEqual(matched.oneSided, [{ cellKey: "a", metric: "hostCpuSeconds", side: "baseline" }]);
  });
});
