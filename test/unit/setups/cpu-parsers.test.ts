import assert from "node:assert/strict";
import { test } from "node:test";
import { formatCpuList, normalizeCpuList, parseCpuList } from "../../../src/setups/cpu-list.js";
import { allowedCpus, parsePsArgs, parsePsThreads, selectTasks } from "../../../src/setups/cpu-tasks.js";

test("CPU lists: the kernel's notation both ways", () => {
  assert.deepEqual(parseCpuList("0-3,8,10-11"), [0, 1, 2, 3, 8, 10, 11]);
  assert.deepEqual(parseCpuList("1,0"), [0, 1]);
  assert.equal(parseCpuList("0-"), null);
  assert.equal(parseCpuList("3-1"), null);
  assert.equal(formatCpuList([5, 0, 1, 2]), "0-2,5");
  assert.equal(normalizeCpuList("1,0"), "0-1");
});

// `ps -eLo pid=,lwp=,comm=` and `ps -eo pid=,args=` as a qemu host prints them.
const THREADS = `    1     1 systemd
 4242  4242 qemu-system-x86
 4242  4250 CPU 0/KVM
 4242  4251 CPU 1/KVM
 4242  4260 vhost-4242
 5000  5000 node
`;
const ARGS = `    1 /sbin/init
 4242 /usr/bin/qemu-system-x86_64 -name vm1 -smp 2
 5000 node dist/src/cli/main.js agent
`;

test("ps output: threads with spaces in their names; selection by process pattern, threads, PID", () => {
  const threads = parsePsThreads(THREADS);
  assert.deepEqual(threads[2], { pid: 4242, tid: 4250, comm: "CPU 0/KVM" });
  const args = parsePsArgs(ARGS);
  const vcpus = selectTasks(threads, args, { process: "qemu-system", threads: "^CPU \\d+/KVM$" });
  assert.deepEqual(
    vcpus.map((t) => t.tid),
    [4250, 4251],
  );
  assert.deepEqual(
    selectTasks(threads, args, { process: "-name vm1", threads: "^vhost-" }).map((t) => t.tid),
    [4260],
  );
  assert.deepEqual(
    selectTasks(threads, args, { pids: [5000] }).map((t) => t.tid),
    [5000],
  );
  assert.deepEqual(selectTasks(threads, args, { pid: 4242 }).length, 4);
});

test("Cpus_allowed_list from /proc/PID/task/TID/status", () => {
  assert.equal(allowedCpus("Name:\tnode\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n"), "0-1");
  assert.equal(allowedCpus("Name:\tnode\n"), null);
});
