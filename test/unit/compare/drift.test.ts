// Run-to-run drift from earlier runs: estimated near the run effect the runs were drawn with, set
// by a machine switching between load modes from run to run, not by one regressed run among them,
// absent with too few runs; in a comparison it keeps a drift-sized shift of two tight runs from
// being called, and still calls a 2× change.

import assert from "node:assert/strict";
import { test } from "node:test";
import { mulberry32, type Random } from "../../../src/analysis/random.js";
import { compareCells } from "../../../src/compare/compare.js";
import { MIN_DRIFT_RUNS, type RunDrift, runDrift } from "../../../src/compare/drift.js";
import { gaussian } from "./synthetic.js";

/** Runs of `cells` cells, 3 trials each: latency e^(run effect τ·z + trial σ·z) × 50 µs, run `shifted` × factor. */
function history(
  random: Random,
  runs: number,
  cells: number,
  tau: number,
  sigma: number,
  shifted = -1,
  factor = 1,
) {
  return Array.from({ length: runs }, (_, r) => {
    const effect = tau * gaussian(random) + (r === shifted ? Math.log(factor) : 0);
    return {
      id: `run-${r}`,
      cells: Array.from({ length: cells }, (_, c) => ({
        key: `cell-${c}`,
        values: {
          latencyP50: Array.from({ length: 3 }, () => 50 * Math.exp(effect + sigma * gaussian(random))),
        },
      })),
    };
  });
}

test("estimates the run effect's variance the runs were drawn with", () => {
  const ratios: number[] = [];
  for (let seed = 1; seed <= 20; seed++) {
    const drift = runDrift(history(mulberry32(seed), 10, 4, 0.05, 0.01), ["latencyP50"]).latencyP50!;
    assert.equal(drift.pairs, 36);
    assert.equal(drift.runs, 10);
    ratios.push(drift.variance / 0.05 ** 2);
  }
  ratios.sort((a, b) => a - b);
  const middle = (ratios[9]! + ratios[10]!) / 2;
  // All cells of a run share its effect, so the estimate rests on 9 run-to-run steps: it scatters,
  // but its median over seeds sits near the truth.
  assert.ok(middle > 0.6 && middle < 1.6, `median ratio ${middle}: ${ratios.map((r) => r.toFixed(2))}`);
  // No run effect: only the trials' spread, which the estimate takes out.
  const still = runDrift(history(mulberry32(99), 10, 4, 0, 0.01), ["latencyP50"]).latencyP50!;
  assert.ok(still.variance < 0.01 ** 2, `${still.variance}`);
});

test("one regressed run among the earlier ones does not set the drift", () => {
  const quiet = runDrift(history(mulberry32(5), 10, 4, 0.01, 0.01), ["latencyP50"]).latencyP50!;
  const regressed = runDrift(history(mulberry32(5), 10, 4, 0.01, 0.01, 6, 2), ["latencyP50"]).latencyP50!;
  // A 2× run alone would put τ near ln 2 / 2; leaving out the largest fifth of the moves keeps it
  // within a few percent.
  assert.ok(
    Math.sqrt(regressed.variance) < 0.05,
    `τ ${Math.sqrt(regressed.variance)} (quiet ${Math.sqrt(quiet.variance)})`,
  );
});

test("a machine switching between load modes from run to run sets it, and the switch is not called", () => {
  // Latency p50 at 37 µs in most runs and at 50 µs in some (as on the lab host): 4 switches in 9 steps.
  const modes = [37, 37, 50, 50, 37, 37, 37, 50, 37, 37];
  const runs = modes.map((level, r) => ({
    id: `run-${r}`,
    cells: [0, 1, 2, 3].map((c) => ({
      key: `cell-${c}`,
      values: { latencyP50: [level, level * 1.01, level * 0.99] },
    })),
  }));
  const drift = runDrift(runs, ["latencyP50"]);
  assert.ok(Math.sqrt(drift.latencyP50!.variance) > 0.1, `τ ${Math.sqrt(drift.latencyP50!.variance)}`);
  const shift = {
    cellKey: "c",
    metric: "latencyP50" as const,
    baseline: [37, 37.4, 36.7],
    candidate: [50, 50.3, 49.6],
  };
  const judged = { thresholds: { judge: { latencyP50: true } }, resamples: 1 };
  assert.equal(compareCells([shift], judged).results[0]!.verdict, "regression", "trials alone call it");
  assert.notEqual(compareCells([shift], { ...judged, drift }).results[0]!.verdict, "regression");
});

test("needs enough earlier runs", () => {
  const few = history(mulberry32(3), MIN_DRIFT_RUNS - 1, 4, 0.05, 0.01);
  assert.deepEqual(runDrift(few, ["latencyP50"]), {});
  assert.ok(runDrift(history(mulberry32(3), MIN_DRIFT_RUNS, 4, 0.05, 0.01), ["latencyP50"]).latencyP50);
});

test("in a comparison: a drift-sized shift of two tight runs is not called, a 2× change still is", () => {
  const base = [50, 50.3, 49.8];
  const input = (factor: number) => ({
    cellKey: "c",
    metric: "latencyP50" as const,
    baseline: base,
    candidate: base.map((v) => v * factor * 1.002),
  });
  const drift: Partial<Record<"latencyP50", RunDrift>> = {
    latencyP50: { variance: 0.05 ** 2, df: 30, pairs: 30, runs: 10 },
  };
  const judged = { thresholds: { judge: { latencyP50: true } }, resamples: 1 };
  assert.equal(
    compareCells([input(1.1)], judged).results[0]!.verdict,
    "regression",
    "trials alone call 10 %",
  );
  assert.notEqual(compareCells([input(1.1)], { ...judged, drift }).results[0]!.verdict, "regression");
  assert.equal(compareCells([input(2)], { ...judged, drift }).results[0]!.verdict, "regression");
});
