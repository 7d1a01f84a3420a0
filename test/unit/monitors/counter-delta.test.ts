import assert from "node:assert/strict";
import { test } from "node:test";
import { deltaCounts, interruptDeltas, softirqDeltas } from "../../../src/monitors/counter-delta.js";
import { parseInterrupts, parseSoftirqs } from "../../../src/monitors/proc-interrupts.js";
import { fixture } from "./fixtures.js";

test("softirq deltas of real snapshots around a ping: NET_RX and NET_TX per CPU", () => {
  const warnings: string[] = [];
  const deltas = softirqDeltas(
    parseSoftirqs(fixture("softirqs-a.txt")),
    parseSoftirqs(fixture("softirqs-b.txt")),
    warnings,
  );
  assert.deepEqual(deltas["NET_RX"], { total: 828, perCpu: { "0": 808, "1": 20 } });
  assert.deepEqual(deltas["NET_TX"], { total: 808, perCpu: { "0": 808, "1": 0 } });
  assert.deepEqual(warnings, []);
});

test("interrupt deltas list only the rows that fired", () => {
  const warnings: string[] = [];
  const deltas = interruptDeltas(
    parseInterrupts(fixture("interrupts-a.txt")),
    parseInterrupts(fixture("interrupts-b.txt")),
    warnings,
  );
  const loc = deltas.lines.find((l) => l.id === "LOC");
  assert.deepEqual(loc, { id: "LOC", description: "Local timer interrupts", total: 884 + 46 });
  assert.ok(deltas.lines.every((l) => l.total > 0));
  assert.equal(
    deltas.total,
    deltas.lines.reduce((s, l) => s + l.total, 0),
  );
  assert.deepEqual(warnings, []);
});

test("a CPU gone at the end is left out and flagged, once", () => {
  const warnings: string[] = [];
  const deltas = softirqDeltas(
    parseSoftirqs(fixture("softirqs-a.txt")),
    parseSoftirqs(fixture("softirqs-c-cpu1-offline.derived.txt")),
    warnings,
  );
  assert.deepEqual(deltas["NET_RX"], { total: 808, perCpu: { "0": 808 } });
  assert.ok(warnings.includes("softirq NET_RX: cpu1 missing at the end of the window (offline?)"));
});

test("a counter going backwards counts 0 and is flagged", () => {
  const warnings: string[] = [];
  const delta = deltaCounts(
    new Map([
      [0, 10],
      [1, 5],
    ]),
    new Map([
      [0, 4],
      [1, 9],
    ]),
    "softirq NET_RX",
    warnings,
  );
  assert.deepEqual(delta, { total: 4, perCpu: { "0": 0, "1": 4 } });
  assert.deepEqual(warnings, ["softirq NET_RX: cpu0 counter went backwards (10 → 4)"]);
});
