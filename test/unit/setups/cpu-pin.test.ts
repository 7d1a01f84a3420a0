// `pin: generator` acts on the generator's processes where they run: this machine's (a netns is
// this machine) through the local endpoint, a remote machine's through its own endpoint, by the
// PIDs they have there.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { Endpoint, EndpointKind } from "../../../src/endpoints/endpoint.js";
import { applyCpuOption, revertCpuState } from "../../../src/setups/cpu.js";

/** A machine whose processes are `threads` (pid → tids), all allowed on CPUs 0-1 at first. */
function machine(name: string, kind: EndpointKind, threads: Record<number, number[]>) {
  const affinity = new Map<number, string>();
  for (const tids of Object.values(threads)) for (const tid of tids) affinity.set(tid, "0-1");
  const tasksets: string[] = [];
  const endpoint: Endpoint = {
    name,
    kind,
    role: "host",
    address: "192.0.2.1",
    async exec(argv) {
      const ok = (stdout: string) => ({ stdout, stderr: "", code: 0, signal: null });
      if (argv[0] === "ps")
        return ok(
          Object.entries(threads)
            .flatMap(([pid, tids]) => tids.map((tid) => `${pid} ${tid} node`))
            .join("\n"),
        );
      if (argv[0] === "taskset") {
        const [, , , cpus, tid] = argv as string[];
        affinity.set(Number(tid), cpus!);
        tasksets.push(`${tid}:${cpus}`);
        return ok("");
      }
      throw new Error(`unexpected ${argv.join(" ")}`);
    },
    async readFile(path) {
      const tid = Number(/task\/(\d+)\/status$/.exec(path)?.[1]);
      if (!affinity.has(tid)) throw new Error(`ENOENT ${path}`);
      return `Name:\tnode\nCpus_allowed_list:\t${affinity.get(tid)}\n`;
    },
    start: () => {
      throw new Error("not used");
    },
    vnetbenchCommand: () => [],
  };
  return { endpoint, tasksets, affinity };
}

test("the generator is pinned on each machine it runs on, through that machine's endpoint", async () => {
  // This machine runs PIDs 10 (in netns g1) and 11; hv1, reached over ssh, runs PID 10 too.
  const local = machine("local", "local", { 10: [10, 12], 11: [11], 99: [99] });
  const hv1 = machine("hv1", "ssh", { 10: [10, 13], 77: [77] });
  const g1 = { ...machine("g1", "netns", {}).endpoint };
  const endpoints = new Map([
    ["local", local.endpoint],
    ["hv1", hv1.endpoint],
  ]);
  const context = {
    endpointOf: (name?: string) => endpoints.get(name ?? "local")!,
    local: local.endpoint,
    generator: [
      { endpoint: g1, pid: 10 },
      { endpoint: local.endpoint, pid: 11 },
      { endpoint: hv1.endpoint, pid: 10 },
    ],
  };
  const option = {
    name: "pin-generator",
    apply: [],
    revert: [],
    pin: [{ generator: true as const, cpus: "0" }],
    irqAffinity: [],
  };
  const state = await applyCpuOption(option, context);
  assert.deepEqual(
    state.pins.map((p) => `${p.endpoint}/${p.pid}/${p.tid}`),
    ["local/10/10", "local/10/12", "local/11/11", "hv1/10/10", "hv1/10/13"],
  );
  assert.deepEqual(local.tasksets, ["10:0", "12:0", "11:0"]);
  assert.deepEqual(hv1.tasksets, ["10:0", "13:0"]);
  assert.equal(hv1.affinity.get(77), "0-1");

  await revertCpuState(state, context);
  assert.deepEqual([...hv1.affinity.values()], ["0-1", "0-1", "0-1"]);
  assert.deepEqual([...local.affinity.values()], ["0-1", "0-1", "0-1", "0-1"]);
});

test("a generator that runs nowhere yet cannot be pinned, and says where it looked", async () => {
  const local = machine("local", "local", { 1: [1] });
  await assert.rejects(
    applyCpuOption(
      { name: "p", apply: [], revert: [], pin: [{ generator: true, cpus: "0" }], irqAffinity: [] },
      { endpointOf: () => local.endpoint, local: local.endpoint, generator: [] },
    ),
    /no thread of the generator runs on local to pin/,
  );
});
