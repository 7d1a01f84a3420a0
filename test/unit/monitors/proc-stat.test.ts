import assert from "node:assert/strict";
import { test } from "node:test";
import { parseProcStat } from "../../../src/monitors/proc-stat.js";
import { fixture } from "./fixtures.js";

test("parses every cpu line of a real /proc/stat", () => {
  const stat = parseProcStat(fixture("stat-a.txt"));
  assert.deepEqual([...stat.cpus.keys()], [0, 1]);
  assert.deepEqual(stat.cpus.get(1), {
    user: 7382,
    nice: 0,
    system: 1207,
    idle: 37427,
    iowait: 215,
    irq: 0,
    softirq: 169,
    steal: 5,
    guest: 0,
    guestNice: 0,
  });
  assert.equal(stat.total.idle, 81133);
  // The aggregate line is the CPUs' sum, converted to ticks separately: off by a tick of rounding.
  assert.ok(Math.abs(stat.total.user - (stat.cpus.get(0)!.user + stat.cpus.get(1)!.user)) <= 1);
});

test("an offline CPU is simply absent", () => {
  const stat = parseProcStat(fixture("stat-c-cpu1-offline.derived.txt"));
  assert.deepEqual([...stat.cpus.keys()], [0]);
});

test("old kernels without steal/guest columns read as zero", () => {
  const stat = parseProcStat("cpu  10 0 5 100\ncpu0 10 0 5 100\n");
  assert.equal(stat.cpus.get(0)!.steal, 0);
  assert.equal(stat.cpus.get(0)!.idle, 100);
});

test("text that is not /proc/stat is refused with a clear error", () => {
  assert.throws(() => parseProcStat("MemTotal: 1 kB\n"), /no aggregate 'cpu' line/);
  assert.throws(() => parseProcStat("cpu  1 x 3 4\n"), /nice is not a number/);
});
