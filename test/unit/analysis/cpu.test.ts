import assert from "node:assert/strict";
import { test } from "node:test";
import { type CpuSummary, mergeCpuSummaries } from "../../../src/analysis/cpu.js";

function trial(hostSeconds: number, wallSeconds: number, extra: Partial<CpuSummary> = {}): CpuSummary {
  return {
    hostSeconds,
    byCategory: {
      user: hostSeconds / 2,
      nice: 0,
      system: hostSeconds / 4,
      irq: 0,
      softirq: hostSeconds / 4,
      steal: 0,
    },
    generatorSeconds: 0.1,
    perWallSecond: hostSeconds / wallSeconds,
    steal: { seconds: 0, fraction: 0, flagged: false },
    wallSeconds,
    onlineCpus: 2,
    processes: { qemu: hostSeconds / 2 },
    netRxSoftirqs: 100,
    netTxSoftirqs: 10,
    interrupts: 50,
    cycles: null,
    effectiveMhz: null,
    perfNote: "cycles not supported on this machine",
    warnings: [],
    ...extra,
  };
}

test("a cell sums seconds and recomputes the rate from the sums, not the mean of rates", () => {
  // Rates 1.0 and 0.25 average to 0.625, but 3 CPU-s over 5 s is 0.6.
  const merged = mergeCpuSummaries([trial(1, 1), trial(2, 4)]);
  assert.equal(merged.hostSeconds, 3);
  assert.equal(merged.perWallSecond, 0.6);
  assert.equal(merged.byCategory.user, 1.5);
  assert.equal(merged.generatorSeconds, 0.2);
  assert.deepEqual(merged.processes, { qemu: 1.5 });
  assert.equal(merged.netRxSoftirqs, 200);
  assert.equal(merged.cycles, null);
  assert.equal(merged.perfNote, "cycles not supported on this machine");
});

test("steal is summed over capacity and flagged when any trial was", () => {
  const merged = mergeCpuSummaries([
    trial(1, 1, { steal: { seconds: 0.1, fraction: 0.05, flagged: true } }),
    trial(1, 1, {
      steal: { seconds: 0.02, fraction: 0.01, flagged: false },
      warnings: ["cpu1 went offline"],
    }),
  ]);
  assert.ok(Math.abs(merged.steal.seconds - 0.12) < 1e-12);
  assert.ok(Math.abs(merged.steal.fraction - 0.03) < 1e-12);
  assert.equal(merged.steal.flagged, true);
  assert.deepEqual(merged.warnings, ["cpu1 went offline"]);
});

test("cycles merge when every trial counted them, with MHz from the sums", () => {
  const merged = mergeCpuSummaries([
    trial(1, 1, { cycles: 2.6e9, perfNote: null }),
    trial(3, 1, { cycles: 7.8e9, perfNote: null }),
  ]);
  assert.equal(merged.cycles, 10.4e9);
  assert.equal(merged.effectiveMhz, 2600);
  assert.equal(mergeCpuSummaries([trial(1, 1, { cycles: 1e9 }), trial(1, 1)]).cycles, null);
  assert.throws(() => mergeCpuSummaries([]), /zero trials/);
});
