import assert from "node:assert/strict";
import { test } from "node:test";
import { scheduleTrials } from "../../../src/plan/order.js";

const pairs = (s: ReturnType<typeof scheduleTrials>) => s.map((t) => `${t.cellIndex}#${t.trial}`);

test("sequential: every trial of a cell back to back", () => {
  assert.deepEqual(pairs(scheduleTrials(2, 2, "sequential")), ["0#1", "0#2", "1#1", "1#2"]);
});

test("interleaved: rounds of one trial of every cell (A B A B)", () => {
  assert.deepEqual(pairs(scheduleTrials(2, 2, "interleaved")), ["0#1", "1#1", "0#2", "1#2"]);
});

test("shuffled: each round a permutation of the cells, the same for the same seed", () => {
  const a = scheduleTrials(6, 3, "shuffled", 42);
  assert.deepEqual(a, scheduleTrials(6, 3, "shuffled", 42), "replayable");
  assert.notDeepEqual(pairs(a), pairs(scheduleTrials(6, 3, "shuffled", 43)));
  for (let round = 0; round < 3; round++) {
    const cells = a.slice(round * 6, round * 6 + 6);
    assert.ok(cells.every((t) => t.trial === round + 1));
    assert.deepEqual(cells.map((t) => t.cellIndex).sort(), [0, 1, 2, 3, 4, 5]);
  }
  assert.notDeepEqual(
    pairs(a).slice(0, 6),
    pairs(scheduleTrials(6, 1, "interleaved")),
    "not the plain order",
  );
});

test("groups: a round keeps each group's cells together and starts with the group the last ended with", () => {
  const groups = [0, 1, 0, 1, 0, 1];
  const changes = (schedule: ReturnType<typeof scheduleTrials>) =>
    schedule.filter((t, i) => i > 0 && groups[t.cellIndex] !== groups[schedule[i - 1]!.cellIndex]).length;
  for (const order of ["shuffled", "interleaved"] as const) {
    const schedule = scheduleTrials(6, 4, order, 9, groups);
    // One change inside each round, none between rounds: 4 in all (ungrouped: many more).
    assert.equal(changes(schedule), 4, order);
    for (let round = 0; round < 4; round++)
      assert.deepEqual(
        schedule
          .slice(round * 6, round * 6 + 6)
          .map((t) => t.cellIndex)
          .sort(),
        [0, 1, 2, 3, 4, 5],
      );
  }
  assert.ok(changes(scheduleTrials(6, 4, "shuffled", 9)) > 4, "without groups the cells mix");
  assert.deepEqual(
    scheduleTrials(6, 3, "shuffled", 42, [0, 0, 0, 0, 0, 0]),
    scheduleTrials(6, 3, "shuffled", 42),
  );
});
