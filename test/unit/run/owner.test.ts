import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { currentOwner, ownerAlive, processStartTicks } from "../../../src/run/owner.js";
import { createRun } from "../../../src/run/runner.js";
import { Store } from "../../../src/storage/store.js";

test("this process is alive; a pid that exited is gone; a reused pid (other start time) is gone", () => {
  const me = currentOwner();
  assert.equal(me.pid, process.pid);
  assert.match(me.startTicks ?? "", /^\d+$/);
  assert.equal(ownerAlive(me), true);
  const child = spawnSync(process.execPath, ["-e", "0"]);
  assert.equal(ownerAlive({ ...me, pid: child.pid! }), false);
  assert.equal(ownerAlive({ ...me, startTicks: String(Number(me.startTicks) + 1) }), false);
  assert.equal(processStartTicks(child.pid!), null);
});

test("an owner on another host cannot be judged from here", () => {
  assert.equal(ownerAlive({ pid: 1, host: "elsewhere.example", startTicks: "5" }), null);
});

test("a running run whose owner is gone is marked interrupted; others are left alone", () => {
  const dir = mkdtempSync(join(tmpdir(), "vnb-owner-"));
  const store = new Store(join(dir, "runs.db"));
  try {
    const plan = { cells: [], trials: 1, label: "", tester: "t", command: [], metadata: {} };
    const dead = createRun(store, plan).id;
    const alive = createRun(store, plan).id;
    const unowned = createRun(store, plan).id;
    store.setMetadataField(dead, "owner", { pid: 1, host: "h", startTicks: "1", note: "gone" });
    store.setMetadataField(alive, "owner", { pid: 2, host: "h", startTicks: "1" });
    const marked = store.markAbandoned((owner) => (owner as { note?: string }).note === "gone");
    assert.deepEqual(marked, [dead]);
    assert.equal(store.getRun(dead).status, "interrupted");
    assert.equal(store.getRun(alive).status, "running");
    assert.equal(store.getRun(unowned).status, "running");
    assert.deepEqual(store.getRun(alive).metadata.owner, { pid: 2, host: "h", startTicks: "1" });
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
