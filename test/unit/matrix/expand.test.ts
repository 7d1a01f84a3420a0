import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { whyUnsupported } from "../../../src/drivers/registry.js";
import { expandMatrix } from "../../../src/matrix/expand.js";
import { parseMatrix } from "../../../src/matrix/parse.js";
import { estimateSeconds, planMatrix } from "../../../src/matrix/plan.js";
import { matrixJsonSchema } from "../../../src/matrix/schema.js";

const deps = { unsupported: whyUnsupported, readText: (path: string) => readFileSync(path, "utf8") };
const parse = (text: string) => parseMatrix(text, "m.yaml", deps);

const BASE = `
categories:
  network: [host-to-guest, { name: guest-to-guest, direction: bidirectional }]
  cpu: [none, { name: pin, pin: [{ generator: true, cpus: "1,0" }] }]
  hypervisor: [default, kernel-b]
  traffic:
    - { name: rr, protocol: tcp, pattern: rr, sizes: [64, 1k], duration: 0.5, warmup: 0.1 }
    - { name: paced, protocol: udp, pattern: paced, sizes: [64], rates: [1000, 5k], responseSizes: [32] }
`;

test("the cross product: network × hypervisor × guest × cpu × traffic (sizes × rates), network outermost", () => {
  const matrix = parse(BASE);
  const cells = expandMatrix(matrix);
  // 2 networks × 2 hypervisors × 1 guest × 2 cpu × (2 rr sizes + 2 paced rates)
  assert.equal(cells.length, 2 * 2 * 1 * 2 * 4);
  assert.equal(new Set(cells.map((c) => c.key)).size, cells.length, "keys are unique");
  assert.deepEqual(cells[0]!.setup, {
    network: "host-to-guest",
    direction: "one-way",
    cpu: "none",
    guest: "default",
    hypervisor: "default",
  });
  assert.equal(cells.at(-1)!.setup.direction, "bidirectional");
  assert.deepEqual(
    cells.slice(0, 4).map((c) => [c.traffic.requestSize, c.traffic.responseSize, c.traffic.rate]),
    [
      [64, 64, "max"],
      [1024, 1024, "max"],
      [64, 32, 1000],
      [64, 32, 5000],
    ],
  );
  assert.equal(matrix.cpu[1]!.pin[0]!.cpus, "0-1", "CPU lists are normalized");
  assert.ok(cells[0]!.key.includes("cpu=none") && cells.some((c) => c.key.includes("hv=kernel-b")));
  assert.equal(cells[0]!.traffic.durationS, 0.5);
});

test("include keeps combinations matching a rule; exclude then removes", () => {
  const matrix = parse(`${BASE}
include:
  - { cpu: pin, traffic: rr }
  - { network: guest-to-guest }
exclude:
  - { hypervisor: kernel-b, traffic: [paced] }
`);
  const cells = expandMatrix(matrix);
  for (const cell of cells) {
    assert.ok(
      (cell.options.cpu === "pin" && cell.options.traffic === "rr") ||
        cell.options.network === "guest-to-guest",
    );
    assert.ok(!(cell.options.hypervisor === "kernel-b" && cell.options.traffic === "paced"));
  }
  // h2g: pin × rr (2 sizes) × 2 hv = 4; g2g: 2 hv × 2 cpu × 4 traffic − kernel-b paced (2 cpu × 2) = 12
  assert.equal(cells.length, 4 + 12);
});

test("defaults: cpu none, guest and hypervisor default, 3 trials, sequential, no seed, 5 s + 1 s", () => {
  const matrix = parse(`categories:
  network: [loopback]
  traffic: [{ name: rr, protocol: tcp, pattern: rr, sizes: [64] }]
acceptance: { noise: 3%, metrics: { latencyP99: 0.1, hostCpuSeconds: 5%, latencyP50: false }, inconclusive: fail }
`);
  assert.deepEqual(
    [matrix.cpu[0]!.name, matrix.guest[0]!.name, matrix.hypervisor[0]!.name],
    ["none", "default", "default"],
  );
  assert.equal(matrix.trials, 3);
  assert.equal(matrix.order, "sequential");
  assert.equal(matrix.seed, null);
  assert.deepEqual(matrix.acceptance, {
    noise: 0.03,
    metrics: { latencyP99: 0.1, hostCpuSeconds: 0.05 },
    judge: { latencyP99: true, hostCpuSeconds: true, latencyP50: false },
    inconclusive: "fail",
  });
  assert.equal(matrix.traffic[0]!.traffic[0]!.durationS, 5);
  assert.equal(matrix.endpoints.kind, "default");
});

