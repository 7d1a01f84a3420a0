import assert from "node:assert/strict";
import { test } from "node:test";
import { serviceDemand } from "../../../src/analysis/service-demand.js";

test("µs per transaction: CPU-seconds × 10^6 / transactions", () => {
  // 0.51 CPU-s for 10 000 transactions = 51 µs each (the TCP_RR figure of issue 4).
  assert.deepEqual(serviceDemand({ hostSeconds: 0.51, cycles: null }, { transactions: 10_000 }, true), {
    usPerTransaction: 51,
    cyclesPerUnit: null,
  });
});

test("µs per KB with K = 1024, and cycles per unit when counted", () => {
  // 2 CPU-s for 1 GiB = 1 048 576 KB: 1.9073486328125 µs/KB; 5.2e9 cycles → 4959.106… cycles/KB.
  const demand = serviceDemand({ hostSeconds: 2, cycles: 5.2e9 }, { bytes: 1024 ** 3 }, false);
  assert.equal(demand.usPerKB, 1.9073486328125);
  assert.equal(demand.usPerTransaction, undefined);
  assert.ok(Math.abs(demand.cyclesPerUnit! - 5.2e9 / 1048576) < 1e-9);
});

test("missing or zero work is refused, naming what was expected", () => {
  assert.throws(
    () => serviceDemand({ hostSeconds: 1, cycles: null }, { bytes: 10 }, true),
    /positive count of transactions, got undefined/,
  );
  assert.throws(
    () => serviceDemand({ hostSeconds: 1, cycles: null }, { bytes: 0 }, false),
    /positive count of bytes, got 0/,
  );
});
