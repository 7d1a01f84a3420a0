// Every run flag is honoured or refused, the same way whichever other flags come with it.

import assert from "node:assert/strict";
import { test } from "node:test";
import { planRun, resumeConflicts } from "../../../src/api.js";
import { InputError } from "../../../src/errors.js";

const loopback = { setup: "loopback" };

test("--duration, --warmup and --trials shape the quick matrix when no traffic flag is given", () => {
  for (const options of [
    { ...loopback, duration: "1", warmup: "0", trials: "1" },
    { ...loopback, quick: true, duration: "1", warmup: "0", trials: "1" },
  ]) {
    const plan = planRun(options);
    assert.equal(plan.trials, 1);
    assert.ok(plan.cells.length > 1, "the quick matrix");
    for (const cell of plan.cells) {
      assert.equal(cell.traffic.durationS, 1);
      assert.equal(cell.traffic.warmupS, 0);
    }
  }
  // Not given: the quick matrix's own timing.
  assert.ok(planRun(loopback).cells.every((cell) => cell.traffic.durationS === 2));
});

test("--warmup -1 and --duration 0 are refused with or without traffic flags", () => {
  for (const extra of [{}, { quick: true }, { size: "64" }, { pattern: "paced" }]) {
    assert.throws(() => planRun({ ...loopback, ...extra, warmup: "-1" }), /--warmup: '-1'/);
    assert.throws(() => planRun({ ...loopback, ...extra, duration: "0" }), /--duration: '0'/);
    assert.throws(() => planRun({ ...loopback, ...extra, trials: "0" }), /--trials: '0'/);
  }
});

test("--quick with a traffic flag is refused, naming the flag", () => {
  assert.throws(
    () => planRun({ ...loopback, quick: true, protocol: "udp" }),
    (error: Error) =>
      error instanceof InputError && /--protocol cannot be combined with --quick/.test(error.message),
  );
  assert.throws(() => planRun({ ...loopback, quick: true, responseSize: "1k" }), /--response-size/);
});

test("--rate with closed-loop patterns only is refused; with some paced cells it is named once", () => {
  assert.throws(
    () => planRun({ ...loopback, pattern: "rr", rate: "1000" }),
    /--rate: tcp rr sets its own pace/,
  );
  assert.throws(() => planRun({ ...loopback, pattern: "stream,crr", rate: "1k" }), /--rate/);
  const mixed = planRun({ ...loopback, pattern: "rr,paced", rate: "500" });
  assert.deepEqual(mixed.warnings, ["--rate does not apply to tcp rr (they set their own pace)"]);
  assert.ok(mixed.cells.some((cell) => cell.traffic.rate === 500));
  // A udp stream takes a rate: no warning.
  assert.deepEqual(planRun({ ...loopback, protocol: "udp", pattern: "stream", rate: "1k" }).warnings, []);
  // `max` is what closed loops do anyway.
  assert.deepEqual(planRun({ ...loopback, pattern: "rr", rate: "max" }).warnings, []);
});

test("--resume refuses the flags a stored run already fixes", () => {
  for (const [flag, value] of [
    ["label", "x"],
    ["trials", "5"],
    ["tester", "bob"],
    ["duration", "1"],
    ["quick", true],
    ["matrix", "m.yaml"],
  ] as const) {
    assert.throws(
      () => resumeConflicts({ [flag]: value }),
      (error: Error) => error instanceof InputError && /cannot be combined with --resume/.test(error.message),
      flag,
    );
  }
  assert.throws(() => resumeConflicts({ label: "x" }), /^InputError: --label cannot/);
  resumeConflicts({ db: "x.db" });
});
