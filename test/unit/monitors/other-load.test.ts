import assert from "node:assert/strict";
import { test } from "node:test";
import { otherLoadBetween, type ProcStat, parsePidStat } from "../../../src/monitors/other-load.js";

// A real line of /proc/PID/stat (fields after utime/stime cut), with a comm holding ") (".
const LINE = "4242 (we) (ird) S 17 4242 4242 0 -1 4194560 1523 0 0 0 250 75 12 3 20 0 1 0 100 0 0";

test("a stat line: pid, comm with parentheses and spaces, ppid, utime + stime, cutime + cstime, kernel-thread flag", () => {
  assert.deepEqual(parsePidStat(LINE), {
    pid: 4242,
    comm: "we) (ird",
    ppid: 17,
    ticks: 325,
    childTicks: 15,
    kernel: false,
  });
  const kthread = "12 (ksoftirqd/0) S 2 0 0 0 -1 69238848 0 0 0 0 0 310 0 0 20 0 1 0 3 0 0";
  assert.equal(parsePidStat(kthread)?.kernel, true);
  assert.equal(parsePidStat("garbage"), null);
});

const stat = (pid: number, ppid: number, ticks: number, kernel = false, childTicks = 0): ProcStat => ({
  pid,
  ppid,
  ticks,
  childTicks,
  kernel,
  comm: `p${pid}`,
});
const map = (...stats: ProcStat[]) => new Map(stats.map((s) => [s.pid, s]));

test("other load: the growth of processes not ours, nor descending from ours, nor kernel threads", () => {
  const before = map(
    stat(100, 1, 1000), // ours (the CLI)
    stat(101, 100, 50), // our agent
    stat(102, 101, 5), // the agent's child
    stat(200, 1, 300), // another job
    stat(300, 2, 10, true), // ksoftirqd: the path's kernel work
    stat(400, 1, 900), // a process that reused a PID below (ticks go down)
  );
  const after = map(
    stat(100, 1, 1100),
    stat(101, 100, 250),
    stat(102, 101, 45),
    stat(103, 100, 30), // ours, started inside the window
    stat(200, 1, 450), // +150 ticks = 1.5 s
    stat(300, 2, 200, true),
    stat(400, 1, 20), // new process under an old PID: 0.2 s, whole
    stat(500, 1, 80), // another process started inside the window: 0.8 s
  );
  const load = otherLoadBetween(before, after, [100], 10, 100);
  assert.ok(Math.abs(load.seconds - 2.5) < 1e-9, `${load.seconds}`);
  assert.ok(Math.abs(load.fraction - 0.25) < 1e-9);
  assert.deepEqual(
    load.top.map((p) => [p.pid, p.seconds]),
    [
      [200, 1.5],
      [500, 0.8],
      [400, 0.2],
    ],
  );
  // The same processes named as ours (e.g. qemu, daemonized) leave nothing.
  assert.equal(otherLoadBetween(before, after, [100, 200, 400, 500], 10).seconds, 0);
});

test("other load: processes that start and end inside the window count through their parent's children's ticks", () => {
  // A build: make (600) runs compilers that each live a fraction of the window.
  const before = map(
    stat(100, 1, 1000, false, 40), // ours
    stat(600, 1, 10, false, 500), // make, 5 s of compilers reaped before the window
    stat(601, 600, 30), // a compiler already running: 0.3 s before the window
    stat(602, 601, 5), // its child, gone too: reaped by 601, so inside 601's children's ticks
  );
  const after = map(
    stat(100, 1, 1100, false, 900), // ours: what our commands used is not another job's
    stat(600, 1, 12, false, 500 + 35 + 5 + 150), // 601 (35, with its child's 5) and three compilers (150) reaped
    stat(700, 1, 8, false, 40), // a script started inside the window, its commands reaped: all of it
  );
  const load = otherLoadBetween(before, after, [100], 10, 100);
  // make: 2 own + (690 − 500 − (30 + 5)) = 157 ticks; the script 48.
  assert.deepEqual(
    load.top.map((p) => [p.pid, p.seconds]),
    [
      [600, 1.57],
      [700, 0.48],
    ],
  );
  assert.ok(Math.abs(load.seconds - 2.05) < 1e-9, `${load.seconds}`);
});
