import assert from "node:assert/strict";
import { test } from "node:test";
import { IntervalSeries, type SeriesClock } from "../../../../src/drivers/builtin/series.js";

/** A clock whose ticks the test fires by hand, at the times it chooses. */
function manualClock() {
  let now = 0;
  let tick: ((atNs: number, last: boolean) => void) | null = null;
  let cancelled = false;
  const clock: SeriesClock = {
    now: () => now,
    every(_from, _to, _interval, fn) {
      tick = fn;
      return () => {
        cancelled = true;
      };
    },
  };
  return {
    clock,
    fire(atNs: number, last = false) {
      now = atNs;
      tick!(atNs, last);
    },
    get cancelled() {
      return cancelled;
    },
  };
}

const MS = 1e6;

test("a series point per interval from the times messages completed, told in any order; warm-up left out", () => {
  const manual = manualClock();
  const series = new IntervalSeries(manual.clock, 100);
  series.begin(100 * MS, 400 * MS);
  series.latencyAt(50 * MS, 5_000_000, 100); // warm-up: dropped
  series.latencyAt(450 * MS, 5_000_000, 100); // after the window: dropped
  // The third interval's messages are told first, as a second flow's report may be.
  for (let i = 0; i < 10; i++) series.latencyAt(350 * MS + i, 20_000, 100);
  for (let i = 0; i < 99; i++) series.latencyAt(100 * MS + i * MS, 10_000, 100);
  series.latencyAt(199 * MS, 1_000_000, 100);
  // A stall: nothing completes in the second interval.
  series.latencyAt(400 * MS, 30_000, 100); // the window's last instant belongs to its last interval
  manual.fire(100 * MS);
  manual.fire(400 * MS, true);
  assert.equal(manual.cancelled, true);
  assert.equal(series.points.length, 3);
  const [a, b, c] = series.points;
  assert.ok(Math.abs(a!.tS - 0.1) < 1e-9 && Math.abs(a!.intervalS - 0.1) < 1e-9);
  assert.ok(Math.abs(a!.messagesPerSecond - 1000) < 1e-6);
  assert.ok(Math.abs(a!.throughputMbps - (100 * 100 * 8) / 0.1 / 1e6) < 1e-9);
  assert.ok(Math.abs(a!.p50Us! - 10) < 0.1, `p50 ${a!.p50Us}`);
  assert.ok(Math.abs(a!.p99Us! - 10) < 0.1, `p99 ${a!.p99Us}`);
  assert.equal(b!.messagesPerSecond, 0);
  assert.equal(b!.p50Us, null);
  assert.ok(Math.abs(c!.tS - 0.3) < 1e-9);
  assert.ok(Math.abs(c!.messagesPerSecond - 110) < 1e-6);
  assert.ok(Math.abs(c!.p50Us! - 20) < 0.2, "the third interval's histogram holds only its own messages");
});

test("a window that is not a whole number of intervals ends with a shorter point", () => {
  const manual = manualClock();
  const series = new IntervalSeries(manual.clock, 100);
  series.begin(0, 250 * MS);
  series.latencyAt(240 * MS, 10_000, 100);
  const points = series.points;
  assert.equal(points.length, 3);
  assert.ok(Math.abs(points[2]!.intervalS - 0.05) < 1e-9);
  assert.ok(Math.abs(points[2]!.messagesPerSecond - 20) < 1e-6);
});

test("bulk flows are read at each tick from their cumulative counts, summed over flows", () => {
  const manual = manualClock();
  const series = new IntervalSeries(manual.clock, 100);
  series.begin(0, 200 * MS);
  const flows = [
    { messages: 5, bytes: 500 },
    { messages: 0, bytes: 0 },
  ];
  series.follow(() => flows[0]!);
  series.follow(() => flows[1]!);
  flows[0] = { messages: 10, bytes: 1000 };
  manual.fire(0); // opens the window: what came before is the warm-up
  flows[0] = { messages: 20, bytes: 2000 };
  flows[1] = { messages: 30, bytes: 3000 };
  manual.fire(100 * MS);
  flows[0] = { messages: 21, bytes: 2100 };
  manual.fire(250 * MS, true); // a late timer: the interval is what really passed
  const [a, b] = series.points;
  assert.ok(Math.abs(a!.messagesPerSecond - 400) < 1e-6, `${a!.messagesPerSecond}`);
  assert.ok(Math.abs(a!.throughputMbps - (4000 * 8) / 0.1 / 1e6) < 1e-9);
  assert.equal(a!.p50Us, null);
  assert.ok(Math.abs(b!.intervalS - 0.15) < 1e-9);
  // Four significant digits are kept.
  assert.ok(Math.abs(b!.messagesPerSecond - 1 / 0.15) < 1e-3);
});
