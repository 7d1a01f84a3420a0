// A run under faults, through the CLI on loopback: a cell that cannot run is stored failed with
// its reason while the others run (--fail-fast stops instead), every trial failing exits 3,
// Ctrl-C exits 130 with the resume hint, and a SIGKILLed run reads `interrupted` afterwards.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import { CLI, runCli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "vnb-faults-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const db = (name: string) => join(dir, name);

const SHORT = ["--setup", "loopback", "--duration", "0.5", "--warmup", "0", "--protocol", "tcp"];
// iperf3 has no maerts both ways: refused by the capability check, before the first trial.
const BAD_CELL = ["--pattern", "maerts", "--direction", "bidirectional"];

function completedTrials(path: string): number {
  try {
    const handle = new Database(path, { readonly: true, fileMustExist: true });
    try {
      const row = handle.prepare("SELECT COUNT(*) AS n FROM trials WHERE status = 'completed'").get();
      return (row as { n: number }).n;
    } finally {
      handle.close();
    }
  } catch {
    return 0; // not created yet
  }
}

/** A run with one cell iperf3 cannot do beside one the built-in engine can. */
const runBadCell = (path: string, ...extra: string[]) =>
  runCli([
    "run",
    ...SHORT,
    ...BAD_CELL,
    "--driver",
    "iperf3,builtin",
    "--trials",
    "1",
    ...extra,
    "--db",
    path,
  ]);

test("a cell its driver cannot run is stored failed with the reason; the others run; show prints why", async () => {
  const path = db("keep-going.db");
  const run = await runBadCell(path);
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stderr,
    /cannot run, its trials are stored failed: driver iperf3 cannot do tcp\/maerts bidirectional/,
  );
  assert.match(run.stderr, /1 trial\(s\) failed .*vnetbench run --resume/);
  const show = await runCli(["show", "latest", "--db", path]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /iperf3 tcp maerts 64\/64 trial 1 failed: cannot run: driver iperf3 cannot do/);
  assert.match(show.stdout, /loopback bidi builtin tcp maerts 64\/64 both ways\s+1\/1/);

  const stop = await runBadCell(path, "--fail-fast");
  assert.equal(stop.code, 3, stop.stderr);
  assert.match(stop.stderr, /run failed: cell 1 .* cannot run: driver iperf3/);
});

test("a run whose every trial failed exits 3", async () => {
  const run = await runCli([
    "run",
    ...SHORT,
    ...BAD_CELL,
    "--driver",
    "iperf3",
    "--trials",
    "2",
    "--db",
    db("all.db"),
  ]);
  assert.equal(run.code, 3, run.stderr);
  assert.match(run.stderr, /run failed: every trial failed \(2\)/);
});

