import assert from "node:assert/strict";
import { test } from "node:test";
import { buildTimeline, downsampleTimeline } from "../../../src/monitors/timeline.js";

const host = [1, 2, 3, 4, 5].map((i) => ({ t: i * 0.1, dt: 0.1, hostSeconds: 0.01 * i }));
const attributed = host.map((_, i) => ({ generator: 0.001 * i, qemu: 0.002 }));

test("joins host intervals with attributed seconds, the generator apart", () => {
  const timeline = buildTimeline(host, attributed, "generator");
  assert.deepEqual(timeline[2], {
    t: 0.30000000000000004,
    dt: 0.1,
    hostSeconds: 0.03,
    generatorSeconds: 0.002,
    processes: { qemu: 0.002 },
  });
});

test("downsampling merges neighbours and keeps the sums", () => {
  const merged = downsampleTimeline(buildTimeline(host, attributed, "generator"), 2);
  assert.equal(merged.length, 2);
  assert.equal(merged[0]!.t, 0.30000000000000004);
  assert.ok(Math.abs(merged[0]!.dt - 0.3) < 1e-12);
  assert.ok(Math.abs(merged[0]!.hostSeconds + merged[1]!.hostSeconds - 0.15) < 1e-12);
  assert.ok(Math.abs(merged[1]!.processes["qemu"]! - 0.004) < 1e-12);
  assert.equal(
    downsampleTimeline(
      host.map((h) => ({ ...h, generatorSeconds: 0, processes: {} })),
      10,
    ).length,
    5,
  );
});
