import assert from "node:assert/strict";
import { test } from "node:test";
import type { Traffic } from "../../src/domain/traffic.js";
import { driverFor } from "../../src/drivers/registry.js";
import { LocalEndpoint } from "../../src/endpoints/local.js";

const local = new LocalEndpoint();
const path = { client: local, server: local, serverAddress: "127.0.0.1" };
const traffic = (extra: Partial<Traffic>): Traffic => ({
  protocol: "icmp",
  pattern: "rr",
  requestSize: 56,
  responseSize: 56,
  rate: 200,
  durationS: 1,
  warmupS: 0,
  driver: "ping",
  ...extra,
});

test("ping over loopback: paced, adaptive and flood", async () => {
  const driver = driverFor("ping");
  await driver.check(path);
  const session = await driver.prepare(path);
  try {
    const [paced] = await session.runTrial(traffic({ warmupS: 1 }));
    assert.equal(paced!.driver, "ping");
    assert.equal(paced!.loss.sent, 200);
    assert.equal(paced!.loss.received, 200);
    assert.ok(paced!.latencyUs && paced!.latencyUs.p50 > 0 && paced!.latencyUs.p50 < 1000);
    assert.ok(paced!.histogram);
    const [adaptive] = await session.runTrial(traffic({ rate: "max" }));
    assert.ok(adaptive!.messagesPerSecond > 1000, `adaptive ping ran ${adaptive!.messagesPerSecond}/s`);
    assert.ok(adaptive!.latencyUs);
    const [flood] = await session.runTrial(traffic({ pattern: "flood", rate: "max" }));
    assert.ok(flood!.messagesReceived > 1000);
    assert.equal(flood!.latencyUs, null);
    assert.ok(flood!.tool?.["rttUs"]);
  } finally {
    await session.close();
  }
});
