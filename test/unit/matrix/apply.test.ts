// An option's kernel settings: read before they are set, and what was read is put back on revert,
// also by a resumed run from what the crashed one recorded.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { whyUnsupported } from "../../../src/drivers/registry.js";
import type { Endpoint } from "../../../src/endpoints/endpoint.js";
import type { NetnsEndpoint } from "../../../src/endpoints/netns.js";
import { DEFAULT_HARDWARE } from "../../../src/guests/qemu.js";
import { type GuestMachine, machineWith } from "../../../src/guests/settings.js";
import type { QemuControl } from "../../../src/labs/guest-control.js";
import type { Lab } from "../../../src/labs/netns-lab.js";
import { LAB_NODES, type LabNode, labTopology } from "../../../src/labs/topology.js";
import { type AppliedSetup, MatrixSetups } from "../../../src/matrix/apply.js";
import { expandMatrix, type MatrixCell } from "../../../src/matrix/expand.js";
import type { Matrix } from "../../../src/matrix/matrix.js";
import { parseMatrix } from "../../../src/matrix/parse.js";
import { resolveNetworkSetup } from "../../../src/setups/network.js";

const deps = { unsupported: whyUnsupported, readText: (path: string) => readFileSync(path, "utf8") };

/** An endpoint whose only command is sysctl, over an in-memory kernel. */
function kernel(name: string, settings: Record<string, string>): Endpoint & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    name,
    kind: "netns",
    role: "host",
    address: "10.0.0.1",
    calls,
    async exec(argv) {
      calls.push([...argv]);
      if (argv[0] === "sysctl" && argv[1] === "-n") {
        const value = settings[argv[2]!];
        if (value === undefined) throw new Error(`sysctl: cannot stat /proc/sys/${argv[2]}`);
        return { stdout: `${value}\n`, stderr: "", code: 0, signal: null };
      }
      if (argv[0] === "sysctl" && argv[1] === "-qw") {
        const [key, value] = argv[2]!.split(/=(.*)/s) as [string, string];
        settings[key] = value;
        return { stdout: "", stderr: "", code: 0, signal: null };
      }
      throw new Error(`unexpected command ${argv.join(" ")}`);
    },
    start: () => {
      throw new Error("not used");
    },
    readFile: async () => "",
    vnetbenchCommand: () => [],
  };
}

const MATRIX = `
endpoints:
  - { name: hv1, kind: local, role: host }
categories:
  network: [loopback]
  hypervisor:
    - default
    - name: tuned
      sysctl:
        - { on: hv1, name: net.ipv4.tcp_congestion_control, value: reno }
        - { on: hv1, name: net.ipv4.tcp_rmem, value: "4096 131072 6291456" }
  traffic: [{ name: rr, protocol: tcp, pattern: rr, sizes: [64] }]
`;

function setupsOver(
  matrix: Matrix,
  endpoint: Endpoint,
  record: (applied: AppliedSetup[]) => void = () => {},
) {
  return new MatrixSetups(
    matrix,
    { byName: new Map([[endpoint.name, endpoint]]), host: endpoint, local: endpoint },
    record,
  );
}

const context = { generator: [] };
const cellOf = (cells: MatrixCell[], hypervisor: string) =>
  cells.find((c) => c.setup.hypervisor === hypervisor)!;

test("an option's sysctl is set for its cells and what was there before is restored, whatever it was", async () => {
  const matrix = parseMatrix(MATRIX, "m.yaml", deps);
  const cells = expandMatrix(matrix);
  const settings = { "net.ipv4.tcp_congestion_control": "bbr", "net.ipv4.tcp_rmem": "4096\t87380\t6291456" };
  const hv1 = kernel("hv1", settings);
  const setups = setupsOver(matrix, hv1);
  await setups.enter(cellOf(cells, "tuned"), context);
  assert.deepEqual(settings, {
    "net.ipv4.tcp_congestion_control": "reno",
    "net.ipv4.tcp_rmem": "4096 131072 6291456",
  });
  await setups.enter(cellOf(cells, "default"), context);
  assert.deepEqual(settings, {
    "net.ipv4.tcp_congestion_control": "bbr",
    "net.ipv4.tcp_rmem": "4096\t87380\t6291456",
  });
  await setups.enter(cellOf(cells, "tuned"), context);
  await setups.close();
  assert.equal(settings["net.ipv4.tcp_congestion_control"], "bbr");
});

test("a resumed run restores the values the crashed run recorded before it set them", async () => {
  const matrix = parseMatrix(MATRIX, "m.yaml", deps);
  const settings = { "net.ipv4.tcp_congestion_control": "htcp", "net.ipv4.tcp_rmem": "1 2 3" };
  let recorded: AppliedSetup[] = [];
  const crashed = setupsOver(matrix, kernel("hv1", settings), (applied) => {
    recorded = JSON.parse(JSON.stringify(applied));
  });
  await crashed.enter(cellOf(expandMatrix(matrix), "tuned"), context);
  assert.equal(settings["net.ipv4.tcp_congestion_control"], "reno");
  await setupsOver(matrix, kernel("hv1", settings)).recover(recorded);
  assert.deepEqual(settings, { "net.ipv4.tcp_congestion_control": "htcp", "net.ipv4.tcp_rmem": "1 2 3" });
});

test("a setting the endpoint does not have fails the apply, naming option and sysctl, and changes nothing", async () => {
  const matrix = parseMatrix(MATRIX, "m.yaml", deps);
  const settings: Record<string, string> = { "net.ipv4.tcp_congestion_control": "cubic" };
  const setups = setupsOver(matrix, kernel("hv1", settings));
  await assert.rejects(
    setups.enter(cellOf(expandMatrix(matrix), "tuned"), context),
    /hypervisor option tuned apply: reading sysctl net.ipv4.tcp_rmem on hv1/,
  );
  assert.deepEqual(settings, { "net.ipv4.tcp_congestion_control": "cubic" });
});

