import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  createEndpoint,
  EndpointsFileError,
  parseEndpointsFile,
} from "../../../src/endpoints/endpoints-file.js";
import {
  DEFAULT_LIBVIRT_URI,
  domstatsDelta,
  LibvirtGuestEndpoint,
  parseControlSockets,
  parseDomiflist,
  parseDomstats,
  parseEmulatorpin,
  parseQueryCpusFast,
  parseVcpupin,
  trialDomainStats,
} from "../../../src/endpoints/libvirt.js";
import { type QemuGuestEndpoint, threadGroup } from "../../../src/endpoints/qemu.js";

const recorded = (name: string) =>
  readFileSync(new URL(`../../fixtures/virsh/${name}`, import.meta.url), "utf8");

test("virsh domiflist: one row per interface", () => {
  assert.deepEqual(parseDomiflist(recorded("domiflist.txt")), [
    { interface: "vnbxtap", type: "ethernet", source: "-", model: "virtio", mac: "52:54:0a:ef:01:0b" },
    { interface: "vnet3", type: "bridge", source: "br0", model: "virtio", mac: "52:54:00:12:34:56" },
  ]);
});

test("virsh vcpupin and emulatorpin: the CPU lists read back", () => {
  assert.deepEqual(
    [...parseVcpupin(recorded("vcpupin.txt"))],
    [
      [0, "1"],
      [1, "0-1"],
    ],
  );
  assert.equal(parseEmulatorpin(recorded("emulatorpin.txt")), "0");
  assert.equal(parseEmulatorpin("error: no such domain"), null);
});

test("virsh domstats: numbers as numbers, names as text; the delta keeps the counters that moved", () => {
  const stats = parseDomstats(recorded("domstats.txt"));
  assert.equal(stats["cpu.time"], 1441932000);
  assert.equal(stats["net.0.name"], "vnbxtap");
  assert.equal(stats["dirtyrate.calc_mode"], "page-sampling");
  assert.equal(Object.keys(stats).length, 15);
  const later = { ...stats, "cpu.time": 1541932000, "vcpu.0.time": 2400000000 };
  assert.deepEqual(domstatsDelta(stats, later), { "cpu.time": 100000000, "vcpu.0.time": 100000000 });
});

test("query-cpus-fast through qemu-monitor-command: vCPU index and thread", () => {
  assert.deepEqual(parseQueryCpusFast(recorded("query-cpus-fast.json")), [{ vcpu: 0, tid: 22497 }]);
  assert.throws(() => parseQueryCpusFast('{"error":{"desc":"x"}}'), /no return value/);
});

test("the control sockets are the unix virtio channels libvirt binds, in order", () => {
  assert.deepEqual(parseControlSockets(recorded("dumpxml.xml")), [
    "/run/vnbx/ctl0.sock",
    "/run/vnbx/ctl1.sock",
  ]);
  assert.deepEqual(parseControlSockets("<domain><devices/></domain>"), []);
});

test("a thread's qemu process is its thread group", () => {
  assert.equal(
    threadGroup("Name:\tCPU 0/TCG\nUmask:\t0022\nState:\tS\nTgid:\t21348\nNgid:\t0\nPid:\t22497\n"),
    21348,
  );
  assert.equal(threadGroup(""), null);
});

const GOOD = `endpoints:
  - { name: hv, kind: local, role: host, address: 10.0.0.1 }
  - name: vm1
    kind: libvirt
    role: guest
    host: hv
    domain: web-01
    address: 10.0.0.21
  - { name: vm2, kind: libvirt, role: guest, domain: db, uri: "qemu:///session", address: 10.0.0.22 }
  - name: vm3
    kind: qemu
    role: guest
    qmp: /run/my-vm/qmp.sock
    control: [/run/my-vm/ctl0.sock, /run/my-vm/ctl1.sock]
    address: 10.0.0.23
  - { name: vm4, kind: qemu, role: guest, qmp: /run/vm4/qmp.sock, control: /run/vm4/ctl.sock, address: 10.0.0.24 }
`;

