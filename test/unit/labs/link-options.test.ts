import assert from "node:assert/strict";
import { test } from "node:test";
import { InputError } from "../../../src/errors.js";
import {
  shapedDirection,
  shapedEnds,
  shapingCommands,
  validateLinkOptions,
} from "../../../src/labs/link-options.js";

test("rate alone is a root tbf with a burst of at least 16 KiB", () => {
  assert.deepEqual(shapingCommands("vnb-g1", { rateMbit: 4 }), [
    [
      "tc",
      "qdisc",
      "add",
      "dev",
      "vnb-g1",
      "root",
      "handle",
      "1:",
      "tbf",
      "rate",
      "4000kbit",
      "burst",
      "16384",
    ].concat(["latency", "100ms"]),
  ]);
  // 10 Gbit/s: 10 ms of the rate is 12.5 MB.
  assert.equal(shapingCommands("x", { rateMbit: 10_000 })[0]?.[12], "12500000");
});

test("delay, jitter and loss are netem at the root, with tbf under it when a rate is asked too", () => {
  const commands = shapingCommands("vnb-wan", { delayMs: 10, jitterMs: 2, lossPercent: 0.5, rateMbit: 100 });
  assert.deepEqual(commands[0], [
    "tc",
    "qdisc",
    "add",
    "dev",
    "vnb-wan",
    "root",
    "handle",
    "1:",
    "netem",
    "delay",
    "10ms",
    "2ms",
    "loss",
    "0.5%",
    "limit",
    "100000",
  ]);
  assert.deepEqual(commands[1]?.slice(5, 10), ["parent", "1:1", "handle", "10:", "tbf"]);
});

test("bad link options are refused naming the option and what was expected", () => {
  assert.throws(() => validateLinkOptions({ mtu: 20 }), /mtu: expected an integer 68–65535, got 20/);
  assert.throws(() => validateLinkOptions({ shaping: { lossPercent: 120 } }), InputError);
  assert.throws(() => validateLinkOptions({ shaping: { jitterMs: 1 } }), /delayMs to be set too/);
  assert.throws(() => validateLinkOptions({ shaping: { rateMbit: 0 } }), /Mbit\/s > 0/);
  validateLinkOptions({ mtu: 9000, shaping: null });
});

test("a direction picks the ends whose egress is shaped, and the qdiscs read back say which way", () => {
  const ends = ["host1", "g1"] as const;
  assert.deepEqual(shapedEnds(ends), [true, true]);
  assert.deepEqual(shapedEnds(ends, "host1-to-g1"), [true, false]);
  assert.deepEqual(shapedEnds(ends, "g1-to-host1"), [false, true]);
  assert.throws(
    () => shapedEnds(ends, "in"),
    /--direction: 'in' is not one of both, host1-to-g1, g1-to-host1/,
  );
  assert.equal(shapedDirection(ends, ["tbf", "netem"]), "both ways");
  assert.equal(shapedDirection(ends, ["tbf", "noqueue"]), "host1→g1");
  assert.equal(shapedDirection(ends, ["noqueue", "tbf"]), "g1→host1");
  assert.equal(shapedDirection(ends, ["noqueue", "none"]), "none");
  assert.throws(() => validateLinkOptions({ mtu: 1400, direction: "both" }), /--direction: .*--rate-mbit/);
});
