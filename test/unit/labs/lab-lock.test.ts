import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { assertLabFree, claimLab, labHolder, releaseLab } from "../../../src/labs/lab-lock.js";
import { processStartTicks } from "../../../src/run/owner.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "vnb-lock-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const holder = (pid: number, startTicks: string | null) =>
  JSON.stringify({
    pid,
    host: hostname(),
    startTicks,
    command: ["run", "--lab", "x"],
    since: "2026-11-29T18:00:00Z",
  });

test("a lab held by a live process is refused, naming it; this process may claim it again", () => {
  // PID 1 lives as long as the machine does.
  writeFileSync(join(dir, "lab-x.json"), holder(1, processStartTicks(1)));
  assert.throws(
    () => claimLab("x", dir),
    /lab x is in use by another vnetbench \(pid 1 .*vnetbench run --lab x\)/,
  );
  assert.throws(() => assertLabFree("x", dir), /in use/);
  assert.equal(labHolder("x", dir)?.pid, 1);
  claimLab("y", dir);
  claimLab("y", dir);
  assertLabFree("y", dir);
  assert.equal(JSON.parse(readFileSync(join(dir, "lab-y.json"), "utf8")).pid, process.pid);
  releaseLab("y", dir);
  assert.equal(labHolder("y", dir), null);
});

test("a lab left held by a process that is gone is taken over", () => {
  const gone = spawnSync(process.execPath, ["-e", "0"]).pid!;
  writeFileSync(join(dir, "lab-x.json"), holder(gone, "1"));
  assert.equal(labHolder("x", dir), null);
  claimLab("x", dir);
  assert.equal(JSON.parse(readFileSync(join(dir, "lab-x.json"), "utf8")).pid, process.pid);
  // A half-written file (killed while writing) is taken over too.
  writeFileSync(join(dir, "lab-z.json"), "{");
  claimLab("z", dir);
});

test("releasing leaves another holder's lock alone", () => {
  writeFileSync(join(dir, "lab-x.json"), holder(1, processStartTicks(1)));
  releaseLab("x", dir);
  assert.equal(labHolder("x", dir)?.pid, 1);
});