test("libvirt and qemu entries parse into guest endpoints of their kind", () => {
  const specs = parseEndpointsFile(GOOD, "e.yaml");
  const endpoints = specs.map(createEndpoint);
  assert.deepEqual(
    endpoints.map((e) => [e.name, e.kind, e.role, e.address]),
    [
      ["hv", "local", "host", "10.0.0.1"],
      ["vm1", "libvirt", "guest", "10.0.0.21"],
      ["vm2", "libvirt", "guest", "10.0.0.22"],
      ["vm3", "qemu", "guest", "10.0.0.23"],
      ["vm4", "qemu", "guest", "10.0.0.24"],
    ],
  );
  const [vm1, vm2] = [endpoints[1] as LibvirtGuestEndpoint, endpoints[2] as LibvirtGuestEndpoint];
  assert.deepEqual([vm1.domain, vm1.virsh.uri], ["web-01", DEFAULT_LIBVIRT_URI]);
  assert.equal(vm2.virsh.uri, "qemu:///session");
  const vm3 = endpoints[3] as QemuGuestEndpoint;
  assert.deepEqual(vm3.guest, {
    qmpSocket: "/run/my-vm/qmp.sock",
    controlSockets: ["/run/my-vm/ctl0.sock", "/run/my-vm/ctl1.sock"],
  });
  assert.deepEqual((endpoints[4] as QemuGuestEndpoint).guest.controlSockets, ["/run/vm4/ctl.sock"]);
});

const BAD: Array<[string, string, string]> = [
  [
    "a libvirt endpoint without its domain",
    "  - { name: vm, kind: libvirt, role: guest, address: 10.0.0.2 }",
    "f.yaml:2:5: endpoints[0]: missing field domain (required for kind libvirt)",
  ],
  [
    "a remote libvirt URI",
    "  - { name: vm, kind: libvirt, role: guest, domain: d, uri: 'qemu+ssh://hv/system', address: 10.0.0.2 }",
    'f.yaml:2:61: endpoints[0].uri: expected a libvirt URI of this machine such as qemu:///system (the domain\'s threads and sockets are read here), got "qemu+ssh://hv/system"',
  ],
  [
    "a libvirt endpoint as a host",
    "  - { name: vm, kind: libvirt, role: host, domain: d, address: 10.0.0.2 }",
    'f.yaml:2:38: endpoints[0].role: expected one of guest, got "host"',
  ],
  [
    "a qemu endpoint with a relative QMP socket",
    "  - { name: vm, kind: qemu, role: guest, qmp: qmp.sock, control: /run/c.sock, address: 10.0.0.2 }",
    'f.yaml:2:47: endpoints[0].qmp: expected the absolute path of a unix socket on this machine, got "qmp.sock"',
  ],
  [
    "a qemu endpoint without its control sockets",
    "  - { name: vm, kind: qemu, role: guest, qmp: /run/q.sock, address: 10.0.0.2 }",
    "f.yaml:2:5: endpoints[0]: missing field control (required for kind qemu)",
  ],
  [
    "a bad control socket in the list",
    "  - { name: vm, kind: qemu, role: guest, qmp: /run/q.sock, control: [/run/a.sock, b], address: 10.0.0.2 }",
    'f.yaml:2:83: endpoints[0].control[1]: expected the absolute path of a unix socket on this machine, got "b"',
  ],
  [
    "an ssh field on a libvirt endpoint",
    "  - { name: vm, kind: libvirt, role: guest, domain: d, ssh: root@vm, address: 10.0.0.2 }",
    "f.yaml:2:56: endpoints[0].ssh: unknown field for kind libvirt (expected: name, role, address, host, kind, domain, uri)",
  ],
];

for (const [what, entry, expected] of BAD) {
  test(`endpoints file: ${what} is refused with its field`, () => {
    assert.throws(
      () => parseEndpointsFile(`endpoints:\n${entry}\n`, "f.yaml"),
      (error: unknown) => {
        assert.ok(error instanceof EndpointsFileError);
        assert.equal(error.message.split("\n")[0], expected);
        return true;
      },
    );
  });
}

test("a trial's domstats: the stats after it and what moved, per libvirt endpoint", () => {
  const vm = new LibvirtGuestEndpoint({ name: "vm", role: "guest", address: "10.0.0.2", domain: "web" });
  const before = { vm: parseDomstats(recorded("domstats.txt")) };
  const after = { vm: { ...before.vm, "cpu.time": 1441932500 } };
  assert.deepEqual(trialDomainStats([vm], before, after), {
    vm: { domain: "web", uri: DEFAULT_LIBVIRT_URI, stats: after.vm, delta: { "cpu.time": 500 } },
  });
});
