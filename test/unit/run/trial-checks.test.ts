import assert from "node:assert/strict";
import { test } from "node:test";
import { CLOCK_JUMP_TOLERANCE_MS, missingData, trialFlags } from "../../../src/run/trial-checks.js";
import { cpuSummary, sampleOf, TRAFFIC } from "../report/run-fixture.js";

const good = sampleOf({ latencyUs: 50 });

test("a trial with no samples, or samples that delivered nothing, is a failure with its reason", () => {
  assert.match(missingData([]) ?? "", /no samples/);
  const empty = { ...good, messagesReceived: 0, bytesReceived: 0 };
  assert.match(missingData([empty, empty]) ?? "", /nothing delivered/);
  assert.equal(missingData([empty, good]), null);
});

test("a clean trial has no flag; NTP slewing (500 ppm) is no clock jump", () => {
  const observed = {
    traffic: TRAFFIC,
    samples: [good],
    cpu: cpuSummary(1),
    wallMs: 60_030,
    monotonicMs: 60_000,
  };
  assert.deepEqual(trialFlags(observed), []);
});

test("generator-limited, steal and a stepped clock each flag the trial with what was seen", () => {
  const limited = { ...good, generatorLimited: true, lateness: { p50Us: 10, p99Us: 812.4, maxUs: 900 } };
  const steal = { ...cpuSummary(1), steal: { seconds: 0.4, fraction: 0.05, flagged: true } };
  const flags = trialFlags({
    traffic: TRAFFIC,
    samples: [limited],
    cpu: steal,
    wallMs: 5000 + CLOCK_JUMP_TOLERANCE_MS + 50,
    monotonicMs: 5000 - 50,
  });
  assert.deepEqual(
    flags.map((flag) => flag.reason),
    ["generator-limited", "steal", "clock-jump"],
  );
  assert.match(flags[0]!.detail, /lateness p99 812 µs/);
  assert.match(flags[1]!.detail, /5\.0 % of CPU time/);
  assert.match(flags[2]!.detail, /moved 200 ms/);
  // A clock stepped backwards is a jump too.
  assert.equal(
    trialFlags({ traffic: TRAFFIC, samples: [good], wallMs: 1000, monotonicMs: 2000 })[0]?.reason,
    "clock-jump",
  );
});

test("a peak cell's search reports a limited generator itself: not flagged for it", () => {
  const limited = { ...good, generatorLimited: true };
  assert.deepEqual(
    trialFlags({ traffic: { ...TRAFFIC, rate: "peak" }, samples: [limited], wallMs: 10, monotonicMs: 10 }),
    [],
  );
});
