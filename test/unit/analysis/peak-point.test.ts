import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pointOf } from "../../../src/analysis/peak-point.js";
import type { PeakResult } from "../../../src/analysis/peak-search.js";
import { summarizePeaks } from "../../../src/analysis/peak-summary.js";
import { lossOf, type Sample } from "../../../src/domain/sample.js";

function sample(over: Partial<Sample> = {}): Sample {
  return {
    driver: "builtin",
    direction: "forward",
    durationS: 2,
    messagesSent: 2000,
    messagesReceived: 2000,
    bytesSent: 128_000,
    bytesReceived: 128_000,
    messagesPerSecond: 1000,
    throughputMbps: 1.024,
    latencyUs: { min: 20, p50: 40, mean: 45, p90: 60, p99: 90, p999: 120, max: 200 },
    histogram: null,
    loss: lossOf(2000, 2000),
    lateness: { p50Us: 5, p99Us: 30, maxUs: 80 },
    generatorLimited: false,
    warnings: [],
    ...over,
  };
}

describe("pointOf", () => {
  it("turns one sample into the point the search judges", () => {
    const point = pointOf(1000, [sample()], null, { usPerTransaction: 12, cyclesPerUnit: null });
    assert.deepEqual(point, {
      offeredMessagesPerSecond: 1000,
      sentMessagesPerSecond: 1000,
      messagesPerSecond: 1000,
      latencyUs: sample().latencyUs,
      lossRatio: 0,
      latenessP99Us: 30,
      generatorLimited: false,
      durationS: 2,
      cpu: null,
      serviceDemand: { usPerTransaction: 12, cyclesPerUnit: null },
    });
  });

  it("takes the worse direction of a bidirectional trial", () => {
    const slow = { ...sample().latencyUs!, p99: 900 };
    const reverse = sample({
      direction: "reverse",
      messagesReceived: 1900,
      loss: lossOf(2000, 1900),
      latencyUs: slow,
      lateness: { p50Us: 5, p99Us: 400, maxUs: 900 },
      generatorLimited: true,
    });
    const point = pointOf(1000, [sample(), reverse], null, null);
    assert.equal(point.messagesPerSecond, 950);
    assert.equal(point.lossRatio, 0.05);
    assert.equal(point.latencyUs, slow);
    assert.equal(point.latenessP99Us, 400);
    assert.equal(point.generatorLimited, true);
  });

  it("has no latency when a direction delivered nothing", () => {
    const silent = sample({
      direction: "reverse",
      messagesReceived: 0,
      latencyUs: null,
      loss: lossOf(2000, 0),
    });
    assert.equal(pointOf(1000, [sample(), silent], null, null).latencyUs, null);
  });

  it("keeps the host CPU figures of the curve", () => {
    const cpu = { hostSeconds: 1.5, perWallSecond: 0.75, generatorSeconds: 0.9 };
    const full = { ...cpu, wallSeconds: 2 } as unknown as Parameters<typeof pointOf>[2];
    assert.deepEqual(pointOf(1000, [sample()], full, null).cpu, cpu);
  });
});

describe("summarizePeaks", () => {
  const search = (messagesPerSecond: number | null): PeakResult => ({
    messagesPerSecond,
    criterion: messagesPerSecond === null ? "generator-limited" : "latency",
    precision: 0.02,
    bounds: { good: null, bad: null },
    generatorLimited: null,
    limits: null,
    knee: null,
    trials: 0,
    curve: [],
  });
  const trial = (peak: PeakResult | undefined, status = "completed") => ({ status, peak });

  it("is absent for a cell without a search", () => {
    assert.equal(summarizePeaks([trial(undefined)]), null);
  });

  it("stands the trial with the median peak for the cell (the lower of an even count)", () => {
    const peaks = [900, 1000, 950, 990].map((rate) => trial(search(rate)));
    assert.equal(summarizePeaks(peaks)!.messagesPerSecond, 950);
    assert.equal(summarizePeaks(peaks)!.searches, 4);
    assert.equal(summarizePeaks([...peaks, trial(search(2000), "failed")])!.searches, 4);
  });

  it("reports no peak only when no search found one", () => {
    assert.equal(summarizePeaks([trial(search(null)), trial(search(800))])!.messagesPerSecond, 800);
    assert.equal(summarizePeaks([trial(search(null))])!.criterion, "generator-limited");
  });
});
