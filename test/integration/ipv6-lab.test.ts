// Every setup of the netns lab over IPv6 as well as IPv4: the lab assigns both, the built-in
// engine, iperf3 and ping (-6) are given the IPv6 addresses, and the packets really are IPv6.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runBenchmark } from "../../src/api.js";
import type { Traffic } from "../../src/domain/traffic.js";
import { builtinDriver } from "../../src/drivers/builtin/driver.js";
import { pathOverIp } from "../../src/drivers/driver.js";
import type { Endpoint } from "../../src/endpoints/endpoint.js";
import { type Lab, labDown, labUp } from "../../src/labs/netns-lab.js";
import { NETWORK_SETUPS, resolveNetworkSetup } from "../../src/setups/network.js";

const LAB = "vnbt6";
const root = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), "vnb-ipv6-"));
let lab: Lab;

before(async () => {
  if (root) lab = await labUp({ name: LAB, baseSubnet: "10.232.0.0/16", force: true });
});
after(async () => {
  if (root) await labDown(LAB);
  rmSync(dir, { recursive: true, force: true });
});

const timing = { duration: "0.3", warmup: "0.1", trials: 1 } as const;

test("every setup runs over IPv6 and IPv4 with the built-in engine; v4 cells keep their keys", {
  skip: !root && "needs root",
}, async () => {
  const view = await runBenchmark({
    db: join(dir, "v6.db"),
    lab: LAB,
    setup: NETWORK_SETUPS.join(","),
    protocol: "tcp,udp",
    pattern: "rr",
    ip: "4,6",
    ...timing,
  });
  assert.equal(view.status, "completed");
  assert.equal(view.cells.length, NETWORK_SETUPS.length * 2 * 2);
  for (const cell of view.cells) {
    const trial = cell.trials[0]!;
    assert.equal(trial.status, "completed", `${cell.key}: ${trial.error}`);
    assert.ok(trial.samples[0]!.messagesPerSecond > 0, cell.key);
    assert.equal(cell.key.endsWith(" ip=6"), cell.traffic.ip === 6, cell.key);
  }
});

test("iperf3 and ping -6 over IPv6 on the lab", { skip: !root && "needs root" }, async () => {
  const db = join(dir, "tools.db");
  const iperf3 = await runBenchmark({
    db,
    lab: LAB,
    setup: "host-to-guest,guest-to-guest-remote",
    driver: "iperf3",
    pattern: "stream",
    size: "16k",
    ip: "6",
    duration: "1",
    warmup: "0",
    trials: 1,
  });
  assert.equal(iperf3.status, "completed");
  for (const cell of iperf3.cells) assert.ok(cell.trials[0]!.samples[0]!.bytesReceived > 1e6, cell.key);
  const ping = await runBenchmark({
    db,
    lab: LAB,
    setup: "ext-to-guest",
    driver: "ping",
    protocol: "icmp",
    pattern: "rr",
    rate: "50",
    ip: "6",
    duration: "1",
    warmup: "0",
    trials: 1,
  });
  assert.equal(ping.status, "completed", JSON.stringify(ping.cells[0]?.trials[0]?.error));
  assert.ok(ping.cells[0]!.trials[0]!.samples[0]!.messagesReceived >= 40);
});

/** IPv6 packets a node's kernel received (Ip6InReceives of /proc/net/snmp6 in its namespace). */
async function ip6Received(endpoint: Endpoint): Promise<number> {
  const { stdout } = await endpoint.exec(["cat", "/proc/net/snmp6"]);
  const match = /^Ip6InReceives\s+(\d+)$/m.exec(stdout);
  assert.ok(match, "Ip6InReceives in /proc/net/snmp6");
  return Number(match[1]);
}

test("an ip 6 trial's packets are IPv6: the guest's kernel counts them", {
  skip: !root && "needs root",
}, async () => {
  const path = pathOverIp(resolveNetworkSetup("host-to-guest", { lab }), 6);
  assert.equal(path.serverAddress, lab.topology.addresses6.g1);
  const traffic: Traffic = {
    protocol: "udp",
    pattern: "rr",
    requestSize: 64,
    responseSize: 64,
    rate: "max",
    durationS: 0.3,
    warmupS: 0,
    driver: "builtin",
    ip: 6,
  };
  const session = await builtinDriver.prepare(path);
  try {
    const before = await ip6Received(path.server);
    const [sample] = await session.runTrial(traffic);
    const moved = (await ip6Received(path.server)) - before;
    assert.ok(sample!.messagesReceived > 100);
    assert.ok(
      moved >= sample!.messagesReceived,
      `${moved} IPv6 packets for ${sample!.messagesReceived} requests`,
    );
  } finally {
    await session.close();
  }
});
