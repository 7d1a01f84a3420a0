// Guest and hypervisor options on real guests: a matrix with two hypervisor options that need
// different qemus (1 and 2 queue pairs) restarts the guests exactly once per change of machine, and
// each trial stores what the guests read back (queues from inside the guest by ethtool, device
// properties by QMP qom-get); a vhost option is skipped here with its reason; a guest option's
// offload and MTU are set and read back in the guests; the vCPU threads QMP names are pinned and
// a guest's virtio-net IRQ moved inside the guest, read back every trial — also after the restart
// gave the guests new threads. One lab (2 vCPUs a guest) for the file; its machine is put back.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runBenchmark } from "../../src/api.js";
import type { Trial } from "../../src/domain/cell.js";
import { buildImage } from "../../src/guests/image.js";
import { type Lab, labDown, labUp } from "../../src/labs/netns-lab.js";
import { readQemuLabState } from "../../src/labs/qemu-lab.js";

const LAB = "vnbqopt";
const usable =
  process.getuid?.() === 0 &&
  spawnSync("qemu-system-x86_64", ["--version"]).status === 0 &&
  existsSync("/bin/busybox") &&
  spawnSync("ethtool", ["--version"]).status === 0;
const skip = !usable && "needs root, qemu-system-x86, busybox-static and ethtool";
const dir = mkdtempSync(join(tmpdir(), "vnb-qopt-"));
let lab: Lab;

before(async () => {
  if (!usable) return;
  await buildImage();
  lab = await labUp({
    name: LAB,
    baseSubnet: "10.233.0.0/16",
    guests: "qemu",
    qemu: { hardware: { cpus: 2 } },
    force: true,
  });
});
after(async () => {
  if (usable) await labDown(LAB);
  rmSync(dir, { recursive: true, force: true });
});

const MATRIX = `endpoints: { lab: ${LAB} }
categories:
  network: [host-to-guest]
  hypervisor:
    - { name: q1, qemu: { queues: 1 } }
    - { name: q2, qemu: { queues: 2, device: { mrg_rxbuf: off } } }
    - { name: vhost-on, qemu: { vhost: true } }
  guest:
    - { name: small, mtu: 1400, offloads: { tso: false } }
  cpu:
    - name: pinned
      pin: [{ qemu: vcpus, cpus: 1 }, { qemu: emulator, cpus: 0 }]
      irqAffinity: [{ on: g1, irq: "virtio0-input", cpus: 1 }]
  traffic:
    - { name: rr, protocol: tcp, pattern: rr, sizes: [64], duration: 1, warmup: 0.3 }
trials: 2
order: sequential
`;

test("hypervisor options restart guests once per change and read back; guest and CPU options read back", {
  skip,
}, async () => {
  const file = join(dir, "options.yaml");
  writeFileSync(file, MATRIX);
  const notes: string[] = [];
  const view = await runBenchmark({
    db: join(dir, "runs.db"),
    matrix: file,
    onEvent: (event) => {
      if (event.type === "warning" || event.type === "note") notes.push(event.message);
    },
  });
  const vhost = existsSync("/dev/vhost-net");
  if (!vhost)
    assert.ok(
      notes.some((n) => /hypervisor option vhost-on: vhost: no \/dev\/vhost-net/.test(n)),
      notes.join("\n"),
    );
  const trials = view.cells
    .filter((cell) => cell.setup.hypervisor !== "vhost-on")
    .flatMap((cell) => cell.trials.map((trial) => ({ option: cell.setup.hypervisor, trial })))
    .sort((a, b) => a.trial.startedAt.localeCompare(b.trial.startedAt));
  assert.equal(trials.length, 4);
  for (const { trial } of trials) assert.equal(trial.status, "completed", trial.error);

  // Changes of machine along the trials, from the lab's own (1 queue): each is one restart.
  let machine = "q1";
  let changes = 0;
  for (const { option } of trials) {
    if (option !== machine) changes++;
    machine = option;
  }
  assert.equal(changes, 1, "q1 q1 q2 q2: the lab's machine, then one change");
  const restarts = (view.metadata.guestRestarts ?? []) as { option: string }[];
  assert.equal(restarts.length, changes, JSON.stringify(restarts));
  const pids = trials.map(({ trial }) => trial.hypervisorSetup!.guests.g1!.pid);
  const pidChanges = pids.filter((pid, i) => i > 0 && pid !== pids[i - 1]).length;
  const firstIsLabs = trials[0]!.option === "q1";
  assert.equal(pidChanges + (firstIsLabs ? 0 : 1), changes, `qemu pids ${pids}`);

  for (const { option, trial } of trials) {
    const setup = trial.hypervisorSetup!;
    assert.equal(setup.option, option);
    for (const guest of ["g1", "g2", "g3"]) {
      const seen = setup.guests[guest]!;
      // Queue pairs as the guest's own driver reports them (ethtool -l inside the guest).
      assert.equal(seen.queues, option === "q2" ? 2 : 1, `${option} ${guest} queues`);
      assert.equal(seen.device.mq, option === "q2" ? "on" : "off");
      if (option === "q2") assert.equal(seen.device.mrg_rxbuf, "off");
      assert.equal(seen.vcpus, 2);
      assert.equal(seen.vhost, false);
    }
    checkGuestAndCpu(trial);
  }
  // The lab got its own machine back.
  assert.equal(readQemuLabState(LAB)!.records.g1.hardware.queues, 1);
  const { stdout } = await lab.endpoints.g1.exec(["ethtool", "-l", "eth0"]);
  assert.match(stdout, /Pre-set maximums:[\s\S]*?Combined:\s+1\b/);
});

function checkGuestAndCpu(trial: Trial): void {
  const nics = trial.guestSetup!.nics;
  for (const guest of ["g1", "g2", "g3"])
    assert.deepEqual(nics[guest], { mtu: 1400, offloads: { tso: false } });
  const cpu = trial.cpuSetup!;
  assert.equal(cpu.status, "applied");
  const vcpus = new Set(Object.values(trial.hypervisorSetup!.guests).map((g) => g.pid));
  const pinned = cpu.pins.filter((pin) => /^CPU \d+\/(TCG|KVM)$/.test(pin.comm));
  // 3 guests × 2 vCPUs, each on CPU 1 as the kernel reads back, all of the running qemus.
  assert.equal(pinned.length, 6, JSON.stringify(cpu.pins));
  for (const pin of pinned) {
    assert.equal(pin.cpus, "1");
    assert.ok(vcpus.has(pin.pid), `pin of qemu ${pin.pid}, running: ${[...vcpus]}`);
  }
  assert.ok(
    cpu.pins.some((pin) => pin.cpus === "0" && !/^CPU /.test(pin.comm)),
    "emulator threads on CPU 0",
  );
  const irqs = cpu.irqs.filter((irq) => irq.endpoint === "g1");
  assert.ok(irqs.length >= 1, JSON.stringify(cpu.irqs));
  for (const irq of irqs) {
    assert.match(irq.description, /virtio0-input/);
    assert.equal(irq.cpus, "1");
    assert.match(irq.previous, /^[\d,-]+$/);
  }
}
