// The CLI as a user meets it: the JSON contract, named exit codes, one-line errors, and a run
// whose agent dies mid-way keeping every finished trial, then resumed to the end.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import { CLI, childrenOf, runCli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "vnb-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const db = (name: string) => join(dir, name);

const SMALL = ["--setup", "loopback", "--duration", "0.3", "--warmup", "0.1", "--trials", "2"];

test("run --json and show --json give the documented contract", async () => {
  const args = [
    "run",
    ...SMALL,
    "--protocol",
    "tcp,udp",
    "--pattern",
    "rr,paced",
    "--rate",
    "500",
    "--size",
    "64",
  ];
  const run = await runCli([
    ...args,
    "--json",
    "--db",
    db("a.db"),
    "--tester",
    "alice",
    "--label",
    "baseline",
  ]);
  assert.equal(run.code, 0, run.stderr);
  const view = JSON.parse(run.stdout);
  assert.equal(typeof view.id, "string");
  assert.equal(view.cells.length, 4);
  assert.equal(view.tester, "alice");
  assert.equal(view.label, "baseline");
  let summarized = 0;
  for (const cell of view.cells) {
    assert.equal(typeof cell.key, "string");
    for (const field of ["protocol", "pattern", "requestSize", "responseSize", "rate"])
      assert.ok(field in cell.traffic, field);
    assert.deepEqual(cell.setup.network, "loopback");
    assert.deepEqual(cell.setup.direction, "one-way");
    assert.equal(cell.trials.length, 2);
    const { summary } = cell;
    // A cell whose trials were all flagged (a loaded machine can make a short paced trial
    // generator-limited) has no statistics: each trial then says why it was left out.
    if (summary.latencyUs === null) {
      for (const trial of cell.trials)
        assert.ok(trial.status === "failed" || trial.flags?.length > 0, JSON.stringify(trial.flags));
      continue;
    }
    summarized++;
    assert.deepEqual(Object.keys(summary.latencyUs).sort(), [
      "max",
      "mean",
      "min",
      "p50",
      "p90",
      "p99",
      "p999",
    ]);
    assert.ok(summary.messagesPerSecond > 0);
    assert.ok(summary.throughputMbps > 0);
    // The contract's fields, plus receiver-socket drops where the traffic is udp.
    const lossFields = ["duplicates", "ratio", "received", "reordered", "sent"];
    if (cell.traffic.protocol === "udp") lossFields.push("socketDrops");
    assert.deepEqual(Object.keys(summary.loss).sort(), lossFields.sort());
    for (const field of ["hostSeconds", "byCategory", "generatorSeconds", "perWallSecond", "steal"]) {
      assert.ok(field in summary.cpu, `summary.cpu.${field}`);
    }
    assert.ok(summary.serviceDemand.usPerTransaction > 0);
    assert.ok("cyclesPerUnit" in summary.serviceDemand);
  }
  assert.ok(summarized >= 2, `${summarized} of 4 cells have trusted trials`);
  for (const field of ["hostname", "cpuModel", "cores", "kernel", "vnetbenchVersion"])
    assert.ok(field in view.metadata, field);
  assert.deepEqual(view.command.slice(0, 1), ["run"]);

  const shown = await runCli(["show", view.id, "--json", "--db", db("a.db")]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.deepEqual(JSON.parse(shown.stdout), view);

  const table = await runCli(["show", "latest", "--db", db("a.db")]);
  assert.match(table.stdout, /p50 µs/);
  assert.match(table.stdout, /CPU s\/s/);
  const runs = await runCli(["runs", "--json", "--db", db("a.db")]);
  assert.deepEqual(
    JSON.parse(runs.stdout).map((run: { id: string }) => run.id),
    [view.id],
  );
});

test("bad input: a one-line error naming the field, exit code 2, nothing stored", async () => {
  const cases: Array<[string[], RegExp]> = [
    [["run", "--bogus"], /unknown option '--bogus'/],
    [["run", "--size", "0", "--protocol", "tcp"], /--size: '0' is not a message size/],
    [["run", "--rate", "fast", "--pattern", "paced"], /--rate: 'fast'/],
    [["run", "--duration", "-1", "--pattern", "rr"], /--duration: '-1'/],
    [
      ["run", "--setup", "sideways"],
      /unknown network setup "sideways": expected one of loopback, host-to-guest/,
    ],
    [["run", "--trials", "0", "--pattern", "rr"], /--trials: '0'/],
    [["run", "--driver", "ping", "--pattern", "crr", "--protocol", "icmp"], /icmp crr/],
    [["show", "no-such-run"], /no results database at .*bad\.db/],
    [["agent", "--port", "70000"], /--port: '70000'/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(args[0] === "agent" ? args : [...args, "--db", db("bad.db")]);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.equal(
      result.stderr
        .trim()
        .split("\n")
        .filter((line) => !line.startsWith("(")).length,
      1,
      result.stderr,
    );
  }
  // Nothing stored: not even an empty database.
  assert.equal(existsSync(db("bad.db")), false);
  const missing = await runCli(["show", "no-such-run", "--db", db("a.db")]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /run 'no-such-run' not found/);
});

test("agent: a port in use is a clear error", async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  const result = await runCli(["agent", "--listen", "127.0.0.1", "--port", String(port)]);
  server.close();
  assert.equal(result.code, 2);
  assert.match(result.stderr, new RegExp(`--port ${port}: address 127.0.0.1:${port} is in use`));
});

function trialsIn(path: string): Array<{ status: string; trial: number; error: string | null }> {
  const handle = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return handle.prepare("SELECT status, trial, error FROM trials ORDER BY rowid").all() as Array<{
      status: string;
      trial: number;
      error: string | null;
    }>;
  } catch {
    return [];
  } finally {
    handle.close();
  }
}

