import assert from "node:assert/strict";
import { test } from "node:test";
import { SequenceTracker } from "../../../src/analysis/sequence.js";

function track(sequence: number[]): SequenceTracker {
  const tracker = new SequenceTracker();
  for (const seq of sequence) tracker.record(seq);
  return tracker;
}

test("in-order arrivals: all received, nothing reordered or duplicated", () => {
  const tracker = track([0, 1, 2, 3, 4]);
  assert.deepEqual([tracker.received, tracker.reordered, tracker.duplicates, tracker.lost(5)], [5, 0, 0, 0]);
});

test("gaps are losses: 10 sent, 3 and 7 missing", () => {
  const tracker = track([0, 1, 2, 4, 5, 6, 8, 9]);
  assert.equal(tracker.lost(10), 2);
  assert.equal(tracker.reordered, 0);
});

test("a late arrival counts as reordered, not lost", () => {
  // 2 overtaken by 3 and 4; 6 overtaken by 7
  const tracker = track([0, 1, 3, 4, 2, 5, 7, 6]);
  assert.equal(tracker.received, 8);
  assert.equal(tracker.reordered, 2);
  assert.equal(tracker.lost(8), 0);
});

test("duplicates are counted once and do not count as delivered", () => {
  const tracker = new SequenceTracker();
  assert.equal(tracker.record(0), true);
  assert.equal(tracker.record(1), true);
  assert.equal(tracker.record(1), false);
  assert.equal(tracker.record(0), false);
  assert.equal(tracker.record(2), true);
  assert.deepEqual([tracker.received, tracker.duplicates, tracker.lost(4)], [3, 2, 1]);
});

test("loss, reordering and duplicates together, with sequence numbers past the initial capacity", () => {
  const sent = 20_000;
  const arrivals: number[] = [];
  for (let seq = 0; seq < sent; seq++) if (seq % 100 !== 0) arrivals.push(seq); // 200 lost
  [arrivals[10], arrivals[11]] = [arrivals[11]!, arrivals[10]!]; // one reordered
  arrivals.push(19_999, 5); // two duplicates
  const tracker = track(arrivals);
  assert.equal(tracker.lost(sent), 200);
  assert.equal(tracker.reordered, 1);
  assert.equal(tracker.duplicates, 2);
});

test("rejects a negative or fractional sequence number", () => {
  assert.throws(() => new SequenceTracker().record(-1), RangeError);
  assert.throws(() => new SequenceTracker().record(1.5), RangeError);
});
