import assert from "node:assert/strict";
import { test } from "node:test";
import { TaskLedger } from "../../../src/monitors/task-ledger.js";

const thread = (tid: number, name = "worker") => ({ group: "qemu", pid: 100, tid, name });

test("counts run time from the window's opening, per thread and per interval", () => {
  const ledger = new TaskLedger();
  ledger.add(thread(100, "qemu-system-x86"), 5e9, false);
  ledger.add(thread(101, "CPU 0/KVM"), 1e9, false);
  ledger.update("qemu", 100, 5.1e9); // before the window opens
  ledger.openWindow();
  ledger.update("qemu", 100, 5.3e9);
  ledger.update("qemu", 101, 1.5e9);
  assert.deepEqual(ledger.takeInterval(), { qemu: 0.7 });
  ledger.update("qemu", 101, 1.6e9);
  const qemu = ledger.process("qemu");
  assert.ok(Math.abs(qemu.seconds - 0.8) < 1e-12);
  assert.deepEqual(
    qemu.threads.map((t) => [t.tid, t.name, Math.round(t.seconds * 1e3)]),
    [
      [101, "CPU 0/KVM", 600],
      [100, "qemu-system-x86", 200],
    ],
  );
  assert.deepEqual(qemu.pids, [100]);
});

test("a thread started inside the window counts its whole run time", () => {
  const ledger = new TaskLedger();
  ledger.openWindow();
  ledger.add(thread(102, "vhost-100"), 0.25e9, true);
  assert.deepEqual(ledger.takeInterval(), { qemu: 0.25 });
  assert.equal(ledger.process("qemu").threads[0]!.started, true);
});

test("an exited thread keeps the time seen until its last reading", () => {
  const ledger = new TaskLedger();
  ledger.add(thread(103), 1e9, false);
  ledger.openWindow();
  ledger.update("qemu", 103, 1.2e9);
  ledger.markExited("qemu", 103);
  ledger.update("qemu", 103, 9e9);
  assert.equal(ledger.live().length, 0);
  assert.ok(Math.abs(ledger.process("qemu").seconds - 0.2) < 1e-12);
  assert.equal(ledger.process("qemu").threads[0]!.exited, true);
});

test("run time going backwards (a reused TID) keeps the old total and is flagged", () => {
  const ledger = new TaskLedger();
  ledger.add(thread(104), 2e9, false);
  ledger.openWindow();
  ledger.update("qemu", 104, 2.5e9);
  ledger.update("qemu", 104, 0.1e9);
  assert.ok(Math.abs(ledger.process("qemu").seconds - 0.5) < 1e-12);
  assert.match(ledger.warnings[0]!, /thread 104 \(worker\) run time went backwards/);
});
