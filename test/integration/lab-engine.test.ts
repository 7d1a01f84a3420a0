// The built-in engine over every named setup of a real netns lab: each path carries the traffic
// over the interfaces it claims to cross, and a run on the lab reports its setup per cell.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runBenchmark } from "../../src/api.js";
import type { Traffic } from "../../src/domain/traffic.js";
import { builtinDriver } from "../../src/drivers/builtin/driver.js";
import { readInterfaceBytes } from "../../src/endpoints/counters.js";
import { type Lab, labDown, labUp } from "../../src/labs/netns-lab.js";
import { NETWORK_SETUPS, resolveNetworkSetup } from "../../src/setups/network.js";

const LAB = "vnbt2e";
const root = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), "vnb-lab-engine-"));
let lab: Lab;

before(async () => {
  if (root) lab = await labUp({ name: LAB, baseSubnet: "10.231.0.0/16", force: true });
});
after(async () => {
  if (root) await labDown(LAB);
  rmSync(dir, { recursive: true, force: true });
});

const stream: Traffic = {
  protocol: "tcp",
  pattern: "stream",
  requestSize: 16384,
  responseSize: 16384,
  rate: "max",
  durationS: 0.4,
  warmupS: 0.1,
  driver: "builtin",
};

for (const name of NETWORK_SETUPS) {
  test(`${name}: the engine's stream crosses every interface the path names`, {
    skip: !root && "needs root",
  }, async () => {
    const path = resolveNetworkSetup(name, { lab });
    const session = await builtinDriver.prepare(path);
    try {
      const before = await Promise.all(path.interfaces.map((i) => readInterfaceBytes(i.endpoint, i.ifname)));
      const [sample] = await session.runTrial(stream);
      const afterwards = await Promise.all(
        path.interfaces.map((i) => readInterfaceBytes(i.endpoint, i.ifname)),
      );
      assert.ok(sample!.bytesReceived > 1e6, `${sample!.bytesReceived} bytes delivered`);
      path.interfaces.forEach((iface, i) => {
        const moved = Math.max(
          afterwards[i]!.rxBytes - before[i]!.rxBytes,
          afterwards[i]!.txBytes - before[i]!.txBytes,
        );
        assert.ok(
          moved >= sample!.bytesReceived,
          `${iface.ifname} on ${iface.endpoint.name} moved ${moved} bytes`,
        );
      });
      const [rr] = await session.runTrial({ ...stream, pattern: "rr", requestSize: 64, responseSize: 64 });
      assert.ok(rr!.messagesPerSecond > 100 && rr!.latencyUs!.p50 > 0);
    } finally {
      await session.close();
    }
  });
}

test("a run on the lab: every setup, one-way and bidirectional, each cell names its setup", {
  skip: !root && "needs root",
}, async () => {
  const view = await runBenchmark({
    db: join(dir, "lab.db"),
    lab: LAB,
    setup: "host-to-guest,guest-to-guest-remote",
    direction: "one-way,bidirectional",
    protocol: "udp",
    pattern: "rr",
    duration: "0.3",
    warmup: "0.1",
    trials: 1,
  });
  assert.equal(view.status, "completed");
  assert.equal(view.cells.length, 4);
  for (const cell of view.cells) {
    assert.ok(["host-to-guest", "guest-to-guest-remote"].includes(cell.setup.network));
    const directions = cell.trials[0]!.samples.map((sample) => sample.direction);
    if (cell.setup.direction === "bidirectional") {
      assert.deepEqual(directions, ["forward", "reverse"]);
      assert.ok(cell.directions && cell.directions.reverse.messagesPerSecond! > 0);
    } else {
      assert.deepEqual(directions, ["forward"]);
    }
  }
  assert.deepEqual((view.metadata.where as { lab: string }).lab, LAB);
});
