import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { minDetectableChange } from "../../../src/analysis/power.js";
import { DEFAULT_THRESHOLDS } from "../../../src/compare/compare.js";
import type { TrialMeasurements } from "../../../src/compare/metrics.js";
import { observedSpread, plannedMetrics, planPower } from "../../../src/compare/power.js";
import type { Cell } from "../../../src/domain/cell.js";

const traffic = (pattern: string, rate: number | "max" | "peak" = "max") =>
  ({
    protocol: "tcp",
    pattern,
    requestSize: 64,
    responseSize: 64,
    rate,
    durationS: 1,
    warmupS: 0,
    driver: "builtin",
  }) as Cell["traffic"];

function trial(cellKey: string, p50: number): TrialMeasurements {
  const latencyUs = { min: p50, p50, mean: p50, p90: p50, p99: p50, p999: p50, max: p50 };
  return { cellKey, status: "completed", samples: [{ latencyUs, messagesPerSecond: 1e6 / p50 } as never] };
}

describe("plan power", () => {
  it("counts the judged metrics each cell will measure", () => {
    assert.deepEqual(plannedMetrics(traffic("rr"), DEFAULT_THRESHOLDS), [
      "latencyP50",
      "latencyP99",
      "messagesPerSecond",
      "serviceDemandOutsideGenerator",
    ]);
    assert.deepEqual(plannedMetrics(traffic("stream"), DEFAULT_THRESHOLDS), [
      "throughputMbps",
      "serviceDemandOutsideGenerator",
    ]);
    assert.deepEqual(plannedMetrics(traffic("paced", "peak"), DEFAULT_THRESHOLDS), ["peakMessagesPerSecond"]);
    const chosen = { ...DEFAULT_THRESHOLDS, judge: { latencyP99: false, hostCpuSeconds: true } };
    assert.deepEqual(plannedMetrics(traffic("rr"), chosen), [
      "latencyP50",
      "messagesPerSecond",
      "serviceDemandOutsideGenerator",
      "hostCpuSeconds",
    ]);
  });

  it("takes the spread from earlier runs of the same cells: the median over cells of the SD of ln value", () => {
    const runs = [
      {
        results: [
          trial("a", 100),
          trial("a", 100 * Math.E ** 0.02),
          trial("b", 50),
          trial("b", 50 * Math.E ** 0.04),
        ],
      },
      { results: [trial("c", 10), trial("c", 20)] },
    ];
    const spread = observedSpread(runs, new Set(["a", "b"]), ["latencyP50", "hostCpuSeconds"]);
    // Two values d apart in ln have SD d/√2: cells a and b give 0.0141 and 0.0283, median 0.0212.
    assert.equal(spread.latencyP50!.cells, 2);
    assert.ok(Math.abs(spread.latencyP50!.sigma - 0.03 / Math.SQRT2) < 1e-12);
    assert.equal(spread.hostCpuSeconds, undefined);
  });

  it("states the smallest detectable change, where the spread came from, and the trials that resolve the noise", () => {
    const cells = [{ traffic: traffic("rr") }];
    const power = planPower(cells, 3, {}, { latencyP50: { sigma: 0.01, cells: 4 } });
    assert.equal(power.trialsPerSide, 3);
    assert.equal(power.judgedTests, 4);
    const design = { trialsPerSide: 3, tests: 4, alpha: 0.05, noise: 0.02 };
    assert.equal(
      power.minDetectableChangePercent.latencyP50,
      Number((minDetectableChange(design, 0.01) * 100).toFixed(2)),
    );
    assert.deepEqual(power.spread.latencyP50, { sigma: 0.01, source: "store", cells: 4 });
    assert.equal(power.spread.latencyP99!.source, "assumed");
    assert.match(power.notes[0]!, /^power: 3 trials a side, 4 judged tests, α 0\.05/);
    assert.match(power.notes.join("\n"), /measured on this machine .*latency p50 1%/);
    assert.match(
      power.notes.join("\n"),
      /noise threshold is below what this design can detect for latency p50 \(noise threshold 2%, detects [\d.]+%: \d+ trials a side would\)/,
    );
    // A 2× change is far above what 3 trials a side detect: the default run gates on it.
    assert.ok(power.minDetectableChangePercent.latencyP50! < 100);
  });
});
