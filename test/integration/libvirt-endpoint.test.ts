// A libvirt domain as an endpoint: libvirtd started here without systemd (when none runs), one
// domain (TCG, the project's guest image) on a netns lab's bridge through a tap, a matrix from an
// endpoints file runs host→guest traffic through it with the domain's vCPU pinned by `virsh vcpupin`
// and its emulator by `virsh emulatorpin`, read back every trial; its CPU is split by the threads
// libvirt names and its domstats stored with each trial. Then everything is undone and checked gone.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runBenchmark } from "../../src/api.js";
import {
  LibvirtGuestEndpoint,
  parseQueryCpusFast,
  parseVcpupin,
  Virsh,
} from "../../src/endpoints/libvirt.js";
import { buildImage } from "../../src/guests/image.js";
import { GUEST_READY } from "../../src/guests/init-script.js";
import { type Lab, labDown, labUp } from "../../src/labs/netns-lab.js";
import { execCommand } from "../../src/util/process.js";
import { ensureLibvirtd, type Libvirtd } from "../helpers/libvirtd.js";

const LAB = "vnblv";
const DOMAIN = "vnblv-dom";
const TAP = "vnblv-tap0";
const URI = "qemu:///system";
const RUN_DIR = "/run/vnetbench/test-libvirt";
const CONTROL_PORTS = 4;
const usable =
  process.getuid?.() === 0 &&
  spawnSync("qemu-system-x86_64", ["--version"]).status === 0 &&
  existsSync("/bin/busybox");
const dir = mkdtempSync(join(tmpdir(), "vnb-libvirt-"));
const virsh = new Virsh(URI, DOMAIN);
let daemon: Libvirtd | undefined;
let lab: Lab | undefined;
let guestAddress = "";
let skip: string | false = !usable && "needs root, qemu-system-x86 and busybox-static";

function domainXml(kernel: string, initrd: string, address: string, gateway: string): string {
  const channels = Array.from(
    { length: CONTROL_PORTS },
    (_, i) =>
      `<channel type='unix'><source mode='bind' path='${RUN_DIR}/ctl${i}.sock'/><target type='virtio' name='vnb.${i}'/></channel>`,
  ).join("\n    ");
  return `<domain type='qemu'>
  <name>${DOMAIN}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${kernel}</kernel>
    <initrd>${initrd}</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet vnb.ip=${address} vnb.gw=${gateway}</cmdline>
  </os>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <interface type='ethernet'>
      <target dev='${TAP}' managed='no'/>
      <mac address='52:54:00:a1:01:15'/>
      <model type='virtio'/>
    </interface>
    <filesystem type='mount' accessmode='passthrough'>
      <source dir='/'/><target dir='hostroot'/><readonly/>
    </filesystem>
    ${channels}
    <serial type='file'><source path='${RUN_DIR}/console.log'/></serial>
  </devices>
</domain>
`;
}

