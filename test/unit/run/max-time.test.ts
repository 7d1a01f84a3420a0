import assert from "node:assert/strict";
import { test } from "node:test";
import { InputError } from "../../../src/errors.js";
import { fitsBeforeCap, msLeft, parseDuration, runCap } from "../../../src/run/max-time.js";

test("durations: seconds, minutes, hours, combined, and plain seconds", () => {
  assert.equal(parseDuration("90s"), 90);
  assert.equal(parseDuration("10m"), 600);
  assert.equal(parseDuration("2h"), 7200);
  assert.equal(parseDuration("1h30m"), 5400);
  assert.equal(parseDuration("1m30s"), 90);
  assert.equal(parseDuration("2.5s"), 2.5);
  assert.equal(parseDuration("45"), 45);
  assert.equal(parseDuration(" 3s "), 3);
});

test("a duration that is not one, is zero, repeats a unit or exceeds a week is bad input naming the flag", () => {
  for (const bad of ["", "s", "0s", "-5m", "5 m", "10x", "1d", "2h2h", "3s10", "h1", "1e3s", "0", "169h"]) {
    assert.throws(
      () => parseDuration(bad),
      (error: Error) =>
        error instanceof InputError && /^--max-time: '.*' is not a duration/.test(error.message),
      bad,
    );
  }
  assert.equal(parseDuration("168h"), 7 * 24 * 3600);
});

test("the cap lets a trial start only when it is expected to end before it", () => {
  const cap = runCap(10, 1_000); // ends at 11 000 ms
  assert.equal(fitsBeforeCap(cap, 1_000, 10_000), true, "exactly at the cap");
  assert.equal(fitsBeforeCap(cap, 1_001, 10_000), false, "a millisecond over");
  assert.equal(fitsBeforeCap(cap, 9_000, 1_500), true);
  assert.equal(fitsBeforeCap(cap, 9_600, 1_500), false);
  assert.equal(fitsBeforeCap(undefined, 1e12, 1e9), true, "no cap: always");
  assert.equal(msLeft(cap, 4_000), 7_000);
  assert.equal(msLeft(cap, 20_000), 0);
  assert.equal(msLeft(undefined, 0), Number.POSITIVE_INFINITY);
});