/** Starts a run of `trials` and resolves once `atLeast` trials are committed. */
async function startRun(path: string, trials: number, atLeast: number) {
  const child = spawn(
    process.execPath,
    [CLI, "run", ...SHORT, "--pattern", "rr", "--trials", String(trials), "--db", path],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on("close", (code, signal) => resolve(code ?? (signal ? -1 : null))),
  );
  const deadline = Date.now() + 60_000;
  while (completedTrials(path) < atLeast && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(completedTrials(path) >= atLeast, `no trial committed in time: ${stderr}`);
  return { child, exited, stderr: () => stderr };
}

test("Ctrl-C: exit 130, `interrupted — resume with …`; the run is stored interrupted and resumes", async () => {
  const path = db("sigint.db");
  const { child, exited, stderr } = await startRun(path, 6, 1);
  child.kill("SIGINT");
  assert.equal(await exited, 130, stderr());
  const runs = JSON.parse((await runCli(["runs", "--json", "--db", path])).stdout);
  assert.equal(runs[0].status, "interrupted");
  assert.match(
    stderr(),
    new RegExp(`vnetbench: interrupted — resume with \`vnetbench run --resume ${runs[0].id}\`\\n`),
  );
  assert.doesNotMatch(stderr(), /run failed|trial aborted/);
  const resumed = await runCli(["run", "--resume", runs[0].id, "--db", path, "--json"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(completedTrials(path), 6);
});

test("SIGKILL: the run whose process is gone reads `interrupted`, not `running` forever", async () => {
  const path = db("sigkill.db");
  const { child, exited } = await startRun(path, 6, 1);
  child.kill("SIGKILL");
  await exited;
  const runs = JSON.parse((await runCli(["runs", "--json", "--db", path])).stdout);
  assert.equal(runs[0].status, "interrupted");
  const resumed = await runCli(["run", "--resume", "latest", "--db", path]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(completedTrials(path), 6);
});

test("--max-time: the run stops before a trial that would end after the cap, reads cut-short (exit 5), and --resume completes it", async () => {
  const path = db("capped.db");
  // Six trials of a second each (plus the agents' start) cannot fit in 6 s.
  const cells = [...SHORT, "--duration", "1", "--pattern", "rr", "--size", "64,128,256", "--trials", "2"];
  const began = Date.now();
  const capped = await runCli(["run", ...cells, "--max-time", "6s", "--json", "--db", path]);
  const tookMs = Date.now() - began;
  assert.equal(capped.code, 5, capped.stderr);
  assert.match(capped.stderr, /--max-time 6 s reached: run cut short with \d+ trial\(s\) left/);
  const view = JSON.parse(capped.stdout) as { id: string; status: string; metadata: { cutShort: unknown } };
  assert.equal(view.status, "cut-short");
  assert.match(capped.stderr, new RegExp(`resume with \`vnetbench run --resume ${view.id}\``));
  const done = completedTrials(path);
  assert.ok(done < 6, `the cap stopped the run (${done} of 6 trials done, ${tookMs} ms)`);
  assert.equal((view.metadata.cutShort as { trialsLeft: number }).trialsLeft, 6 - done);
  const runs = JSON.parse((await runCli(["runs", "--json", "--db", path])).stdout);
  assert.equal(runs[0].status, "cut-short");
  const shown = await runCli(["show", view.id, "--db", path]);
  assert.match(shown.stdout, new RegExp(`run ${view.id}\\s+cut-short`));

  const resumed = await runCli(["run", "--resume", view.id, "--db", path, "--json"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(JSON.parse(resumed.stdout).status, "completed");
  assert.equal(completedTrials(path), 6);
});

test("--max-time that is not a duration is bad input before anything is stored", async () => {
  const path = db("bad-cap.db");
  const run = await runCli(["run", ...SHORT, "--max-time", "soon", "--db", path]);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /bad input: --max-time: 'soon' is not a duration/);
  assert.equal(existsSync(path), false);
});

/** A tmpfs of `size` mounted at a new directory for the test's body, unmounted after. */
async function withTmpfs(name: string, size: string, body: (mount: string) => Promise<void>): Promise<void> {
  const mount = join(dir, name);
  mkdirSync(mount);
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", mount]);
  try {
    await body(mount);
  } finally {
    execFileSync("umount", [mount]);
  }
}

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

test("a store on a full or read-only filesystem, or from a newer vnetbench, is refused before the first trial (exit 2), unchanged", {
  skip: process.getuid?.() !== 0 && "needs root (tmpfs mounts)",
}, async () => {
  const run = (path: string) => runCli(["run", ...SHORT, "--pattern", "rr", "--trials", "1", "--db", path]);

  const newer = db("newer.db");
  const handle = new Database(newer);
  handle.pragma("user_version = 99");
  handle.close();
  const before = sha256(newer);
  const refusedNewer = await run(newer);
  assert.equal(refusedNewer.code, 2, refusedNewer.stderr);
  assert.match(
    refusedNewer.stderr,
    /bad input: store .*newer\.db has schema version 99, newer than this vnetbench's \d+: upgrade vnetbench/,
  );
  assert.equal(sha256(newer), before, "the newer store is left as it was");

  await withTmpfs("full", "1m", async (mount) => {
    const path = join(mount, "runs.db");
    const full = await run(path);
    assert.equal(full.code, 2, full.stderr);
    assert.match(
      full.stderr,
      /bad input: store .*runs\.db: only \d+ KiB free on its filesystem \(a run needs at least 64 MiB\)/,
    );
    assert.equal(existsSync(path), false, "no store file was made");
  });

  await withTmpfs("ro", "80m", async (mount) => {
    const path = join(mount, "runs.db");
    const first = await run(path);
    assert.equal(first.code, 0, first.stderr);
    execFileSync("mount", ["-o", "remount,ro", mount]);
    const stored = sha256(path);
    const refused = await run(path);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(
      refused.stderr,
      /bad input: cannot open store .*runs\.db: .*\(its filesystem is mounted read-only: use --db on a writable one\)/,
    );
    assert.doesNotMatch(refused.stderr, /trial/);
    const resume = await runCli(["run", "--resume", "latest", "--db", path]);
    assert.equal(resume.code, 2, resume.stderr);
    assert.match(resume.stderr, /mounted read-only/);
    assert.equal(sha256(path), stored, "the read-only store is unchanged");
  });
});

test("--max-other-load: a trial during which another process burns a CPU is flagged other-load, naming it", async () => {
  // Not a child of the run: to the run it is another job on the machine.
  const burner = spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
  try {
    const run = await runCli([
      "run",
      ...SHORT,
      "--duration",
      "1",
      "--pattern",
      "rr",
      "--trials",
      "1",
      "--max-other-load",
      "10%",
      "--json",
      "--db",
      db("other-load.db"),
    ]);
    // Every trial flagged: none is left for the statistics, which is not a failed run.
    assert.equal(run.code, 0, run.stderr);
    const [trial] = JSON.parse(run.stdout).cells[0].trials;
    assert.equal(trial.status, "completed");
    const flag = trial.flags?.find((f: { reason: string }) => f.reason === "other-load");
    assert.ok(flag, JSON.stringify(trial.flags));
    assert.match(
      flag.detail,
      new RegExp(
        `other processes used [\\d.]+ % of the host's CPU capacity: .*pid ${burner.pid}.* \\(limit 10 %\\)`,
      ),
    );
    assert.ok(trial.cpu.otherLoad.fraction > 0.1);
  } finally {
    burner.kill("SIGKILL");
  }
});
