// The gate, simulated on a small matrix (40 cells × 4 judged metrics, 1–3 % noise, 5× outliers,
// 5/10/20 % regressions planted): it finds the regressions, rarely raises a false one, and the
// adaptive design (5 candidate trials, then one a round up to 20 while a cell is suspected, α spent
// at the first look and the cap) finds each as often as the fixed 10 trials a side or more, with
// at least 40 % fewer candidate trials. Stopping suspected cells before the cap, or spending α at
// the looks between, loses the 5 % change. bench/gate-sim.ts runs the seed-full shape.

import assert from "node:assert/strict";
import { it } from "node:test";
import { simulateGate } from "./gate-model.js";

it("adaptive finds 5, 10 and 20 % regressions as often as fixed 10 trials, ≥ 40 % cheaper, ≤ 5 % false regressions", (t) => {
  const shape = {
    cells: 40,
    trials: 10,
    adaptive: [{ initial: 5, max: 20 }],
    outlierRate: 0.005,
    planted: new Map([
      [3, 0.05],
      [17, 0.1],
      [29, 0.2],
    ]),
  };
  const {
    fixed,
    adaptive: [adaptive],
  } = simulateGate(shape, 200);
  for (const [name, s] of [
    ["fixed", fixed],
    ["adaptive", adaptive!],
  ] as const) {
    t.diagnostic(
      `${name}: detected ${JSON.stringify([...s.detection])}, false regressions ${s.falseRegressionRate}, ` +
        `candidate trials/cell ${s.candidateTrials.toFixed(2)}`,
    );
    assert.ok(s.falseRegressionRate <= 0.05, `${name}: false-regression rate ${s.falseRegressionRate}`);
    assert.ok(s.detection.get(0.1)! >= 0.95, `${name}: 10 % detected ${s.detection.get(0.1)}`);
    assert.ok(s.detection.get(0.2)! >= 0.99, `${name}: 20 % detected ${s.detection.get(0.2)}`);
  }
  // The same draws for both designs (seeded): equal detection or better, size by size.
  for (const [size, rate] of fixed.detection)
    assert.ok(
      adaptive!.detection.get(size)! >= rate,
      `${size}: adaptive ${adaptive!.detection.get(size)} vs fixed ${rate}`,
    );
  assert.ok(adaptive!.candidateTrials <= 0.6 * fixed.candidateTrials, `${adaptive!.candidateTrials} trials`);
});
