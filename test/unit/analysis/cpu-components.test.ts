import assert from "node:assert/strict";
import { test } from "node:test";
import { cpuByComponent, demandByComponent, vhostPattern } from "../../../src/analysis/cpu-components.js";
import type { CpuReport } from "../../../src/monitors/cpu-report.js";

const thread = (tid: number, seconds: number) => ({
  pid: 100,
  tid,
  name: `t${tid}`,
  seconds,
  started: false,
  exited: false,
});

function report(hostSeconds: number, generatorSeconds: number, vhostSeconds: number): CpuReport {
  return {
    hostSeconds,
    generatorSeconds,
    processes: [
      {
        name: "qemu",
        pids: [100],
        seconds: 0.9,
        threads: [thread(101, 0.5), thread(102, 0.3), thread(100, 0.1)],
      },
      { name: "vhost", pids: [], seconds: vhostSeconds, threads: [] },
    ],
  } as unknown as CpuReport;
}

test("vCPU seconds are the qemu threads QMP named; the rest is what no component accounts for", () => {
  const split = cpuByComponent(report(2, 0.4, 0.2), { qemuPids: [100], vcpuTids: [101, 102] });
  assert.ok(Math.abs(split.vcpu - 0.8) < 1e-9);
  assert.ok(Math.abs(split.qemu - 0.1) < 1e-9);
  assert.equal(split.vhost, 0.2);
  assert.equal(split.generator, 0.4);
  assert.ok(Math.abs(split.rest - 0.5) < 1e-9);
});

test("vhost workers that are threads of qemu (Linux 6.4 on) count as vhost, not as the emulator", () => {
  const withWorker = report(2, 0.4, 0) as unknown as {
    processes: Array<{ seconds: number; threads: unknown[] }>;
  };
  withWorker.processes[0]!.threads.push({ ...thread(103, 0.25), name: "vhost-100" });
  withWorker.processes[0]!.seconds += 0.25;
  const split = cpuByComponent(withWorker as unknown as CpuReport, { qemuPids: [100], vcpuTids: [101, 102] });
  assert.ok(Math.abs(split.vhost - 0.25) < 1e-9, `vhost ${split.vhost}`);
  assert.ok(Math.abs(split.qemu - 0.1) < 1e-9, `qemu ${split.qemu}`);
  assert.ok(Math.abs(split.vcpu - 0.8) < 1e-9);
});

test("the rest never goes below zero when threads are read a little past the host's window", () => {
  assert.equal(cpuByComponent(report(1, 0.4, 0), { qemuPids: [100], vcpuTids: [101] }).rest, 0);
});

test("per-component demand is µs per transaction, or per KB for bytes", () => {
  const seconds = { vcpu: 1, qemu: 0.5, vhost: 0, generator: 0.25, rest: 0 };
  assert.deepEqual(demandByComponent(seconds, { transactions: 1e6 }), {
    vcpu: 1,
    qemu: 0.5,
    vhost: 0,
    generator: 0.25,
    rest: 0,
  });
  assert.equal(demandByComponent(seconds, { bytes: 1024 * 1e6 })!.vcpu, 1);
  assert.equal(demandByComponent(seconds, { transactions: 0 }), null);
});

test("vhost workers are matched by the qemu PIDs they serve", () => {
  const pattern = new RegExp(vhostPattern([12, 345]));
  assert.ok(pattern.test("vhost-345"));
  assert.ok(!pattern.test("vhost-3456"));
});
