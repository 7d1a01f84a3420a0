import assert from "node:assert/strict";
import { test } from "node:test";
import {
  chooseAccelerator,
  DEFAULT_HARDWARE,
  guestMac,
  qemuArgv,
  vhostSupport,
} from "../../../src/guests/qemu.js";

const spec = {
  name: "g1",
  kernel: "/k",
  initrd: "/i",
  tap: "vnb-g1",
  mac: guestMac("10.213.1.11/24"),
  address: "10.213.1.11/24",
  gateway: "10.213.1.1",
  accel: "tcg" as const,
  hardware: DEFAULT_HARDWARE,
  runDir: "/run/x/g1",
};

const after = (argv: string[], flag: string) => argv.filter((_, i) => argv[i - 1] === flag);

test("KVM only with vmx or svm in /proc/cpuinfo and a /dev/kvm", () => {
  assert.equal(chooseAccelerator("flags\t\t: fpu vmx sse", true).accel, "kvm");
  assert.equal(chooseAccelerator("flags\t\t: fpu svm", true).accel, "kvm");
  const paravirt = chooseAccelerator("flags\t\t: fpu sse hypervisor", true);
  assert.equal(paravirt.accel, "tcg");
  assert.match(paravirt.reason, /without vmx\/svm/);
  assert.equal(chooseAccelerator("flags\t\t: vmx", false).accel, "tcg");
});

test("vhost is asked for only where /dev/vhost-net exists, and the reason is kept", () => {
  assert.match(after(qemuArgv(spec, true), "-netdev")[0]!, /vhost=on/);
  assert.match(after(qemuArgv(spec, false), "-netdev")[0]!, /vhost=off/);
  assert.deepEqual(vhostSupport(false), { ok: false, reason: "no /dev/vhost-net on this host" });
  const off = qemuArgv({ ...spec, hardware: { ...DEFAULT_HARDWARE, vhost: false } }, true);
  assert.match(after(off, "-netdev")[0]!, /vhost=off/);
});

test("queues and device properties reach the tap netdev and the virtio-net-pci device", () => {
  const hardware = { ...DEFAULT_HARDWARE, queues: 2, deviceProperties: { mrg_rxbuf: "off" } };
  const argv = qemuArgv({ ...spec, hardware }, false);
  assert.match(after(argv, "-netdev")[0]!, /ifname=vnb-g1,.*queues=2/);
  const device = after(argv, "-device").find((d) => d.startsWith("virtio-net-pci"))!;
  assert.match(device, /mq=on,vectors=6/);
  assert.match(device, /mrg_rxbuf=off/);
  assert.match(device, /mac=52:54:0a:d5:01:0b/);
});

test("the guest's address and gateway go on the kernel command line; qemu daemonizes with a pidfile", () => {
  const argv = qemuArgv(spec, false);
  assert.match(after(argv, "-append")[0]!, /vnb\.ip=10\.213\.1\.11\/24 vnb\.gw=10\.213\.1\.1/);
  assert.deepEqual(after(argv, "-pidfile"), ["/run/x/g1/qemu.pid"]);
  assert.ok(argv.includes("-daemonize"));
  assert.equal(after(argv, "-accel")[0], "tcg");
});
