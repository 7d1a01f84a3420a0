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

test("a spinning thread kept from its next turn (scheduler, garbage collection): the answers that came meanwhile waited", () => {
  const ledger = new OpenLoopLedger(START, 0, 10);
  ledger.polled(START);
  read(ledger, 0, 0, 0, 50); // the fastest flight: 50 µs
  ledger.polled(START + us(60));
  // Message 1 leaves at 100 µs; the thread's next turn comes only at 3100 µs, and it reads the answer then.
  ledger.polled(START + us(100));
  read(ledger, 1, 100, 0, 3100);
  near(
    ledger.receiveLag.getValueAtPercentile(100),
    us(2950),
    "from its earliest arrival (150 µs) to the read",
  );
  near(ledger.path.getValueAtPercentile(100), us(50), "the path took its fastest flight");
  near(ledger.latency.maxValue, us(3000), "the reported latency keeps the wait");
});

test("a spinning thread that read at its first turn after the arrival adds no lag, however late the answer", () => {
  const ledger = new OpenLoopLedger(START, 0, 10);
  ledger.polled(START);
  read(ledger, 0, 0, 0, 50);
  // The answer to message 1 (sent at 100) takes 2 ms; the thread turned at 2095 and read it at 2100.
  ledger.polled(START + us(2095));
  read(ledger, 1, 100, 0, 2100);
  assert.ok(
    ledger.receiveLag.getValueAtPercentile(100) <= us(5) * 1.002,
    "at most the 5 µs since the last turn",
  );
  near(ledger.path.getValueAtPercentile(100), us(1995), "the slow flight is the path's");
  ledger.sleeping();
  read(ledger, 2, 3000, 0, 3500);
  assert.ok(ledger.receiveLag.getValueAtPercentile(100) <= us(5) * 1.002, "a sleeping thread reads at once");
});
