import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeHistogram, newLatencyHistogram, recordNs } from "../../../../src/analysis/latency.js";
import { lossOf, type Sample } from "../../../../src/domain/sample.js";
import { mergeFlows, runFlows, seriesIntervalMs } from "../../../../src/drivers/builtin/flows.js";
import type { PatternContext } from "../../../../src/drivers/builtin/trial.js";

function flow(latencyUs: number, count: number, mbps: number, extra: Partial<Sample> = {}): Sample {
  const histogram = newLatencyHistogram();
  for (let i = 0; i < count; i++) recordNs(histogram, latencyUs * 1000);
  return {
    driver: "builtin",
    direction: "forward",
    durationS: 1,
    messagesSent: count,
    messagesReceived: count,
    bytesSent: count * 64,
    bytesReceived: count * 64,
    messagesPerSecond: count,
    throughputMbps: mbps,
    latencyUs: null,
    histogram: encodeHistogram(histogram),
    loss: lossOf(count, count),
    lateness: null,
    generatorLimited: false,
    warnings: [],
    ...extra,
  };
}

test("parallel flows: counts and rates summed, histograms merged (not percentiles averaged), each flow kept", () => {
  const merged = mergeFlows([
    flow(10, 900, 100),
    flow(1000, 100, 50, { generatorLimited: true, warnings: ["slow"], durationS: 1.2 }),
  ]);
  assert.equal(merged.messagesReceived, 1000);
  assert.equal(merged.bytesReceived, 64_000);
  assert.equal(merged.messagesPerSecond, 1000);
  assert.equal(merged.throughputMbps, 150);
  assert.equal(merged.durationS, 1.2);
  // 90 % of the messages took 10 µs: the merged p50 is 10 µs and p99 1 ms; an average of the
  // flows' p50s would say 505 µs.
  assert.ok(Math.abs(merged.latencyUs!.p50 - 10) < 0.05, `p50 ${merged.latencyUs!.p50}`);
  assert.ok(Math.abs(merged.latencyUs!.p99 - 1000) < 1, `p99 ${merged.latencyUs!.p99}`);
  assert.equal(merged.generatorLimited, true);
  assert.deepEqual(merged.warnings, ["flow 2: slow"]);
  assert.deepEqual(
    merged.flows!.map((f) => [f.flow, f.messagesReceived, f.throughputMbps]),
    [
      [1, 900, 100],
      [2, 100, 50],
    ],
  );
});

test("udp flows: loss from summed counts, socket drops summed", () => {
  const a = flow(10, 90, 1, { messagesSent: 100, loss: { ...lossOf(100, 90), socketDrops: 4 } });
  const b = flow(10, 100, 1, { messagesSent: 100, loss: { ...lossOf(100, 100), socketDrops: 0 } });
  const merged = mergeFlows([a, b]);
  assert.equal(merged.loss.sent, 200);
  assert.equal(merged.loss.received, 190);
  assert.equal(merged.loss.ratio, 0.05);
  assert.equal(merged.loss.socketDrops, 4);
});

test("runFlows starts one session per flow at once, sharing one series; one flow stays as it is", async () => {
  const ctx = {
    agent: {} as PatternContext["agent"],
    host: "127.0.0.1",
    traffic: {
      protocol: "tcp",
      pattern: "rr",
      requestSize: 64,
      responseSize: 64,
      rate: "max",
      durationS: 0.05,
      warmupS: 0,
      driver: "builtin",
      flows: 3,
    },
  } as const;
  const seen: PatternContext[] = [];
  let running = 0;
  let most = 0;
  const merged = await runFlows(ctx, async (flowCtx) => {
    seen.push(flowCtx);
    running++;
    most = Math.max(most, running);
    await new Promise((resolve) => setTimeout(resolve, 60));
    running--;
    return flow(10, 10, 1);
  });
  assert.equal(seen.length, 3);
  assert.equal(most, 3, "the flows ran at the same time");
  assert.ok(seen.every((c) => c.series && c.series === seen[0]!.series));
  assert.equal(merged.flows!.length, 3);
  assert.equal(merged.messagesReceived, 30);
  assert.ok(Array.isArray(merged.series));
  const single = await runFlows({ ...ctx, traffic: { ...ctx.traffic, flows: 1 } }, async () =>
    flow(10, 10, 1),
  );
  assert.equal(single.flows, undefined);
});

test("a long trial's series interval grows so that it keeps at most 600 points", () => {
  assert.equal(seriesIntervalMs(5), 100);
  assert.equal(seriesIntervalMs(60), 100);
  assert.equal(seriesIntervalMs(600), 1000);
});
