import assert from "node:assert/strict";
import { test } from "node:test";
import { parseSchedstat, parseTaskStat } from "../../../src/monitors/task-stat.js";
import { fixture } from "./fixtures.js";

test("parses a real thread stat line", () => {
  assert.deepEqual(parseTaskStat(fixture("task/6558-6558.stat")), {
    tid: 6558,
    name: "node",
    state: "S",
    utimeTicks: 20,
    stimeTicks: 0,
    processor: 0,
  });
});

test("a name holding parentheses and spaces is read whole", () => {
  const stat = parseTaskStat(fixture("task/odd-name.stat"));
  assert.equal(stat.name, "w) (x y");
  assert.equal(stat.utimeTicks, 5);
  assert.equal(stat.processor, 1);
});

test("kernel threads parse too", () => {
  const stat = parseTaskStat(fixture("task/kworker.stat"));
  assert.equal(stat.name, "kworker/0:0H-kblockd");
  assert.equal(stat.state, "I");
});

test("parses real schedstat lines (ns run, ns wait, timeslices)", () => {
  assert.deepEqual(parseSchedstat(fixture("task/6558-6558.schedstat")), {
    runNs: 211027060,
    waitNs: 1061234,
    timeslices: 11,
  });
});

test("malformed lines are refused with what was read", () => {
  assert.throws(() => parseTaskStat("garbage"), /not a \/proc stat line: "garbage"/);
  assert.throws(() => parseTaskStat("1 (x) S 2"), /no numeric field 14/);
  assert.throws(() => parseSchedstat("12 abc"), /not a schedstat line/);
});
