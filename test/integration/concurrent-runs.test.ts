// Two runs at once on one host: the second one wanting the same lab is refused at once, naming
// the first, which completes; neither tears down the other's lab, nor can `lab down`/`lab up --force`.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { labHolder } from "../../src/labs/lab-lock.js";
import { labDown, labStatus, labUp } from "../../src/labs/netns-lab.js";
import { CLI, runCli } from "../helpers/cli.js";

const LAB = "vnbt14c";
const root = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), "vnb-concurrent-"));

before(async () => {
  if (root) await labUp({ name: LAB, baseSubnet: "10.237.0.0/16", force: true });
});
after(async () => {
  if (root) await labDown(LAB);
  rmSync(dir, { recursive: true, force: true });
});

const TRAFFIC = ["--setup", "host-to-guest", "--protocol", "tcp", "--pattern", "rr", "--warmup", "0"];

/** Starts a run and resolves once it holds the lab (its lock file names its pid). */
async function startFirst(lab: string, args: string[]) {
  const child = spawn(process.execPath, [CLI, "run", ...TRAFFIC, ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  let ended = false;
  const exited = new Promise<number | null>((resolve) =>
    child.on("close", (code) => {
      ended = true;
      resolve(code);
    }),
  );
  const deadline = Date.now() + 60_000;
  while (!ended && Date.now() < deadline && labHolder(lab)?.pid !== child.pid)
    await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(labHolder(lab)?.pid, child.pid, `the first run holds lab ${lab}: ${stderr}`);
  return { child, exited, stderr: () => stderr };
}

test("a second run on a lab in use is refused at once naming the first; lab down and up --force too", {
  skip: !root && "needs root",
}, async () => {
  const first = await startFirst(LAB, [
    "--lab",
    LAB,
    "--duration",
    "2",
    "--trials",
    "3",
    "--db",
    join(dir, "a.db"),
  ]);
  const began = Date.now();
  const second = await runCli([
    "run",
    ...TRAFFIC,
    "--lab",
    LAB,
    "--duration",
    "1",
    "--db",
    join(dir, "b.db"),
  ]);
  assert.equal(second.code, 2, second.stderr);
  assert.match(
    second.stderr,
    new RegExp(`lab ${LAB} is in use by another vnetbench \\(pid ${first.child.pid} `),
  );
  assert.ok(Date.now() - began < 20_000, "refused at once, not after waiting");
  const down = await runCli(["lab", "down", "--name", LAB]);
  assert.equal(down.code, 2, down.stderr);
  assert.match(down.stderr, /in use by another vnetbench/);
  const up = await runCli(["lab", "up", "--name", LAB, "--force", "--subnet", "10.237.0.0/16"]);
  assert.equal(up.code, 2, up.stderr);
  assert.equal((await labStatus(LAB)).state, "up", "the lab in use is untouched");
  assert.equal(await first.exited, 0, first.stderr());
  // Once the first is done, the lab is free again.
  const third = await runCli([
    "run",
    ...TRAFFIC,
    "--lab",
    LAB,
    "--duration",
    "0.3",
    "--trials",
    "1",
    "--db",
    join(dir, "b.db"),
  ]);
  assert.equal(third.code, 0, third.stderr);
});

test("two runs each bringing up the run lab: the second is refused at once, the first completes", {
  skip: !root && "needs root",
}, async () => {
  const first = await startFirst("vnbrun", ["--duration", "2", "--trials", "2", "--db", join(dir, "c.db")]);
  const second = await runCli(["run", ...TRAFFIC, "--duration", "1", "--db", join(dir, "d.db")]);
  assert.equal(second.code, 2, second.stderr);
  assert.match(second.stderr, /lab vnbrun is in use by another vnetbench \(pid \d+ /);
  assert.equal(await first.exited, 0, first.stderr());
  const runs = JSON.parse((await runCli(["runs", "--json", "--db", join(dir, "c.db")])).stdout);
  assert.equal(runs[0].status, "completed");
  assert.equal((await labStatus("vnbrun")).state, "down", "the run's own lab is removed by its run");
});
