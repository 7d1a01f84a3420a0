import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { minDetectableChange, resolvableChange, trialsToResolve } from "../../../src/analysis/power.js";

function close(actual: number, expected: number, relative = 1e-6): void {
  assert.ok(
    Math.abs(actual - expected) <= relative * Math.abs(expected),
    `${actual} is not within ${relative} of ${expected}`,
  );
}

// Reference values worked with scipy.stats.t.isf: se = σ·√(2/n), ν = 2n − 2,
// resolvable = expm1((t.isf(α/2m, ν) + t.isf(0.2, ν))·se),
// clear of noise = expm1(log1p(noise) + (t.isf(0.025, ν) + t.isf(0.2, ν))·se).
describe("power of a design", () => {
  const single = { trialsPerSide: 3, tests: 4, alpha: 0.05, noise: 0.02 };

  it("one cell, 4 judged tests, 3 trials a side, 2 % spread: about 9 %", () => {
    close(resolvableChange(single, 0.02), 0.08961445802504393);
    close(minDetectableChange(single, 0.02), 0.08961445802504393);
  });

  it("the seed-full shape (5200 judged tests), 10 trials a side: 6.4 %, and 61 a side resolve 2 %", () => {
    const full = { trialsPerSide: 10, tests: 5200, alpha: 0.05, noise: 0.02 };
    close(resolvableChange(full, 0.02), 0.06403805854316569);
    close(minDetectableChange(full, 0.02), 0.06403805854316569);
    assert.equal(trialsToResolve(full, 0.02), 61);
  });

  it("is bounded below by the noise threshold: the whole interval must clear it", () => {
    // Tiny spread: the test resolves anything, the noise threshold sets the floor.
    const mdc = minDetectableChange({ ...single, trialsPerSide: 20 }, 0.001);
    assert.ok(mdc > 0.02 && mdc < 0.022, `${mdc}`);
    close(
      mdc,
      Math.expm1(Math.log1p(0.02) + (2.02439416391197 + 0.8511827564679451) * 0.001 * Math.sqrt(0.1)),
      1e-6,
    );
  });

  it("says nothing can be detected with one trial a side, or resolved beyond 1000", () => {
    assert.equal(minDetectableChange({ ...single, trialsPerSide: 1 }, 0.02), Number.POSITIVE_INFINITY);
    assert.equal(trialsToResolve({ ...single, noise: 0.0001 }, 0.5), null);
    assert.equal(trialsToResolve({ ...single, noise: 0.5 }, 0.01), 2);
  });
});
