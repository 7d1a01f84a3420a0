import assert from "node:assert/strict";
import { test } from "node:test";
import { parsePerfStat, summarizePerf } from "../../../src/monitors/perf-stat.js";
import { fixture } from "./fixtures.js";

test("plain output of this machine: cycles not supported, task-clock counted", () => {
  const rows = parsePerfStat(fixture("perf-not-supported.txt"), "plain");
  assert.deepEqual(
    rows.map((r) => [r.event, r.status, r.value]),
    [
      ["cycles", "not supported", null],
      ["instructions", "not supported", null],
      ["task-clock", "counted", 0.79],
    ],
  );
});

test("interval output of this machine: cycles null with the reason, task-clock scaled to the window", () => {
  const rows = parsePerfStat(fixture("perf-interval-not-supported.txt"), "interval");
  assert.equal(rows.length, 9);
  const counts = summarizePerf(rows, 0.301443258);
  assert.equal(counts.cycles, null);
  assert.equal(counts.instructions, null);
  assert.equal(
    counts.note,
    "cycles not supported on this machine; instructions not supported on this machine",
  );
  assert.ok(Math.abs(counts.taskClockSeconds! - (200.73 + 200.89 + 201.73) / 1000) < 1e-9);
});

test("counted intervals are summed and scaled from the seconds covered to the window", () => {
  const rows = parsePerfStat(fixture("perf-interval-counted.synthetic.txt"), "interval");
  // 0.200656068 s covered; the window was 10 % longer.
  const counts = summarizePerf(rows, 0.200656068 * 1.1);
  assert.ok(Math.abs(counts.cycles! - 500_000_000 * 1.1) < 1e-3);
  assert.ok(Math.abs(counts.instructions! - 600_000_000 * 1.1) < 1e-3);
  assert.equal(counts.note, null);
});

test("error text from perf yields no rows", () => {
  const text = "Error:\nAccess to performance monitoring and observability operations is limited.\n";
  assert.deepEqual(parsePerfStat(text, "interval"), []);
  assert.equal(
    summarizePerf([], 1).note,
    "cycles not reported by perf; instructions not reported by perf; task-clock not reported by perf",
  );
});
