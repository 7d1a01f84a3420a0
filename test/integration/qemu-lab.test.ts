// Real guests on the paths: the image is built, g1 and g2 boot on host1's bridge and g3 on host2's,
// every guest setup runs with the built-in engine (sockperf and iperf3 host→guest), the host's CPU
// is split by component with the vCPU threads QMP names, and nothing is left after lab down.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runBenchmark } from "../../src/api.js";
import { buildImage } from "../../src/guests/image.js";
import { type Lab, labDown, labUp } from "../../src/labs/netns-lab.js";
import { labHypervisorTasks, labStateDir } from "../../src/labs/qemu-lab.js";

const LAB = "vnbqemu";
const usable =
  process.getuid?.() === 0 &&
  spawnSync("qemu-system-x86_64", ["--version"]).status === 0 &&
  existsSync("/bin/busybox");
const skip = !usable && "needs root, qemu-system-x86 and busybox-static";
const dir = mkdtempSync(join(tmpdir(), "vnb-qemu-"));
const db = join(dir, "runs.db");
let lab: Lab;

before(async () => {
  if (!usable) return;
  await buildImage();
  lab = await labUp({ name: LAB, baseSubnet: "10.232.0.0/16", guests: "qemu", force: true });
});
after(async () => {
  if (usable) await labDown(LAB);
  rmSync(dir, { recursive: true, force: true });
});

test("each guest booted on its tap and answers through its control channel", { skip }, async () => {
  for (const guest of ["g1", "g2", "g3"] as const) {
    const record = lab.qemu!.records[guest];
    assert.ok(record.bootMs > 0 && record.pid > 0, guest);
    assert.match(record.qemuVersion, /QEMU emulator version/);
    assert.ok(
      record.argv.includes(`${LAB}-${guest}`) ||
        record.argv.some((a) => a.includes(`ifname=${LAB}-${guest}`)),
    );
    const { stdout } = await lab.endpoints[guest].exec(["ip", "-4", "-o", "addr", "show", "eth0"]);
    assert.match(stdout, new RegExp(lab.topology.addresses[guest].replaceAll(".", "\\.")));
    if (!existsSync("/dev/vhost-net")) {
      assert.deepEqual(record.skipped, [{ option: "vhost", reason: "no /dev/vhost-net on this host" }]);
      assert.ok(record.argv.some((a) => a.includes("vhost=off")));
    }
  }
  const failed = await lab.endpoints.g1.exec(["sh", "-c", "echo out; echo err >&2; exit 7"], {
    allowFailure: true,
  });
  assert.deepEqual([failed.stdout, failed.stderr, failed.code], ["out\n", "err\n", 7]);
});

test("every guest path carries the engine's traffic; vCPU CPU is attributed to QMP's threads", {
  skip,
}, async () => {
  const view = await runBenchmark({
    db,
    lab: LAB,
    setup: "host-to-guest,guest-to-host,guest-to-guest,guest-to-guest-remote,ext-to-guest",
    protocol: "tcp",
    pattern: "rr",
    size: "64",
    duration: "1.5",
    warmup: "0.5",
    trials: 1,
  });
  const tasks = await labHypervisorTasks(LAB);
  assert.equal(tasks.qemuPids.length, 3);
  assert.equal(tasks.vcpuTids.length, 3);
  for (const cell of view.cells) {
    const name = cell.setup.network;
    assert.ok((cell.summary.latencyUs?.p50 ?? 0) > 0, `${name}: latency`);
    const cpu = cell.summary.cpu!;
    assert.ok(cpu.byComponent!.vcpu > 0, `${name}: vCPU seconds ${cpu.byComponent!.vcpu}`);
    assert.deepEqual([...cpu.vcpuThreads!].sort(), [...tasks.vcpuTids].sort());
    for (const tid of cpu.vcpuThreads!) {
      const comm = readFileSync(
        `/proc/${tasks.qemuPids.find((pid) => existsSync(`/proc/${pid}/task/${tid}`))}/task/${tid}/comm`,
        "utf8",
      );
      assert.match(comm, /^CPU \d+\/(TCG|KVM)/, `thread ${tid} is a vCPU`);
    }
    assert.ok(cell.summary.serviceDemand?.byComponent, `${name}: service demand per component`);
  }
  const where = view.metadata.where as { qemu: Record<string, { accelerator: { accel: string } }> };
  assert.ok(["tcg", "kvm"].includes(where.qemu.g1!.accelerator.accel));
});

test("sockperf and iperf3 run host→guest against servers inside the guest", { skip }, async () => {
  const sockperf = await runBenchmark({
    db,
    lab: LAB,
    setup: "host-to-guest",
    driver: "sockperf",
    protocol: "udp",
    pattern: "rr",
    size: "64",
    duration: "1.5",
    warmup: "0.5",
    trials: 1,
  });
  assert.ok((sockperf.cells[0]!.summary.latencyUs?.p50 ?? 0) > 0, "sockperf latency");
  const iperf3 = await runBenchmark({
    db,
    lab: LAB,
    setup: "host-to-guest",
    driver: "iperf3",
    protocol: "tcp",
    pattern: "stream",
    size: "16k",
    duration: "2",
    warmup: "0.5",
    trials: 1,
  });
  assert.ok((iperf3.cells[0]!.summary.throughputMbps ?? 0) > 0, "iperf3 throughput");
});

test("lab down leaves no qemu process, tap, bridge or state behind", { skip }, async () => {
  const pids = (await labHypervisorTasks(LAB)).qemuPids;
  await labDown(LAB);
  for (const pid of pids)
    assert.ok(
      !existsSync(`/proc/${pid}`) || !readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("qemu"),
      `qemu ${pid}`,
    );
  const namespaces = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
  assert.doesNotMatch(namespaces, new RegExp(`${LAB}-`));
  const links = spawnSync("ip", ["-o", "link", "show"], { encoding: "utf8" }).stdout;
  assert.doesNotMatch(links, new RegExp(`${LAB}-`), "no tap or bridge in the host's namespace");
  assert.equal(existsSync(labStateDir(LAB)), false);
  const left = readdirSync("/proc").filter((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    try {
      return readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(join(labStateDir(LAB), "/"));
    } catch {
      return false;
    }
  });
  assert.deepEqual(left, []);
});
