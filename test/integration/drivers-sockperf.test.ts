import assert from "node:assert/strict";
import { test } from "node:test";
import type { Traffic } from "../../src/domain/traffic.js";
import { driverFor } from "../../src/drivers/registry.js";
import { LocalEndpoint } from "../../src/endpoints/local.js";

const local = new LocalEndpoint();
const path = { client: local, server: local, serverAddress: "127.0.0.1" };
const traffic = (extra: Partial<Traffic>): Traffic => ({
  protocol: "udp",
  pattern: "rr",
  requestSize: 64,
  responseSize: 64,
  rate: "max",
  durationS: 1,
  warmupS: 0,
  driver: "sockperf",
  ...extra,
});

test("sockperf over loopback: udp and tcp ping-pong, under-load, throughput", async () => {
  const driver = driverFor("sockperf");
  await driver.check(path);
  const session = await driver.prepare(path);
  try {
    assert.equal(session.generatorProcesses?.().length, 2);
    for (const protocol of ["udp", "tcp"] as const) {
      const [rr] = await session.runTrial(traffic({ protocol, warmupS: 1 }));
      assert.ok(rr!.messagesReceived > 100, `${protocol} rr received ${rr!.messagesReceived}`);
      assert.ok(rr!.latencyUs && rr!.latencyUs.p50 > 0 && rr!.latencyUs.p99 >= rr!.latencyUs.p50);
      assert.ok(rr!.histogram);
      console.log(
        `sockperf ${protocol} rr: p50 ${rr!.latencyUs.p50} µs, p99 ${rr!.latencyUs.p99} µs, ${Math.round(rr!.messagesPerSecond)}/s`,
      );
    }
    const [paced] = await session.runTrial(traffic({ pattern: "paced", rate: 2000 }));
    assert.ok(Math.abs(paced!.messagesPerSecond - 2000) < 200, `paced at ${paced!.messagesPerSecond}/s`);
    assert.equal(paced!.loss.ratio, 0);
    const [stream] = await session.runTrial(
      traffic({ protocol: "tcp", pattern: "stream", requestSize: 1400, responseSize: 1400 }),
    );
    assert.ok(stream!.throughputMbps > 10);
  } finally {
    await session.close();
  }
});

test("sockperf: a client towards a closed port fails naming sockperf", async () => {
  const driver = driverFor("sockperf");
  const session = await driver.prepare(path);
  await session.close();
  await assert.rejects(session.runTrial(traffic({ protocol: "tcp" })), /sockperf: .*Connection refused/);
});
