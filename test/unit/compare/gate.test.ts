// The gate, simulated on a small matrix (40 cells × 4 judged metrics, 1–3 % noise, 5× outliers,
// 5/10/20 % regressions planted): it finds the regressions, rarely raises a false one, and the
// adaptive design (5 candidate trials, then one a round up to 15 while a cell is open, α spent over
// the looks) spends far fewer candidate trials. bench/gate-sim.ts runs the seed-full shape.

import assert from "node:assert/strict";
import { it } from "node:test";
import { simulateGate } from "./gate-model.js";

it("detects 10 and 20 % regressions, ≤ 5 % false-regression rate per comparison, adaptive ≥ 40 % cheaper", (t) => {
  const shape = {
    cells: 40,
    trials: 10,
    adaptive: [{ initial: 5, max: 15 }],
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
  assert.ok(adaptive!.candidateTrials <= 0.6 * fixed.candidateTrials, `${adaptive!.candidateTrials} trials`);
});
