import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { DEFAULT_HARDWARE } from "../../../src/guests/qemu.js";
import {
  type GuestMachine,
  machineMismatches,
  machineWith,
  nicCommands,
  nicMismatches,
  nicReadBack,
  parseEthtoolChannels,
  parseEthtoolFeatures,
  sameQemuMachine,
  settingsKey,
  whyQemuUnsupported,
} from "../../../src/guests/settings.js";

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/ethtool/${name}`, import.meta.url), "utf8");
const lab: GuestMachine = { accel: "tcg", hardware: { ...DEFAULT_HARDWARE } };

test("ethtool -k and -l output parse to features and combined channels", () => {
  const features = parseEthtoolFeatures(fixture("features-lo.txt"));
  assert.equal(features["rx-checksumming"], true, "a [fixed] feature reads too");
  assert.equal(features["tx-checksum-ipv4"], false, "indented sub-features");
  assert.equal(typeof features["tcp-segmentation-offload"], "boolean");
  assert.deepEqual(parseEthtoolChannels(fixture("channels-virtio.txt")), { max: 2, current: 1 });
  assert.deepEqual(
    parseEthtoolChannels("Channel parameters for lo:\nnetlink error: Operation not supported\n"),
    {
      max: undefined,
      current: undefined,
    },
  );
});

test("an option's qemu settings over the lab's machine; a restart only when the qemu differs", () => {
  const q2 = machineWith(lab, { queues: 2, device: { mrg_rxbuf: "off" } });
  assert.equal(q2.hardware.queues, 2);
  assert.deepEqual(q2.hardware.deviceProperties, { mrg_rxbuf: "off" });
  assert.equal(q2.hardware.cpus, lab.hardware.cpus);
  assert.equal(machineWith(lab, undefined), lab);
  assert.equal(sameQemuMachine(lab, machineWith(lab, { queues: 1 }), false), true);
  assert.equal(sameQemuMachine(lab, q2, false), false);
  assert.equal(sameQemuMachine(lab, machineWith(lab, { accel: "kvm" }), false), false);
  // Without /dev/vhost-net, vhost on and off start the same qemu (vhost=off).
  assert.equal(sameQemuMachine(lab, machineWith(lab, { vhost: false }), false), true);
  assert.equal(sameQemuMachine(lab, machineWith(lab, { vhost: false }), true), false);
  assert.equal(settingsKey({ queues: 2, cpus: 1 }), settingsKey({ cpus: 1, queues: 2 }));
  assert.notEqual(settingsKey({ queues: 2 }), settingsKey(undefined));
});

test("vhost and kvm are refused with the host's reason", () => {
  const host = {
    vhost: { ok: false, reason: "no /dev/vhost-net on this host" },
    kvm: { accel: "tcg" as const, reason: "no vmx/svm" },
  };
  assert.equal(whyQemuUnsupported({ vhost: true }, host), "vhost: no /dev/vhost-net on this host");
  assert.equal(whyQemuUnsupported({ vhost: false, queues: 2 }, host), null);
  assert.equal(whyQemuUnsupported({ accel: "kvm" }, host), "accel kvm: no vmx/svm");
});

test("a machine read back is checked field by field against the one asked for", () => {
  const asked = machineWith(lab, { queues: 2, device: { mrg_rxbuf: "off" } });
  const seen = {
    pid: 1,
    accel: "tcg" as const,
    vcpus: 1,
    queues: 2,
    vhost: false,
    device: { mq: "on", mrg_rxbuf: "off" },
  };
  assert.deepEqual(machineMismatches(asked, seen, false), []);
  assert.deepEqual(machineMismatches(asked, { ...seen, queues: 1, device: { mq: "off" } }, false), [
    "queues: asked 2, reads 1",
    "mrg_rxbuf: asked off, reads (none)",
  ]);
  assert.deepEqual(machineMismatches(asked, seen, true), ["vhost: asked true, reads false"]);
});

test("NIC settings become ip and ethtool commands, and read back from what the guest prints", () => {
  assert.deepEqual(nicCommands("eth0", { mtu: 1400, offloads: { tso: false, gro: true }, channels: 2 }), [
    ["ip", "link", "set", "dev", "eth0", "mtu", "1400"],
    ["ethtool", "-K", "eth0", "tso", "off", "gro", "on"],
    ["ethtool", "-L", "eth0", "combined", "2"],
  ]);
  const asked = { mtu: 1400, offloads: { tso: false, "rx-checksumming": true }, channels: 2 };
  const read = nicReadBack(asked, {
    mtu: "1400\n",
    features: "tcp-segmentation-offload: off\nrx-checksumming: on [fixed]\n",
    channels: fixture("channels-virtio.txt"),
  });
  assert.deepEqual(read, { mtu: 1400, offloads: { tso: false, "rx-checksumming": true }, channels: 1 });
  assert.deepEqual(nicMismatches(asked, read), ["channels: asked 2, reads 1"]);
});
