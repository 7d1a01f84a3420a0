import assert from "node:assert/strict";
import { test } from "node:test";
import { OpenLoopLedger } from "../../../../src/drivers/builtin/open-loop-ledger.js";

const START = 1_000_000_000;
const us = (value: number) => value * 1000;
/** Histograms keep 3 significant digits. */
const near = (actual: number, expected: number, message?: string) =>
  assert.ok(Math.abs(actual - expected) <= expected * 0.002, `${actual} ≈ ${expected} ${message ?? ""}`);

/** One read of one answer by a thread that was idle before it. */
function read(ledger: OpenLoopLedger, seq: number, intendedUs: number, lateUs: number, readUs: number) {
  ledger.workStarted(START + us(readUs));
  ledger.record(seq, intendedUs, us(lateUs), START + us(readUs));
  ledger.workFinished(START + us(readUs) + 1000);
}

test("an answer read by an idle thread: latency from the intended time, no receive lag, path from the actual send", () => {
  const ledger = new OpenLoopLedger(START, 0, 10);
  read(ledger, 0, 0, 10, 60); // due at 0, sent at 10 µs, read at 60 µs
  near(ledger.latency.getValueAtPercentile(100), 60_000);
  near(ledger.path.getValueAtPercentile(100), 50_000, "the sender's lateness is not the path's");
  assert.ok(ledger.receiveLag.getValueAtPercentile(100) <= 1, "no lag when the thread was waiting");
});

test("answers waiting behind the thread's own work: the wait is receive lag, not path latency", () => {
  const ledger = new OpenLoopLedger(START, 0, 10);
  read(ledger, 0, 0, 0, 50); // the fastest flight: 50 µs
  // The thread works from 1000 to 1400 µs; message 1 (sent at 1000) could have come at 1050 and is
  // read only when the work ends.
  ledger.workStarted(START + us(1000));
  ledger.workFinished(START + us(1400));
  ledger.workStarted(START + us(1405));
  ledger.record(1, 1000, 0, START + us(1405));
  ledger.workFinished(START + us(1406));
  const lagNs = ledger.receiveLag.getValueAtPercentile(100);
  assert.ok(Math.abs(lagNs - us(355)) <= 1000, `lag ${lagNs} ns ≈ 355 µs`);
  const pathNs = ledger.path.getValueAtPercentile(100);
  assert.ok(Math.abs(pathNs - us(50)) <= 1000, `path ${pathNs} ns ≈ the fastest flight`);
  assert.ok(Math.abs(ledger.latency.maxValue - us(405)) <= 1000, "the reported latency keeps the wait");
});

test("only the measured window counts; duplicates count once; the newest answer is tracked", () => {
  const ledger = new OpenLoopLedger(START, 2, 5);
  for (const seq of [0, 1, 2, 3, 3, 4, 9]) read(ledger, seq, seq * 100, 0, seq * 100 + 40);
  assert.equal(ledger.sequence.received, 3, "2, 3 and 4");
  assert.equal(ledger.sequence.duplicates, 1);
  assert.equal(ledger.latency.totalCount, 3);
  assert.equal(ledger.newest, 9);
});
