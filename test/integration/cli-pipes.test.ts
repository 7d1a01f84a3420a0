// The CLI in a pipeline: a reader that stops early (`| head`) ends it quietly, and the commands that
// read stored runs say when there is no database instead of creating an empty one.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { CLI, runCli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "vnb-pipes-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const db = join(dir, "runs.db");
const example = fileURLToPath(new URL("../../examples/quick.yaml", import.meta.url));

before(async () => {
  const run = await runCli([
    "run",
    "--setup",
    "loopback",
    "--pattern",
    "rr",
    "--duration",
    "0.2",
    "--warmup",
    "0",
    "--trials",
    "1",
    "--db",
    db,
  ]);
  assert.equal(run.code, 0, run.stderr);
});

/** Runs the CLI with its standard output closed before it writes: every write meets EPIPE. */
function withClosedPipe(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

for (const args of [
  ["plan", example],
  ["plan", "--schema"],
  ["export", "latest", "--format", "json", "--db", db],
  ["export", "latest", "--format", "csv", "--db", db],
  ["show", "latest", "--json", "--db", db],
]) {
  test(`${args.filter((arg) => ![db, "--db", example].includes(arg)).join(" ")} into a closed pipe exits quietly`, async () => {
    const result = await withClosedPipe(args);
    assert.equal(result.stderr, "");
    assert.equal(result.code, 0);
  });
}

test("runs, show, compare, report and export on a missing database say so and create nothing", async () => {
  const missing = join(dir, "none.db");
  for (const args of [
    ["runs"],
    ["runs", "--json"],
    ["show", "latest"],
    ["compare", "latest", "latest"],
    ["report", "latest", "-o", join(dir, "r.html")],
    ["export", "latest", "--format", "csv"],
    ["run", "--resume", "latest"],
  ]) {
    const result = await runCli([...args, "--db", missing]);
    assert.equal(result.code, 2, args.join(" "));
    assert.match(result.stderr, new RegExp(`no results database at ${missing}`), args.join(" "));
    assert.equal(existsSync(missing), false, `${args.join(" ")} created ${missing}`);
  }
});
