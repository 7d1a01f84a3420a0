import assert from "node:assert/strict";
import { test } from "node:test";
import { perfSupportOf } from "../../../src/monitors/perf-probe.js";

test("perf counts cycles only where the probe counted them, else says why", () => {
  const counted = "2096033,,cycles,1000,100.00,,\n1000,,instructions,1000,100.00,0.5,insn per cycle\n";
  assert.deepEqual(perfSupportOf({ code: 0, stderr: counted }, 2, "local"), { counts: true, reason: null });
  const vm = "<not supported>,,cycles,0,100.00,,\n<not supported>,,instructions,0,100.00,,\n";
  assert.match(perfSupportOf({ code: 0, stderr: vm }, -1, "local").reason!, /cycles not supported on local/);
  const denied = "Error:\nAccess to performance monitoring and observability operations is limited.\n";
  const why = perfSupportOf({ code: 255, stderr: denied }, 3, "hv1");
  assert.equal(why.counts, false);
  assert.match(why.reason!, /failed on hv1: Access to performance monitoring .*perf_event_paranoid is 3/);
});
