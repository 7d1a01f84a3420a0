// SIGKILL at random moments of a matrix run that pins CPUs, moves an IRQ and switches a sysctl
// (apply/revert steps), many times over: the store always opens, every finished trial is kept
// exactly once, --resume completes the run, and every setting is restored — by the resume, or by
// the next run when the killed one is not resumed.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import Database from "better-sqlite3";
import { labDown, labUp } from "../../src/labs/netns-lab.js";
import { CLI, runCli } from "../helpers/cli.js";
import { movableIrq } from "../helpers/irq.js";

const LAB = "vnbt14";
const root = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), "vnb-crash-"));
const KILLS = 20;
const SYSCTL = "net.ipv4.tcp_slow_start_after_idle";

before(async () => {
  if (root) await labUp({ name: LAB, baseSubnet: "10.236.0.0/16", force: true });
});
after(async () => {
  if (root) await labDown(LAB);
  rmSync(dir, { recursive: true, force: true });
});

const sysctl = () =>
  execFileSync("ip", ["netns", "exec", `${LAB}-host1`, "sysctl", "-n", SYSCTL], { encoding: "utf8" }).trim();
const irqAffinity = (irq: number) => readFileSync(`/proc/irq/${irq}/smp_affinity_list`, "utf8").trim();

function matrix(irq: { irq: number } | null): string {
  const irqLine = irq ? `\n      irqAffinity: [{ irq: ${irq.irq}, cpus: 0 }]` : "";
  return `endpoints: { lab: ${LAB} }
categories:
  network: [host-to-guest]
  cpu:
    - none
    - name: pinned
      pin: [{ generator: true, cpus: 0 }]${irqLine}
  hypervisor:
    - default
    - name: ssai-off
      apply: [{ on: host1, run: [sysctl, -qw, ${SYSCTL}=0] }]
      revert: [{ on: host1, run: [sysctl, -qw, ${SYSCTL}=1] }]
  traffic:
    - { name: rr, protocol: tcp, pattern: rr, sizes: [64], duration: 0.2, warmup: 0 }
trials: 3
order: interleaved
`;
}

type Row = { key: string; started: string };

/**
 * Opens the store as a reader would after the kill; throws when it does not open. A kill before
 * the run created its store (node still starting) leaves none, and one while it created its
 * tables leaves none of them (that transaction rolled back): nothing stored, nothing to lose.
 */
function completed(db: string): Row[] {
  if (!existsSync(db)) return [];
  const reader = new Database(db, { readonly: true, fileMustExist: true });
  try {
    assert.equal(reader.pragma("quick_check", { simple: true }), "ok");
    const hasTrials = reader
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'trials'")
      .pluck()
      .get();
    if (hasTrials === undefined) return [];
    return reader
      .prepare(
        "SELECT cell_key || '#' || trial AS key, started_at AS started FROM trials WHERE status = 'completed'",
      )
      .all() as Row[];
  } finally {
    reader.close();
  }
}

function runId(db: string): string | null {
  try {
    const reader = new Database(db, { readonly: true, fileMustExist: true });
    try {
      return (
        (reader.prepare("SELECT id FROM runs ORDER BY created_at LIMIT 1").pluck().get() as string) ?? null
      );
    } finally {
      reader.close();
    }
  } catch {
    return null;
  }
}

/** Starts the CLI and SIGKILLs it after `ms`; resolves when it is gone (or ended by itself). */
async function killAfter(args: string[], ms: number): Promise<{ killed: boolean; code: number | null }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "ignore", "ignore"] });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  const { code, signal } = await exited;
  clearTimeout(timer);
  return { killed: signal === "SIGKILL", code };
}

test(`SIGKILL ${KILLS} times at random offsets: nothing lost, nothing twice, every setting restored`, {
  skip: !root && "needs root (the netns lab, IRQ affinity)",
  timeout: 600_000,
}, async () => {
  const irq = movableIrq();
  const originalIrq = irq ? irq.affinity : null;
  const originalSysctl = sysctl();
  const file = join(dir, "matrix.yaml");
  writeFileSync(file, matrix(irq));
  const db = join(dir, "crash.db");

  const seen = new Map<string, string>();
  const offsets: number[] = [];
  let kills = 0;
  let midRun = 0;
  let id: string | null = null;
  for (let attempt = 0; kills < KILLS && attempt < KILLS * 4; attempt++) {
    // Startup (node, the lab's checks) takes seconds here: offsets reach across the whole run.
    const offset = Math.round(500 + Math.random() * 9500);
    const args = id ? ["run", "--resume", id, "--db", db] : ["run", file, "--db", db];
    const result = await killAfter(args, offset);
    id ??= runId(db);
    const rows = completed(db);
    const before = seen.size;
    for (const [key, started] of seen)
      assert.equal(
        rows.find((row) => row.key === key)?.started,
        started,
        `trial ${key} finished before a kill is kept as it was`,
      );
    for (const row of rows) seen.set(row.key, row.started);
    if (result.killed) {
      kills++;
      offsets.push(offset);
      if (rows.length > before) midRun++;
    } else if (result.code === 0) {
      // The run finished before this kill: start a new one to kill further.
      id = null;
      rmSync(db, { force: true });
      rmSync(`${db}-wal`, { force: true });
      rmSync(`${db}-shm`, { force: true });
      seen.clear();
    }
  }
  assert.equal(kills, KILLS, `killed ${kills} times`);
  console.log(
    `kill offsets (ms): ${offsets.join(", ")}; ${midRun} kills after the attempt committed a trial; ` +
      `IRQ ${irq ? irq.irq : "none movable"} in the cpu option`,
  );
  assert.ok(midRun >= KILLS / 4, `only ${midRun} kills landed after a trial was committed`);

  // The next run (not a resume) reverts what the killed run left applied, before its own trials.
  const next = await runCli(["run", file, "--db", db, "--trials", "1"], { timeoutMs: 180_000 });
  assert.equal(next.code, 0, next.stderr);
  assert.equal(sysctl(), originalSysctl, "sysctl restored");
  if (irq) assert.equal(irqAffinity(irq.irq), originalIrq, "IRQ affinity restored");

  if (id) {
    const resumed = await runCli(["run", "--resume", id, "--db", db, "--json"], { timeoutMs: 180_000 });
    assert.equal(resumed.code, 0, resumed.stderr);
    const trials = (
      JSON.parse(resumed.stdout) as { cells: Array<{ trials: Array<{ status: string }> }> }
    ).cells.flatMap((cell) => cell.trials);
    assert.equal(trials.length, 4 * 3, "each cell's trials exactly once");
    assert.ok(trials.every((trial) => trial.status === "completed"));
    const rows = completed(db);
    for (const [key, started] of seen)
      assert.equal(rows.find((row) => row.key === key)?.started, started, `trial ${key} kept once`);
  }
  assert.equal(sysctl(), originalSysctl, "sysctl restored after the resume");
  if (irq) assert.equal(irqAffinity(irq.irq), originalIrq, "IRQ affinity restored after the resume");
});

