// Every host on the path is counted: guest-to-guest-remote crosses host1 and host2 of the netns
// lab. Both are namespaces of this machine, so its CPU is split between them (each host's
// processes — its own and its guests' namespaces' — plus its packet share of the kernel work no
// process is charged for); the split adds up to the CPU service demand is computed from, and each
// host's clock over the window is recorded with its source.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parseCpuinfoMhz } from "../../src/analysis/cpu-hosts.js";
import { runBenchmark } from "../../src/api.js";
import { labDown, labUp } from "../../src/labs/netns-lab.js";

const LAB = "vnbt11";
const root = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), "vnb-hosts-cpu-"));

before(async () => {
  if (root) await labUp({ name: LAB, baseSubnet: "10.239.0.0/16", force: true });
});
after(async () => {
  if (root) await labDown(LAB);
  rmSync(dir, { recursive: true, force: true });
});

const near = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

test("guest-to-guest-remote: byHost has host1 and host2, adding up to the CPU of service demand", {
  skip: !root && "needs root (netns lab)",
}, async (t) => {
  const view = await runBenchmark({
    db: join(dir, "hosts.db"),
    lab: LAB,
    setup: "guest-to-guest-remote",
    protocol: "tcp",
    pattern: "rr",
    size: "64",
    duration: "1.5",
    warmup: "0.3",
    trials: 2,
  });
  const cell = view.cells[0]!;
  for (const [what, cpu, demand] of [
    ["trial 1", cell.trials[0]!.cpu!, cell.trials[0]!.serviceDemand!],
    ["cell", cell.summary.cpu!, cell.summary.serviceDemand!],
  ] as const) {
    const byHost = cpu.byHost!;
    assert.deepEqual(Object.keys(byHost).sort(), ["host1", "host2"], what);
    for (const name of ["host1", "host2"]) {
      const host = byHost[name]!;
      // Each end's agent runs in a guest namespace of its host: each host has processes of its own.
      assert.ok(host.seconds > 0 && host.processSeconds > 0, `${what} ${name}: ${JSON.stringify(host)}`);
      assert.ok(host.packetShare > 0.2 && host.packetShare < 0.8, `${what} ${name}: ${host.packetShare}`);
      assert.ok(
        host.effectiveMhz !== null && host.effectiveMhz > 0 && host.mhzSource,
        `${what} ${name} clock`,
      );
    }
    const sum = byHost.host1!.seconds + byHost.host2!.seconds;
    assert.ok(near(sum, cpu.hostSeconds), `${what}: ${sum} vs ${cpu.hostSeconds}`);
    const parts = demand.byHost!.host1!.usPerTransaction! + demand.byHost!.host2!.usPerTransaction!;
    assert.ok(near(parts, demand.usPerTransaction!), `${what}: ${parts} vs ${demand.usPerTransaction}`);
    t.diagnostic(
      `${what}: host CPU ${cpu.hostSeconds.toFixed(3)} s = host1 ${byHost.host1!.seconds.toFixed(3)} ` +
        `(processes ${byHost.host1!.processSeconds.toFixed(3)}, packet share ${byHost.host1!.packetShare.toFixed(2)}) + ` +
        `host2 ${byHost.host2!.seconds.toFixed(3)} (processes ${byHost.host2!.processSeconds.toFixed(3)}); ` +
        `service demand ${demand.usPerTransaction!.toFixed(1)} = ${demand.byHost!.host1!.usPerTransaction!.toFixed(1)} + ` +
        `${demand.byHost!.host2!.usPerTransaction!.toFixed(1)} µs/tr; clock ${byHost.host1!.effectiveMhz!.toFixed(0)} MHz ` +
        `(${byHost.host1!.mhzSource}), /proc/cpuinfo now ${parseCpuinfoMhz(readFileSync("/proc/cpuinfo", "utf8"))?.toFixed(0)} MHz; ` +
        `cycles ${cpu.cycles === null ? `not counted: ${cpu.perfNote}` : cpu.cycles}`,
    );
  }
  // perf counts cycles by default wherever it can; where it cannot, the reason is stated.
  const cpu = cell.summary.cpu!;
  assert.ok(cpu.cycles !== null || /perf/.test(cpu.perfNote ?? ""), String(cpu.perfNote));
});
