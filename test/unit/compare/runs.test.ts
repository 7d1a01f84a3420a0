import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkFingerprint } from "../../../src/compare/fingerprint.js";
import { compareRunViews } from "../../../src/compare/runs.js";
import { InputError } from "../../../src/errors.js";
import { HOST, makeRun, spread } from "../report/run-fixture.js";

const N = 10;
const cells = (slowUdp: number) => [
  { trials: spread(N, 50) },
  { traffic: { protocol: "udp" as const }, trials: spread(N, 40 * slowUdp) },
  { traffic: { pattern: "crr" as const }, trials: spread(N, 120) },
];

describe("checkFingerprint", () => {
  it("matches equal hosts and lists differing fields with both values", () => {
    assert.deepEqual(checkFingerprint(HOST, { ...HOST }), { matches: true, differences: [], oneSided: [] });
    const check = checkFingerprint(HOST, { ...HOST, kernel: "Linux 6.9.0", fingerprint: "abc" });
    assert.equal(check.matches, false);
    assert.deepEqual(check.differences, [
      { field: "kernel", baseline: "Linux 6.1.0", candidate: "Linux 6.9.0" },
    ]);
    assert.deepEqual(check.oneSided, ["fingerprint"]);
  });
});

describe("compareRunViews", () => {
  it("finds the one regressed cell, lists it first, and calls the others unchanged", () => {
    const comparison = compareRunViews(makeRun("base", cells(1)), makeRun("cand", cells(1.1)));
    assert.equal(comparison.regression, true);
    assert.equal(comparison.cells[0]!.traffic.protocol, "udp");
    assert.equal(comparison.cells[0]!.verdict, "regression");
    const p50 = comparison.cells[0]!.metrics.find((m) => m.metric === "latencyP50")!;
    assert.equal(p50.verdict, "regression");
    assert.ok(Math.abs(p50.estimate - 0.1) < 0.005, `estimate ${p50.estimate}`);
    for (const cell of comparison.cells.slice(1)) assert.equal(cell.verdict, "unchanged", cell.name);
    assert.equal(comparison.cells[0]!.group, "loopback one-way");
    assert.equal(comparison.cells[0]!.name, "udp rr 64/64");
  });

  it("refuses runs from different machines unless allowed, and then shows the difference", () => {
    const other = makeRun("cand", cells(1), { ...HOST, cpuModel: "Other CPU" });
    assert.throws(
      () => compareRunViews(makeRun("base", cells(1)), other),
      (error: unknown) => error instanceof InputError && /cpuModel.*--allow-mismatch/.test(error.message),
    );
    const comparison = compareRunViews(makeRun("base", cells(1)), other, { allowMismatch: true });
    assert.equal(comparison.fingerprint.matches, false);
    assert.match(
      comparison.warnings.join("\n"),
      /fingerprint differs: cpuModel: baseline "Test CPU", candidate "Other CPU"/,
    );
  });

  it("refuses runs with no cell in common", () => {
    const other = makeRun("cand", [{ traffic: { durationS: 5 }, trials: spread(N, 50) }]);
    assert.throws(
      () => compareRunViews(makeRun("base", cells(1)), other),
      /no cell with completed trials in common/,
    );
  });

  it("says inconclusive, with the trials needed, when a judged metric is undecided", () => {
    // 3 trials a side, 2.2 % slower: the interval straddles the 2 % noise threshold.
    const base = makeRun("base", [{ trials: spread(3, 50) }]);
    const cand = makeRun("cand", [{ trials: spread(3, 50 * 1.022) }]);
    const comparison = compareRunViews(base, cand);
    assert.equal(comparison.regression, false);
    assert.equal(comparison.inconclusive, true);
    assert.equal(comparison.result, "inconclusive");
    assert.ok(comparison.trialsNeeded !== null && comparison.trialsNeeded > 3, `${comparison.trialsNeeded}`);
  });

  it("warns about generator-limited trials, one-run cells and single-trial sides", () => {
    const limited = spread(4, 50).map((t, i) => ({ ...t, generatorLimited: i === 0 }));
    const base = makeRun("base", [
      { trials: limited },
      { traffic: { protocol: "udp" }, trials: spread(4, 40) },
    ]);
    const cand = makeRun("cand", [{ trials: spread(1, 50) }]);
    const { warnings, cells: compared, candidateOnly, baselineOnly } = compareRunViews(base, cand);
    assert.equal(compared[0]!.generatorLimited.baseline, 1);
    assert.match(
      warnings.join("\n"),
      /generator could not keep up in 1 cell\(s\): loopback one-way: tcp rr 64\/64 \(1\/4 baseline, 0\/1 candidate trials\)/,
    );
    assert.equal(baselineOnly.length, 1);
    assert.deepEqual(candidateOnly, []);
    assert.match(warnings.join("\n"), /1 cell\(s\) only in the baseline run/);
    assert.match(warnings.join("\n"), /judged metrics have a single trial on a side/);
  });
});

describe("failed and flagged trials", () => {
  const flag = { reason: "steal" as const, detail: "steal 5 %" };
  it("are left out, so a cell left with too few good trials is inconclusive, never unchanged", () => {
    const all = compareRunViews(
      makeRun("base", [{ trials: spread(N, 50) }]),
      makeRun("cand", [{ trials: spread(N, 50) }]),
    );
    assert.equal(all.cells[0]!.verdict, "unchanged");
    const bad = spread(N, 50).map((t, i) =>
      i < 1 ? t : i < 5 ? { ...t, failed: true } : { ...t, flags: [flag] },
    );
    const comparison = compareRunViews(
      makeRun("base", [{ trials: spread(N, 50) }]),
      makeRun("cand", [{ trials: bad }]),
    );
    assert.equal(comparison.cells[0]!.verdict, "inconclusive");
    assert.ok(comparison.cells[0]!.metrics.every((m) => m.candidate.n === 1));
    assert.ok(
      comparison.warnings.some((w) => /left out of 1 cell\(s\).*\(0 baseline, 9 candidate\)/.test(w)),
    );
  });
});
