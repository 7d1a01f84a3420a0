// The field's tools over a real netns-lab path (host-to-guest), and `doctor` on that lab.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Traffic } from "../../src/domain/traffic.js";
import { driverFor } from "../../src/drivers/registry.js";
import { type Lab, labDown, labUp } from "../../src/labs/netns-lab.js";
import { resolveNetworkSetup } from "../../src/setups/network.js";
import { runCli } from "../helpers/cli.js";
import { trafficOf } from "../helpers/traffic.js";

const LAB = "vnbt6";
const root = process.getuid?.() === 0;
let lab: Lab;
before(async () => {
  if (root) lab = await labUp({ name: LAB, baseSubnet: "10.233.0.0/16", force: true });
});
after(async () => {
  if (root) await labDown(LAB);
});

const base = trafficOf({ protocol: "udp" });

const cases: Array<[string, Partial<Traffic>]> = [
  ["ping", { protocol: "icmp", pattern: "rr", rate: 200 }],
  ["sockperf", { protocol: "udp", pattern: "rr" }],
  ["iperf3", { protocol: "tcp", pattern: "stream", requestSize: 131072, responseSize: 131072 }],
];

for (const [driverName, traffic] of cases) {
  test(`${driverName} over host-to-guest on the lab`, { skip: !root && "needs root" }, async () => {
    const driver = driverFor(driverName as Traffic["driver"]);
    const path = resolveNetworkSetup("host-to-guest", { lab });
    await driver.check(path);
    const session = await driver.prepare(path);
    try {
      const [sample] = await session.runTrial({
        ...base,
        ...traffic,
        driver: driverName as Traffic["driver"],
      });
      assert.equal(sample!.driver, driverName);
      assert.ok(sample!.messagesReceived > 0, `${sample!.messagesReceived} messages received`);
      assert.ok(sample!.durationS > 0);
      if (traffic.pattern === "stream")
        assert.ok(sample!.throughputMbps > 10, `${sample!.throughputMbps} Mb/s`);
      else {
        assert.ok(sample!.latencyUs && sample!.latencyUs.p50 > 0, "latency recorded");
        assert.ok(sample!.histogram, "per-message histogram kept");
        assert.equal(sample!.loss.ratio, 0);
      }
    } finally {
      await session.close();
    }
  });
}

test("doctor lists, per lab endpoint, what is usable and why not", {
  skip: !root && "needs root",
}, async () => {
  const result = await runCli(["doctor", "--lab", LAB, "--json"]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout) as Array<{
    endpoint: string;
    role: string;
    capabilities: Array<{ name: string; usable: boolean; detail: string }>;
  }>;
  assert.deepEqual(report.map((entry) => entry.endpoint).sort(), ["ext", "g1", "g2", "g3", "host1", "host2"]);
  for (const entry of report) {
    const byName = new Map(entry.capabilities.map((c) => [c.name, c]));
    assert.equal(byName.get("driver:builtin")?.usable, true, entry.endpoint);
    assert.equal(byName.get("driver:iperf3")?.usable, true);
    assert.equal(byName.get("monitor:proc-stat")?.usable, true);
    const netperf = byName.get("driver:netperf")!;
    if (!netperf.usable) assert.match(netperf.detail, /netperf/);
    const perf = byName.get("monitor:perf-cycles")!;
    if (!perf.usable) assert.match(perf.detail, /cycles|perf/);
  }
});
