import assert from "node:assert/strict";
import { test } from "node:test";
import { hostCpuFromSamples } from "../../../src/monitors/host-cpu.js";
import { parseProcStat } from "../../../src/monitors/proc-stat.js";
import { fixture } from "./fixtures.js";

const a = parseProcStat(fixture("stat-a.txt"));
const b = parseProcStat(fixture("stat-b.txt"));
const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `expected ${expected}, got ${actual}`);

test("busy = wall × CPUs − Δidle, split by tick proportions (real snapshots 1 s apart)", () => {
  const host = hostCpuFromSamples(
    [
      { t: 0, stat: a },
      { t: 1, stat: b },
    ],
    100,
  );
  // cpu0: idle +93 ticks → 0.07 s busy, all 7 busy ticks user; cpu1: idle +99 → 0.01 s, 1 tick system.
  close(host.perCpu[0]!.seconds, 0.07);
  close(host.perCpu[0]!.byCategory.user, 0.07);
  close(host.perCpu[1]!.seconds, 0.01);
  close(host.perCpu[1]!.byCategory.system, 0.01);
  close(host.hostSeconds, 0.08);
  close(host.byCategory.user + host.byCategory.system, 0.08);
  assert.equal(host.onlineCpus, 2);
  assert.deepEqual(host.warnings, []);
});

test("busy comes from idle, not from the busy columns: a bursty load with few ticks is still counted", () => {
  const before = parseProcStat("cpu 0 0 0 0 0 0 0 0 0 0\ncpu0 100 0 100 1000 0 0 0 0 0 0\n");
  // 0.5 s busy (50 idle ticks of 100 missing) but only 20 busy ticks were sampled: 3 user, 1 system.
  const after = parseProcStat("cpu 0 0 0 0 0 0 0 0 0 0\ncpu0 115 0 105 1050 0 0 0 0 0 0\n");
  const host = hostCpuFromSamples(
    [
      { t: 0, stat: before },
      { t: 1, stat: after },
    ],
    100,
  );
  close(host.hostSeconds, 0.5);
  close(host.byCategory.user, 0.375);
  close(host.byCategory.system, 0.125);
});

test("steal is taken as measured and the rest is split; guest is never added", () => {
  const before = parseProcStat("cpu 0 0 0 0 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\n");
  const after = parseProcStat("cpu 0 0 0 0 0 0 0 0 0 0\ncpu0 40 0 20 20 0 0 0 20 30 0\n");
  const host = hostCpuFromSamples(
    [
      { t: 0, stat: before },
      { t: 1, stat: after },
    ],
    100,
  );
  close(host.hostSeconds, 0.8);
  close(host.byCategory.steal, 0.2);
  close(host.byCategory.user, 0.4);
  close(host.byCategory.system, 0.2);
  close(host.stealSeconds, 0.2);
});

test("iowait is idle time, not busy", () => {
  const before = parseProcStat("cpu 0 0 0 0 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\n");
  const after = parseProcStat("cpu 0 0 0 0 0 0 0 0 0 0\ncpu0 10 0 0 60 30 0 0 0 0 0\n");
  const host = hostCpuFromSamples(
    [
      { t: 0, stat: before },
      { t: 1, stat: after },
    ],
    100,
  );
  close(host.hostSeconds, 0.1);
  close(host.iowaitSeconds, 0.3);
});

test("a CPU going offline counts until its last sample and is flagged, without crashing", () => {
  const offline = parseProcStat(fixture("stat-c-cpu1-offline.derived.txt"));
  const host = hostCpuFromSamples(
    [
      { t: 0, stat: a },
      { t: 1, stat: b },
      { t: 2, stat: offline },
    ],
    100,
  );
  assert.equal(host.onlineCpus, 2);
  close(host.perCpu[1]!.onlineSeconds, 1);
  close(host.perCpu[1]!.seconds, 0.01);
  // c repeats b's counters for cpu0: no idle in that second, so all of it was busy.
  close(host.perCpu[0]!.seconds, 1.07);
  close(host.capacitySeconds, 3);
  assert.deepEqual(host.warnings, ["cpu1 went offline between 1.00 s and 2.00 s"]);
});

test("a counter going backwards is flagged and does not count twice when it recovers", () => {
  const back = parseProcStat(fixture("stat-c-idle-backwards.derived.txt"));
  const host = hostCpuFromSamples(
    [
      { t: 0, stat: a },
      { t: 1, stat: b },
      { t: 1.5, stat: back },
      { t: 2, stat: b },
    ],
    100,
  );
  // cpu0 idle: a→b +93, then 43799 → 43798 → 43799 is no progress at all.
  close(host.perCpu[0]!.idleSeconds, 0.93);
  assert.deepEqual(host.warnings, ["cpu0 idle counter went backwards by 1 ticks at 1.50 s"]);
});

test("a CPU coming online is counted from the sample that first shows it", () => {
  const offline = parseProcStat(fixture("stat-c-cpu1-offline.derived.txt"));
  const host = hostCpuFromSamples(
    [
      { t: 0, stat: offline },
      { t: 1, stat: b },
    ],
    100,
  );
  assert.equal(host.onlineCpus, 1);
  assert.equal(host.perCpu.length, 2);
  close(host.perCpu[1]!.onlineSeconds, 0);
  assert.match(host.warnings[0]!, /cpu1 came online/);
});

test("fewer than two samples is an error", () => {
  assert.throws(() => hostCpuFromSamples([{ t: 0, stat: a }], 100), /at least two/);
});