function isAgent(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes("agent");
  } catch {
    return false; // it has exited
  }
}

test("an agent killed mid-run: that trial is stored failed with why, the run goes on; --resume retries it", async () => {
  const path = db("kill.db");
  const child = spawn(
    process.execPath,
    [
      CLI,
      "run",
      "--setup",
      "loopback",
      "--protocol",
      "tcp",
      "--pattern",
      "rr",
      "--duration",
      "1",
      "--warmup",
      "0",
      "--trials",
      "4",
      "--db",
      path,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  // Once the first trial is committed, kill the agents this run started (its children).
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    let done = 0;
    try {
      done = trialsIn(path).filter((trial) => trial.status === "completed").length;
    } catch {
      // the store is not created yet
    }
    if (done >= 1) break;
  }
  // The run's other children (the CPU monitor's short-lived reads) may be gone by now: agents only.
  const agents = (await childrenOf(child.pid!)).filter((pid) => isAgent(pid));
  assert.ok(agents.length > 0, "the run has agent processes");
  for (const pid of agents) process.kill(pid, "SIGKILL");
  const code = await exited;
  assert.equal(code, 0, stderr);
  const agentGone = /agent on local (died|closed)|closed the control connection|data connection/;
  assert.match(stderr, agentGone);
  const stored = trialsIn(path);
  const failed = stored.filter((trial) => trial.status === "failed");
  assert.equal(stored.length, 4, "every trial ran once");
  assert.ok(failed.length >= 1 && failed.length < 4, `${failed.length} trials failed`);
  for (const trial of failed) assert.match(trial.error ?? "", agentGone);

  const resumed = await runCli(["run", "--resume", "latest", "--db", path, "--json"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  const view = JSON.parse(resumed.stdout);
  assert.equal(view.status, "completed");
  assert.deepEqual(
    view.cells[0].trials
      .map((trial: { trial: number; status: string }) => [trial.trial, trial.status])
      .sort(),
    [
      [1, "completed"],
      [2, "completed"],
      [3, "completed"],
      [4, "completed"],
    ],
  );
});