test("a sysctl names a known endpoint and a sysctl key", () => {
  const bad = (setting: string) =>
    MATRIX.replace("{ on: hv1, name: net.ipv4.tcp_congestion_control, value: reno }", setting);
  assert.throws(
    () => parseMatrix(bad("{ on: hv9, name: net.ipv4.tcp_congestion_control, value: reno }"), "m.yaml", deps),
    /m\.yaml:\d+:\d+.*unknown endpoint "hv9"/,
  );
  assert.throws(
    () => parseMatrix(bad("{ on: hv1, name: 'a b', value: reno }"), "m.yaml", deps),
    /expected a sysctl name/,
  );
});

test("seed-full's TCP congestion-control option restores the host's own algorithm, and runs only where host1 has the path's TCP sockets", async () => {
  const file = fileURLToPath(new URL("../../../examples/seed-full.yaml", import.meta.url));
  const matrix = parseMatrix(readFileSync(file, "utf8"), file, deps);
  const option = matrix.hypervisor.find((o) =>
    o.sysctl?.some((s) => s.name === "net.ipv4.tcp_congestion_control"),
  );
  assert.ok(option, "a hypervisor option sets net.ipv4.tcp_congestion_control");
  assert.deepEqual(option.revert, [], "the sysctl's own revert restores it, no hard-coded value");

  const settings: Record<string, string> = { "net.ipv4.tcp_congestion_control": "htcp" };
  const host1 = kernel("host1", settings);
  const cells = expandMatrix(matrix).filter((c) => c.setup.hypervisor === option.name);
  const setups = setupsOver(matrix, host1);
  await setups.enter(cells[0]!, context);
  assert.notEqual(settings["net.ipv4.tcp_congestion_control"], "htcp");
  await setups.close();
  assert.equal(settings["net.ipv4.tcp_congestion_control"], "htcp");

  // On the lab the example runs on, every cell of the option has a TCP client or server on host1.
  const topology = labTopology("vnbrun");
  const endpoints = Object.fromEntries(LAB_NODES.map((node) => [node, { name: node } as NetnsEndpoint]));
  const lab = { name: "vnbrun", topology, endpoints } as unknown as Lab &
    Record<"endpoints", Record<LabNode, Endpoint>>;
  assert.ok(cells.length > 0);
  for (const cell of cells) {
    assert.equal(cell.traffic.protocol, "tcp", cell.key);
    const path = resolveNetworkSetup(cell.setup.network, { lab });
    assert.ok(
      [path.client.name, path.server.name].includes("host1"),
      `${cell.key}: ${path.client.name} → ${path.server.name} has no TCP socket on host1`,
    );
  }
});

test("a hypervisor option's qemu settings restart the guests only when the machine changes, and read back", async () => {
  const matrix = parseMatrix(
    MATRIX.replace(
      "    - default\n",
      "    - default\n    - { name: q2, qemu: { queues: 2 } }\n    - { name: q1, qemu: { queues: 1, vhost: false } }\n",
    ),
    "m.yaml",
    deps,
  );
  const cells = expandMatrix(matrix);
  const lab: GuestMachine = { accel: "tcg", hardware: { ...DEFAULT_HARDWARE } };
  let running = lab;
  let pid = 100;
  const booted: number[] = [];
  const qemu: QemuControl = {
    machine: () => running,
    restart: async (machine) => {
      running = machine;
      booted.push(machine.hardware.queues);
      pid++;
      return { g1: 1000 };
    },
    readBack: async () => ({
      g1: {
        pid,
        accel: "tcg",
        vcpus: 1,
        queues: running.hardware.queues,
        vhost: false,
        device: { mq: "off" },
      },
    }),
    vhostUnusable: "no /dev/vhost-net on this host",
  };
  const hv1 = kernel("hv1", { "net.ipv4.tcp_congestion_control": "bbr", "net.ipv4.tcp_rmem": "x" });
  const restarts: string[] = [];
  const setups = new MatrixSetups(
    matrix,
    { byName: new Map([["hv1", hv1]]), host: hv1, local: hv1 },
    () => {},
    { control: { nics: [], qemu }, restoreMachine: true, onRestart: (r) => restarts.push(r.option) },
  );
  const sequence = ["default", "q1", "q2", "q2", "default", "q1"];
  const restarted: boolean[] = [];
  const read: number[] = [];
  for (const name of sequence) {
    const cell = cellOf(cells, name);
    restarted.push(await setups.beforeSession(cell));
    const state = await setups.enter(cell, context);
    assert.equal(state.hypervisorSetup?.option, name);
    read.push(state.hypervisorSetup!.guests.g1!.queues!);
  }
  // default and q1 need the same qemu here (vhost cannot be had): restarts only into and out of q2.
  assert.deepEqual(restarted, [false, false, true, false, true, false]);
  assert.deepEqual(restarts, ["q2", "default"]);
  assert.deepEqual(read, [1, 1, 2, 2, 1, 1]);
  await setups.finish();
  assert.deepEqual(booted, [2, 1], "the lab's own machine is running: nothing to restore");

  // A machine that does not read back as asked fails the trial.
  running = machineWith(lab, { queues: 2 });
  qemu.readBack = async () => ({
    g1: { pid, accel: "tcg", vcpus: 1, queues: 1, vhost: false, device: { mq: "on" } },
  });
  await assert.rejects(
    setups.enter(cellOf(cells, "q2"), context),
    /q2 does not read back: g1 queues: asked 2, reads 1/,
  );
});
