import assert from "node:assert/strict";
import { test } from "node:test";
import { measuredRun, measuredTrialSource } from "../../../src/compare/runs.js";
import { makeRun } from "../report/run-fixture.js";

// An adaptive candidate's cell whose trial 2 failed: its trials 1, 3 and 4 are trusted.
const base = measuredRun(makeRun("base", [{ trials: [50, 51, 49].map((latencyUs) => ({ latencyUs })) }]));
const candidate = measuredRun(
  makeRun("cand", [
    { trials: [{ latencyUs: 60 }, { latencyUs: 0, failed: true }, { latencyUs: 61 }, { latencyUs: 300 }] },
  ]),
);
const key = candidate.cells[0]!.key;

test("compare replays a look at n with the trusted trials numbered n or less, as the run's own looks do", () => {
  const source = measuredTrialSource(
    new Map([[key, base.cells[0]!.measurements.values]]),
    candidate,
    new Map([[key, "rr"]]),
  );
  assert.equal(source.ran(key), 4, "trials 1–4 ran, the failed one included");
  const atThree = source.inputs(new Set([key]), 3).find((input) => input.metric === "latencyP50")!;
  // Trials 1 and 3: the first three trusted values would take trial 4's (300 µs) into the look at 3.
  assert.equal(atThree.candidate.length, 2);
  assert.ok(Math.max(...atThree.candidate) < 100, JSON.stringify(atThree.candidate));
  const atFour = source.inputs(new Set([key]), 4).find((input) => input.metric === "latencyP50")!;
  assert.equal(atFour.candidate.length, 3);
});
