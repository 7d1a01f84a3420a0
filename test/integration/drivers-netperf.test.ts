import assert from "node:assert/strict";
import { test } from "node:test";
import type { Traffic } from "../../src/domain/traffic.js";
import { driverFor } from "../../src/drivers/registry.js";
import { LocalEndpoint } from "../../src/endpoints/local.js";
import { execCommand } from "../../src/util/process.js";
import { trafficOf } from "../helpers/traffic.js";

const local = new LocalEndpoint();
const path = { client: local, server: local, serverAddress: "127.0.0.1" };
const traffic = (extra: Partial<Traffic>): Traffic => trafficOf({ warmupS: 0, driver: "netperf", ...extra });

const present = await execCommand(["netperf", "-V"], { allowFailure: true }).then(
  () => true,
  () => false,
);
const skip = present ? false : "netperf is not on PATH (not in Debian main; build netperf 2.7 from source)";

test("netperf check says how to get it when missing", {
  skip: present ? "netperf is installed" : false,
}, async () => {
  await assert.rejects(driverFor("netperf").check(path), /netperf: .*not in Debian main/);
});

test("netperf over loopback: TCP_RR, TCP_CRR, TCP_STREAM", { skip }, async () => {
  const driver = driverFor("netperf");
  await driver.check(path);
  const session = await driver.prepare(path);
  try {
    const [rr] = await session.runTrial(traffic({}));
    assert.ok(rr!.messagesPerSecond > 100);
    assert.ok(rr!.tool?.latencyUs);
    const [crr] = await session.runTrial(traffic({ pattern: "crr" }));
    assert.ok(crr!.messagesPerSecond > 10);
    const [stream] = await session.runTrial(
      traffic({ pattern: "stream", requestSize: 16384, responseSize: 16384 }),
    );
    assert.ok(stream!.throughputMbps > 10);
  } finally {
    await session.close();
  }
});
