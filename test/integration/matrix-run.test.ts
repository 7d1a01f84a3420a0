// Matrix files run for real on a netns lab: CPU options applied and read back (the generator
// pinned, a real IRQ moved and restored), the plan as JSON, and a run killed with SIGKILL mid-trial
// resumed to every cell completed exactly once.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import Database from "better-sqlite3";
import { labDown, labUp } from "../../src/labs/netns-lab.js";
import type { RunView } from "../../src/report/run-view.js";
import { CLI, runCli } from "../helpers/cli.js";
import { movableIrq } from "../helpers/irq.js";

const LAB = "vnbt5";
const root = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), "vnb-matrix-"));

before(async () => {
  if (root) await labUp({ name: LAB, baseSubnet: "10.235.0.0/16", force: true });
});
after(async () => {
  if (root) await labDown(LAB);
  rmSync(dir, { recursive: true, force: true });
});

const TRAFFIC = `
  traffic:
    - { name: tcp-rr, protocol: tcp, pattern: rr, sizes: [64], duration: 0.3, warmup: 0.1 }
    - { name: udp-rr, protocol: udp, pattern: rr, sizes: [64], duration: 0.3, warmup: 0.1 }`;

const LAB_MATRIX = `endpoints: { lab: ${LAB} }
categories:
  network: [host-to-guest, guest-to-guest]
  cpu:
    - none
    - name: pin-gen
      pin: [{ generator: true, cpus: 0 }]
${TRAFFIC}
trials: 1
order: interleaved
acceptance: { noise: 3% }
`;

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

test("plan --json: the cells, the trial count and the estimated duration", {
  skip: !root && "needs root",
}, async () => {
  const result = await runCli(["plan", write("plan.yaml", LAB_MATRIX), "--json"]);
  assert.equal(result.code, 0, result.stderr);
  const plan = JSON.parse(result.stdout);
  assert.equal(plan.cells.length, 8);
  assert.equal(plan.trialCount, 8);
  assert.ok(plan.estimatedSeconds > 0);
  assert.deepEqual(plan.skipped, []);
});

test("two CPU options × two network setups × two traffic options run to the end, affinity read back and stored", {
  skip: !root && "needs root",
}, async () => {
  const db = join(dir, "run.db");
  const result = await runCli(["run", write("lab.yaml", LAB_MATRIX), "--db", db, "--json"], {
    timeoutMs: 90_000,
  });
  assert.equal(result.code, 0, result.stderr);
  const view = JSON.parse(result.stdout) as RunView;
  assert.equal(view.status, "completed");
  assert.equal(view.cells.length, 8);
  const metadata = view.metadata as {
    fingerprint: string;
    matrix: { sha256: string };
    acceptance: unknown;
    endpointFacts: Array<{ cpuModel: string | null }>;
    appliedSetups: unknown[];
  };
  assert.match(metadata.fingerprint, /^[0-9a-f]{16}$/);
  assert.equal(metadata.matrix.sha256.length, 64);
  assert.deepEqual(metadata.acceptance, { noise: 0.03 });
  assert.ok(metadata.endpointFacts[0]?.cpuModel);
  assert.deepEqual(metadata.appliedSetups, [], "nothing left applied");
  for (const cell of view.cells) {
    assert.equal(cell.trials.length, 1);
    const trial = cell.trials[0]!;
    assert.equal(trial.status, "completed", trial.error);
    const state = trial.cpuSetup!;
    if (cell.setup.cpu === "none") {
      assert.deepEqual(state, { option: "none", status: "none", pins: [], irqs: [] });
    } else {
      assert.equal(state.status, "applied");
      assert.ok(state.pins.length >= 2, "every thread of both agents");
      assert.ok(
        state.pins.every((pin) => pin.cpus === "0"),
        JSON.stringify(state.pins),
      );
      assert.equal(new Set(state.pins.map((pin) => pin.pid)).size, 2, "the client's and the server's agent");
    }
  }
});

test("an irq-affinity option is applied, read back, and the old value restored", {
  skip: !root && "needs root",
}, async (t) => {
  const found = movableIrq();
  if (!found) return t.skip("no IRQ of this machine can be moved");
  const db = join(dir, "irq.db");
  const file = write(
    "irq.yaml",
    `categories:
  network: [loopback]
  cpu:
    - name: irq-cpu0
      irqAffinity: [{ irq: ${found.irq}, cpus: 0 }]
  traffic:
    - { name: tcp-rr, protocol: tcp, pattern: rr, sizes: [64], duration: 0.3, warmup: 0.1 }
trials: 1
`,
  );
  const result = await runCli(["run", file, "--db", db, "--json"], { timeoutMs: 60_000 });
  assert.equal(result.code, 0, result.stderr);
  const irq = (JSON.parse(result.stdout) as RunView).cells[0]!.trials[0]!.cpuSetup!.irqs[0]!;
  assert.equal(irq.irq, found.irq);
  assert.equal(irq.cpus, "0", "read back after setting it");
  assert.equal(irq.previous, found.affinity);
  assert.equal(
    readFileSync(`/proc/irq/${found.irq}/smp_affinity_list`, "utf8").trim(),
    found.affinity,
    "restored",
  );
});

function trialRows(
  db: string,
): Array<{ cell_key: string; trial: number; status: string; started_at: string }> {
  let reader: Database.Database | undefined;
  try {
    reader = new Database(db, { readonly: true, fileMustExist: true });
    return reader.prepare("SELECT cell_key, trial, status, started_at FROM trials").all() as never;
  } catch {
    return []; // the store or its schema is not there yet
  } finally {
    reader?.close();
  }
}

test("a matrix run killed with SIGKILL mid-trial resumes; every cell completes exactly once", {
  skip: !root && "needs root",
}, async () => {
  const db = join(dir, "kill.db");
  const file = write(
    "kill.yaml",
    LAB_MATRIX.replace("trials: 1", "trials: 2").replaceAll("duration: 0.3", "duration: 0.5"),
  );
  const child = spawn(process.execPath, [CLI, "run", file, "--db", db], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const deadline = Date.now() + 60_000;
  let before: ReturnType<typeof trialRows> = [];
  while (before.length < 3 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    before = trialRows(db).filter((row) => row.status === "completed");
  }
  assert.ok(before.length >= 3, `three trials done before the kill: ${stderr}`);
  // Into the next trial's measured window (warm-up 0.1 s of a 0.5 s trial).
  await new Promise((resolve) => setTimeout(resolve, 300));
  child.kill("SIGKILL");
  await exited;
  const atKill = trialRows(db).filter((row) => row.status === "completed");
  assert.ok(atKill.length < 16, "killed before the end");
  const runId = new Database(db, { readonly: true }).prepare("SELECT id FROM runs").pluck().get() as string;

  const resumed = await runCli(["run", "--resume", runId, "--db", db, "--json"], { timeoutMs: 90_000 });
  assert.equal(resumed.code, 0, resumed.stderr);
  const view = JSON.parse(resumed.stdout) as RunView;
  assert.equal(view.status, "completed");
  const rows = trialRows(db);
  assert.equal(rows.length, 8 * 2, "one row per cell and trial");
  assert.ok(rows.every((row) => row.status === "completed"));
  assert.equal(new Set(rows.map((row) => `${row.cell_key}#${row.trial}`)).size, 16, "each exactly once");
  for (const row of atKill) {
    const kept = rows.find((r) => r.cell_key === row.cell_key && r.trial === row.trial)!;
    assert.equal(kept.started_at, row.started_at, "a finished trial is kept, not run again");
  }
  for (const cell of view.cells) assert.equal(cell.trials.length, 2);
});