test("plan: skipped cpu options take their cells out with the reason; trials and duration add up", () => {
  const matrix = parse(BASE);
  const plan = planMatrix(matrix, { trials: 2, skippedOptions: new Map([["pin", "no CPU 1"]]) });
  assert.equal(plan.cells.length, 16);
  assert.equal(plan.skipped.length, 16);
  assert.match(plan.skipped[0]!.reason, /^cpu option pin: no CPU 1$/);
  assert.equal(plan.trialCount, 32);
  // rr: 0.5 + 0.1 + 0.3 s; paced: 5 + 1 + 0.3 s, per trial; 2 sessions' start of 1 s
  const perCell = (8 * 0.9 + 8 * 6.3) * 2;
  assert.equal(plan.estimatedSeconds, Math.round(perCell + 2));
  assert.equal(estimateSeconds([], 3, matrix), 0);
});

test("inline endpoints are checked by the endpoints file's rules, and name what steps may use", () => {
  const matrix = parse(`endpoints:
  - { name: hv1, kind: local, role: host }
  - { name: vm1, kind: netns, netns: vm1ns, role: guest, address: 10.0.0.2 }
categories:
  network: [host-to-guest]
  guest:
    - { name: jumbo, apply: [{ on: vm1, run: [ip, link, set, eth0, mtu, "9000"] }], revert: [{ on: vm1, run: [ip, link, set, eth0, mtu, "1500"] }] }
  traffic: [{ name: rr, protocol: tcp, pattern: rr, sizes: [64] }]
`);
  assert.equal(matrix.endpoints.kind, "inline");
  assert.deepEqual(matrix.guest[0]!.apply[0], {
    on: "vm1",
    run: ["ip", "link", "set", "eth0", "mtu", "9000"],
  });
});

test("schema/matrix.schema.json is the schema generated from the zod definition", () => {
  const file = fileURLToPath(new URL("../../../schema/matrix.schema.json", import.meta.url));
  assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), matrixJsonSchema());
});

test("the examples are valid matrices", () => {
  for (const name of ["quick.yaml", "seed-full.yaml"]) {
    const file = fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url));
    assert.ok(expandMatrix(parseMatrix(readFileSync(file, "utf8"), file, deps)).length > 0, name);
  }
});

test("matrix sizes take k and m suffixes as the flags do, up to 16m", () => {
  const matrix = (sizes: string) =>
    `categories:\n  network: [loopback]\n  traffic:\n    - { name: s, protocol: tcp, pattern: stream, sizes: ${sizes} }\n`;
  const cells = expandMatrix(parse(matrix("[1m, 16M, 64k]")));
  assert.deepEqual(
    cells.map((cell) => cell.traffic.requestSize),
    [1048576, 16777216, 65536],
  );
  assert.throws(
    () => parse(matrix("[17m]")),
    /sizes\[0\]: expected a message size in bytes between 1 and 16777216/,
  );
});

const QEMU_OPTIONS = `
categories:
  network: [host-to-guest, guest-to-guest]
  hypervisor:
    - { name: q2, qemu: { queues: 2, vhost: false, device: { mrg_rxbuf: false, tx: bh, rx_queue_size: 512 } } }
    - plain
    - { name: q1, qemu: { queues: 1 } }
  guest:
    - { name: small, mtu: 1400, offloads: { tso: false }, channels: 2 }
  cpu:
    - { name: vcpus, pin: [{ qemu: vcpus, cpus: 1 }] }
  traffic:
    - { name: rr, protocol: tcp, pattern: rr, sizes: [64] }
`;

test("hypervisor qemu settings and guest NIC settings parse; cells needing one qemu are grouped", () => {
  const matrix = parse(QEMU_OPTIONS);
  assert.deepEqual(matrix.hypervisor[0]!.qemu, {
    queues: 2,
    vhost: false,
    device: { mrg_rxbuf: "off", tx: "bh", rx_queue_size: "512" },
  });
  assert.equal(matrix.hypervisor[1]!.qemu, undefined);
  assert.deepEqual(matrix.guest[0]!.nic, { mtu: 1400, offloads: { tso: false }, channels: 2 });
  assert.deepEqual(matrix.cpu[0]!.pin, [{ qemu: "vcpus", cpus: "1" }]);
  // Network outermost would alternate q2, plain, q1 per network: grouped, each machine runs once.
  const order = expandMatrix(matrix).map((cell) => `${cell.setup.hypervisor} ${cell.setup.network}`);
  assert.deepEqual(order, [
    "q2 host-to-guest",
    "q2 guest-to-guest",
    "plain host-to-guest",
    "plain guest-to-guest",
    "q1 host-to-guest",
    "q1 guest-to-guest",
  ]);
});

test("qemu settings and selectors are checked: a bad device property, qemu with on", () => {
  assert.throws(() => parse(QEMU_OPTIONS.replace("tx: bh", "'tx x': bh")), /hypervisor/);
  assert.throws(
    () => parse(QEMU_OPTIONS.replace("{ qemu: vcpus, cpus: 1 }", "{ qemu: vcpus, on: local, cpus: 1 }")),
    /`on` does not apply/,
  );
  assert.throws(() => parse(QEMU_OPTIONS.replace("queues: 1 }", "queues: 9 }")), /queues/);
});