/** The run's journal of options in place, as a reader sees it mid-run. */
function applied(db: string): Array<{ category: string; sysctl?: unknown[]; cpu?: { irqs: unknown[] } }> {
  try {
    const reader = new Database(db, { readonly: true, fileMustExist: true });
    try {
      const metadata = reader.prepare("SELECT metadata FROM runs LIMIT 1").pluck().get() as
        | string
        | undefined;
      return metadata ? (JSON.parse(metadata).appliedSetups ?? []) : [];
    } finally {
      reader.close();
    }
  } catch {
    return [];
  }
}

test("lab down after a SIGKILL mid-run restores the sysctl and IRQ affinity the run changed, then removes the lab", {
  skip: !root && "needs root (the netns lab, IRQ affinity, sysctl)",
  timeout: 180_000,
}, async () => {
  // Not namespaced: set inside host1's namespace it changes this host, so only a restore undoes it.
  const global = "kernel.printk_ratelimit_burst";
  const readGlobal = () => execFileSync("sysctl", ["-n", global], { encoding: "utf8" }).trim();
  const irq = movableIrq();
  const before = { sysctl: readGlobal(), irq: irq ? irqAffinity(irq.irq) : null };
  const target = irq && before.irq === "0" ? "1" : "0";
  const irqLine = irq ? `\n      irqAffinity: [{ irq: ${irq.irq}, cpus: ${target} }]` : "";
  const file = join(dir, "left.yaml");
  writeFileSync(
    file,
    `endpoints: { lab: ${LAB} }
categories:
  network: [host-to-guest]
  cpu:
    - name: pinned
      pin: [{ generator: true, cpus: 0 }]${irqLine}
  hypervisor:
    - name: burst
      sysctl: [{ on: host1, name: ${global}, value: ${Number(before.sysctl) + 7} }]
  traffic:
    - { name: rr, protocol: tcp, pattern: rr, sizes: [64], duration: 0.5, warmup: 0 }
trials: 50
`,
  );
  const db = join(dir, "left.db");
  const child = spawn(process.execPath, [CLI, "run", file, "--db", db], { stdio: "ignore" });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  // Killed once the sysctl and the CPU option are in place and a trial has been committed.
  const deadline = Date.now() + 90_000;
  const ready = () => {
    const entries = applied(db);
    const cpu = entries.find((entry) => entry.category === "cpu");
    return (
      entries.some((entry) => entry.category === "hypervisor" && entry.sysctl) &&
      cpu !== undefined &&
      (!irq || (cpu.cpu?.irqs.length ?? 0) > 0) &&
      completed(db).length > 0
    );
  };
  while (!ready() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  child.kill("SIGKILL");
  await exited;
  assert.ok(ready(), "the run applied its options and committed a trial before the kill");
  assert.notEqual(readGlobal(), before.sysctl, "the killed run left the sysctl changed");
  if (irq) assert.equal(irqAffinity(irq.irq), target, "the killed run left the IRQ moved");

  const down = await runCli(["lab", "down", "--name", LAB, "--json"]);
  assert.equal(down.code, 0, down.stderr);
  const result = JSON.parse(down.stdout) as { removed: string[]; restored: string[] };
  assert.deepEqual(result.restored.map((entry) => entry.replace(/ \(run .*\)$/, "")).sort(), [
    "cpu option pinned",
    "guest option default",
    "hypervisor option burst",
    "network option host-to-guest",
  ]);
  assert.ok(result.removed.length > 0, "the lab was removed");
  const after = { sysctl: readGlobal(), irq: irq ? irqAffinity(irq.irq) : null };
  assert.deepEqual(after, before, "every setting read before the run reads the same after lab down");
  assert.deepEqual(applied(db), [], "the killed run's journal is empty: nothing is left to undo");
  console.log(
    `lab down restored ${result.restored.join(", ")}; ${global} ${before.sysctl} → ${Number(before.sysctl) + 7} → ${after.sysctl}; ` +
      `IRQ ${irq ? `${irq.irq} ${before.irq} → ${target} → ${after.irq}` : "none movable"}`,
  );
});
