import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CLOCK_JUMP_TOLERANCE_MS,
  missingData,
  otherLoadVerdict,
  parseLoadLimit,
  trialFlags,
} from "../../../src/run/trial-checks.js";
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

test("other processes' load: warned about above 25 % without a limit, flagged only above --max-other-load", () => {
  assert.equal(otherLoadVerdict(0.2, undefined), null);
  assert.equal(otherLoadVerdict(0.3, undefined), "warn");
  assert.equal(otherLoadVerdict(0.3, 0.5), null);
  assert.equal(otherLoadVerdict(0.06, 0.05), "flag");
  const otherLoad = { seconds: 1.2, fraction: 0.3, top: [{ pid: 7, comm: "tsc", seconds: 1.1 }] };
  const observed = {
    traffic: TRAFFIC,
    samples: [good],
    cpu: { ...cpuSummary(1), otherLoad },
    wallMs: 1000,
    monotonicMs: 1000,
  };
  assert.deepEqual(trialFlags(observed), [], "no limit: not flagged (a busy CI machine keeps its trials)");
  assert.deepEqual(trialFlags({ ...observed, maxOtherLoad: 0.2 }), [
    {
      reason: "other-load",
      detail: "other processes used 30.0 % of the host's CPU capacity: tsc (pid 7) 1.10 s (limit 20 %)",
    },
  ]);
});

test("--max-other-load takes a percentage", () => {
  assert.equal(parseLoadLimit("20%"), 0.2);
  assert.equal(parseLoadLimit("5"), 0.05);
  for (const bad of ["0%", "150%", "x", "-3%", ""])
    assert.throws(() => parseLoadLimit(bad), /--max-other-load: '.*' is not a share of the host's CPU/);
});
