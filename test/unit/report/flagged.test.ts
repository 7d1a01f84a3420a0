// Failed and flagged trials: kept and marked in every output, never in the figures.

import assert from "node:assert/strict";
import { test } from "node:test";
import { CSV_HEADER, runCsv } from "../../../src/report/export.js";
import { formatRun } from "../../../src/report/show.js";
import { makeRun, spread } from "./run-fixture.js";

const steal = {
  reason: "steal" as const,
  detail: "the hypervisor under this host took 4.0 % of CPU time (steal)",
};
const trials = [...spread(3, 50), { latencyUs: 5000, flags: [steal] }, { latencyUs: 0, failed: true }];
const run = makeRun("run-1", [{ trials }]);
const cell = run.cells[0]!;

test("the summary is made of the trusted trials only, and counts what it left out with each reason", () => {
  assert.equal(cell.summary.trials, 3);
  assert.ok(cell.summary.latencyUs!.max < 1000, "the flagged trial's 5 ms latencies are not in the figures");
  assert.deepEqual(cell.summary.excluded, {
    failed: 1,
    flagged: 1,
    reasons: [`trial 4 steal: ${steal.detail}`, "trial 5 failed: agent died"],
  });
});

test("show marks the cell and prints each reason", () => {
  const text = formatRun(run);
  assert.match(text, /1 failed 1 flagged/);
  assert.match(text, /left out of the figures above \(failed or flagged\):/);
  assert.match(text, /trial 4 steal: the hypervisor under this host took 4\.0 %/);
  assert.match(text, /trial 5 failed: agent died/);
});

test("the CSV export keeps the flagged trial, with its flags", () => {
  const rows = runCsv(run).trim().split("\r\n");
  const flags = CSV_HEADER.indexOf("flags");
  assert.equal(rows.length, 1 + 5);
  assert.equal(rows[4]!.split(",")[flags], `steal: ${steal.detail}`);
  assert.equal(rows[1]!.split(",")[flags], "");
});
