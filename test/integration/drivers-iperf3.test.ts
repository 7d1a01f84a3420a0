import assert from "node:assert/strict";
import { test } from "node:test";
import type { Traffic } from "../../src/domain/traffic.js";
import { driverFor } from "../../src/drivers/registry.js";
import { LocalEndpoint } from "../../src/endpoints/local.js";

const local = new LocalEndpoint();
const path = { client: local, server: local, serverAddress: "127.0.0.1" };
const traffic = (extra: Partial<Traffic>): Traffic => ({
  protocol: "tcp",
  pattern: "stream",
  requestSize: 131072,
  responseSize: 131072,
  rate: "max",
  durationS: 1,
  warmupS: 0,
  driver: "iperf3",
  ...extra,
});

test("iperf3 over loopback: tcp stream and maerts, udp at a rate, bidirectional", async () => {
  const driver = driverFor("iperf3");
  await driver.check(path);
  const session = await driver.prepare(path);
  try {
    const [stream] = await session.runTrial(traffic({ warmupS: 1 }));
    assert.ok(stream!.throughputMbps > 100, `tcp stream at ${stream!.throughputMbps} Mbit/s`);
    assert.ok(stream!.tool?.iperf3CpuPercent);
    console.log(`iperf3 tcp stream: ${Math.round(stream!.throughputMbps)} Mbit/s`);
    const [maerts] = await session.runTrial(traffic({ pattern: "maerts" }));
    assert.ok(maerts!.bytesReceived > 0);
    const [udp] = await session.runTrial(
      traffic({ protocol: "udp", requestSize: 1400, responseSize: 1400, rate: 5000 }),
    );
    assert.ok(Math.abs(udp!.messagesSent - 5000) < 500, `udp sent ${udp!.messagesSent}`);
    assert.ok(udp!.loss.ratio < 0.01);
    const both = await session.runTrial(traffic({}), { direction: "bidirectional" });
    assert.deepEqual(
      both.map((sample) => sample.direction),
      ["forward", "reverse"],
    );
  } finally {
    await session.close();
  }
});