/** The qemu processes of this domain (libvirt names it `guest=DOMAIN` on the command line). */
function domainQemus(): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(`guest=${DOMAIN},`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function teardown(): Promise<void> {
  await execCommand(["virsh", "-c", URI, "destroy", DOMAIN], { allowFailure: true, timeoutMs: 30_000 });
  await execCommand(["virsh", "-c", URI, "undefine", DOMAIN], { allowFailure: true, timeoutMs: 30_000 });
  await execCommand(["ip", "link", "del", TAP], { allowFailure: true });
  if (lab) await labDown(LAB);
  rmSync(RUN_DIR, { recursive: true, force: true });
}

before(async () => {
  if (skip) return;
  daemon = await ensureLibvirtd();
  if (daemon.unusable) {
    skip = daemon.unusable;
    return;
  }
  const image = await buildImage();
  await teardown(); // a domain or tap left by a killed run of this test
  lab = await labUp({ name: LAB, baseSubnet: "10.241.0.0/16", force: true });
  const bridge = lab.topology.bridges.find((b) => b.node === "host1")!;
  const [gateway, prefix] = bridge.address.split("/");
  guestAddress = gateway!.replace(/\.\d+$/, ".21");
  mkdirSync(RUN_DIR, { recursive: true });
  // libvirt opens the tap in its own namespace; then the tap joins host1's bridge in the lab.
  await execCommand(["ip", "tuntap", "add", "dev", TAP, "mode", "tap"]);
  const xml = join(dir, "domain.xml");
  writeFileSync(xml, domainXml(image.kernel, image.initrd, `${guestAddress}/${prefix}`, gateway!));
  await execCommand(["virsh", "-c", URI, "define", xml]);
  await execCommand(["virsh", "-c", URI, "start", DOMAIN]);
  const ns = lab.topology.namespaces.host1;
  await execCommand(["ip", "link", "set", TAP, "netns", ns]);
  await execCommand(["ip", "-n", ns, "link", "set", TAP, "master", bridge.ifname]);
  await execCommand(["ip", "-n", ns, "link", "set", TAP, "up"]);
  const began = Date.now();
  while (!readFileSync(`${RUN_DIR}/console.log`, "utf8").includes(GUEST_READY)) {
    if (Date.now() - began > 120_000)
      throw new Error(`domain did not boot: ${readFileSync(`${RUN_DIR}/console.log`, "utf8").slice(-800)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  console.log(`# libvirt domain booted in ${((Date.now() - began) / 1000).toFixed(1)} s`);
});

after(async () => {
  try {
    if (!skip) {
      await teardown();
      // Nothing left: no domain, no qemu of it, no tap, no lab.
      const domains = await execCommand(["virsh", "-c", URI, "list", "--all", "--name"]);
      assert.ok(!domains.stdout.split("\n").includes(DOMAIN), domains.stdout);
      assert.deepEqual(domainQemus(), []);
      assert.equal(spawnSync("ip", ["link", "show", TAP]).status, 1, "tap left");
      assert.ok(
        !existsSync("/run/netns") || !readdirSync("/run/netns").some((ns) => ns.startsWith(`${LAB}-`)),
        "lab namespaces left",
      );
    }
  } finally {
    await daemon?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an absent domain is a clear error naming it and the URI", { skip: !usable }, async () => {
  const absent = new LibvirtGuestEndpoint({
    name: "x",
    role: "guest",
    address: "10.0.0.1",
    domain: "vnb-absent",
  });
  await assert.rejects(absent.exec(["true"]), /libvirt domain vnb-absent on qemu:\/\/\/system: .*vnb-absent/);
});

test("traffic through the domain as a libvirt endpoint: pinned with virsh, CPU by its threads, domstats stored", async (t) => {
  if (skip) {
    t.skip(skip);
    return;
  }
  const endpoints = join(dir, "endpoints.yaml");
  writeFileSync(
    endpoints,
    `endpoints:
  - { name: host1, kind: netns, role: host, netns: ${lab!.topology.namespaces.host1}, address: ${lab!.topology.addresses.host1} }
  - { name: vm, kind: libvirt, role: guest, host: host1, domain: ${DOMAIN}, uri: "${URI}", address: ${guestAddress} }
`,
  );
  const endpoint = new LibvirtGuestEndpoint({
    name: "vm",
    role: "guest",
    address: guestAddress,
    domain: DOMAIN,
  });
  assert.deepEqual(
    (await endpoint.interfaces()).map((i) => [i.interface, i.model]),
    [[TAP, "virtio"]],
  );
  const { stdout: eth0 } = await endpoint.exec(["ip", "-4", "-o", "addr", "show", "eth0"]);
  assert.match(eth0, new RegExp(guestAddress.replaceAll(".", "\\.")));
  const pinBefore = parseVcpupin(await virsh.run(["vcpupin", DOMAIN, "--live"])).get(0);

  const matrix = join(dir, "matrix.yaml");
  writeFileSync(
    matrix,
    `endpoints: { file: ${endpoints} }
categories:
  network: [host-to-guest]
  cpu:
    - none
    - name: pinned
      pin: [{ qemu: vcpus, cpus: 1 }, { qemu: emulator, cpus: 0 }]
  traffic:
    - { name: rr, protocol: tcp, pattern: rr, sizes: [64], duration: 2, warmup: 0.5 }
trials: 2
order: sequential
`,
  );
  const started = Date.now();
  const view = await runBenchmark({ db: join(dir, "runs.db"), matrix });
  const wallS = (Date.now() - started) / 1000;

  const vcpus = parseQueryCpusFast(
    await virsh.run([
      "qemu-monitor-command",
      "--pretty",
      DOMAIN,
      JSON.stringify({ execute: "query-cpus-fast" }),
    ]),
  );
  const qemuPid = Number(readFileSync(`/run/libvirt/qemu/${DOMAIN}.pid`, "utf8").trim());
  assert.deepEqual(domainQemus(), [qemuPid]);
  assert.deepEqual(view.cells.map((c) => c.setup.cpu).sort(), ["none", "pinned"]);
  const cell = view.cells.find((c) => c.setup.cpu === "pinned");
  const unpinned = view.cells.find((c) => c.setup.cpu === "none")!;
  for (const trial of unpinned.trials) {
    assert.equal(trial.status, "completed", trial.error);
    assert.ok(trial.domstats?.vm);
  }
  assert.equal(cell!.trials.length, 2);
  for (const trial of cell!.trials) {
    assert.equal(trial.status, "completed", trial.error);
    // vcpupin and emulatorpin, as virsh and the kernel read them back before the trial.
    const pins = trial.cpuSetup!.pins;
    const vcpu = pins.filter((pin) => pin.libvirt?.vcpu !== undefined);
    assert.deepEqual(
      vcpu.map((pin) => [pin.libvirt!.domain, pin.libvirt!.vcpu, pin.tid, pin.pid, pin.cpus]),
      vcpus.map((v) => [DOMAIN, v.vcpu, v.tid, qemuPid, "1"]),
    );
    const emulator = pins.filter((pin) => pin.libvirt && pin.libvirt.vcpu === undefined);
    assert.ok(emulator.length > 0 && emulator.every((pin) => pin.cpus === "0" && pin.pid === qemuPid));
    // virsh domstats around the trial: the domain's CPU time moved while the traffic ran.
    const stats = trial.domstats!.vm!;
    assert.equal(stats.domain, DOMAIN);
    assert.equal(stats.stats["state.state"], 1);
    assert.ok((stats.delta["cpu.time"] ?? 0) > 0, JSON.stringify(stats.delta));
    assert.ok((stats.delta["vcpu.0.time"] ?? 0) > 0, JSON.stringify(stats.delta));
  }
  const summary = cell!.summary;
  const p50 = summary.latencyUs!.p50;
  assert.ok(p50 > 0);
  const cpu = summary.cpu!;
  assert.ok(cpu.byComponent!.vcpu > 0, `vCPU seconds ${cpu.byComponent!.vcpu}`);
  assert.deepEqual(
    cpu.vcpuThreads,
    vcpus.map((v) => v.tid),
  );
  // The pins were undone at the end of the run, through virsh.
  assert.equal(parseVcpupin(await virsh.run(["vcpupin", DOMAIN, "--live"])).get(0), pinBefore);
  for (const c of [unpinned, cell!])
    console.log(
      `# libvirt host→guest TCP rr 64 B, cpu ${c.setup.cpu}: p50 ${c.summary.latencyUs!.p50.toFixed(0)} µs, ` +
        `p99 ${c.summary.latencyUs!.p99.toFixed(0)} µs; CPU-s by component ${JSON.stringify(c.summary.cpu?.byComponent)}`,
    );
  console.log(`# matrix run ${wallS.toFixed(1)} s`);
});
