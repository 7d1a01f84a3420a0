import assert from "node:assert/strict";
import { test } from "node:test";
import type { Traffic } from "../../../src/domain/traffic.js";
import { builtinDriver } from "../../../src/drivers/builtin/driver.js";
import { autoDriver, whyUnsupported } from "../../../src/drivers/registry.js";
import { InputError } from "../../../src/errors.js";
import { cellsFromFlags, parseByteSize, parseRates, setupsFromFlags } from "../../../src/plan/flags.js";

const loopback = setupsFromFlags(["loopback"], undefined);
const builtin = (traffic: Traffic) => builtinDriver.unsupported(traffic);

test("the cross product of protocols, patterns, sizes and rates; rates apply to open loop only", () => {
  const { cells } = cellsFromFlags(
    {
      protocol: "tcp,udp",
      pattern: "rr,paced",
      size: "64,1400",
      rate: "1000,10000",
      duration: "2",
      warmup: "0.5",
    },
    builtin,
    loopback,
  );
  // rr: 2 protocols × 2 sizes; paced: 2 protocols × 2 sizes × 2 rates
  assert.equal(cells.length, 4 + 8);
  const rr = cells.filter((cell) => cell.traffic.pattern === "rr");
  assert.ok(rr.every((cell) => cell.traffic.rate === "max"));
  assert.deepEqual(
    cells
      .filter((cell) => cell.traffic.pattern === "paced")
      .map((cell) => cell.traffic.rate)
      .sort(),
    [1000, 1000, 1000, 1000, 10000, 10000, 10000, 10000],
  );
  assert.ok(cells.every((cell) => cell.traffic.durationS === 2 && cell.traffic.warmupS === 0.5));
  assert.equal(new Set(cells.map((cell) => cell.key)).size, cells.length, "keys are unique");
});

test("without --rate, paced traffic offers 1000 msg/s and datagram streams go as fast as they can", () => {
  const { cells } = cellsFromFlags(
    { protocol: "udp", pattern: "paced,stream", size: "64" },
    builtin,
    loopback,
  );
  assert.deepEqual(
    cells.map((cell) => [cell.traffic.pattern, cell.traffic.rate]),
    [
      ["paced", 1000],
      ["stream", "max"],
    ],
  );
});

test("--size sets both directions unless --response-size is given", () => {
  const same = cellsFromFlags({ size: "100" }, builtin, loopback).cells[0]!.traffic;
  assert.deepEqual([same.requestSize, same.responseSize], [100, 100]);
  const split = cellsFromFlags({ size: "100", responseSize: "1k,4000" }, builtin, loopback).cells;
  assert.deepEqual(
    split.map((cell) => [cell.traffic.requestSize, cell.traffic.responseSize]),
    [
      [100, 1024],
      [100, 4000],
    ],
  );
});

test("impossible combinations are skipped with a reason; nothing runnable is an error", () => {
  const { cells, skipped } = cellsFromFlags({ protocol: "tcp,udp", pattern: "crr" }, builtin, loopback);
  assert.equal(cells.length, 1);
  assert.match(skipped[0]!.reason, /tcp only/);
  assert.throws(
    () => cellsFromFlags({ protocol: "udp", pattern: "crr" }, builtin, loopback),
    /no runnable cell.*crr/,
  );
});

test("a driver that cannot do a pattern is refused at plan time, naming driver and pattern", () => {
  assert.throws(
    () => cellsFromFlags({ protocol: "icmp", pattern: "flood" }, builtin, loopback),
    (error: Error) => error instanceof InputError && /builtin icmp flood/.test(error.message),
  );
});

test("bad values name the flag and what was expected", () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ size: "0" }, /--size: '0' is not a message size/],
    [{ size: "abc" }, /--size: 'abc'/],
    [{ size: "17000000" }, /between 1 and 16777216/],
    [{ size: "70000", protocol: "udp" }, /a udp message carries at most 65507 bytes/],
    [{ rate: "-5", pattern: "paced" }, /--rate: '-5'/],
    [{ duration: "0" }, /--duration: '0'/],
    [{ duration: "ten" }, /--duration: 'ten'/],
    [{ warmup: "-1" }, /--warmup: '-1'/],
    [{ protocol: "sctp" }, /--protocol: 'sctp' is not one of tcp, udp, icmp/],
    [{ pattern: "burst" }, /--pattern: 'burst' is not one of/],
    [{ driver: "trex" }, /--driver: 'trex'/],
    [{ size: "64,,128" }, /empty item/],
  ];
  for (const [flags, message] of cases) {
    assert.throws(
      () => cellsFromFlags(flags, builtin, loopback),
      (error: Error) => error instanceof InputError && message.test(error.message),
    );
  }
  assert.throws(() => setupsFromFlags(["loopback"], "sideways"), /--direction: 'sideways'/);
});

test("sizes and rates accept k suffixes", () => {
  assert.equal(parseByteSize("16k"), 16384);
  assert.equal(parseByteSize("1.5k"), null);
  assert.deepEqual(parseRates("50k,1.5M,max,peak"), [50_000, 1_500_000, "max", "peak"]);
});

test("paced traffic below the sequence header size is refused by the builtin driver", () => {
  assert.throws(
    () => cellsFromFlags({ pattern: "paced", size: "8", rate: "100" }, builtin, loopback),
    /at least 16 bytes/,
  );
});

test("--rate peak plans a peak search for paced traffic; closed-loop patterns keep their own pace", () => {
  const { cells } = cellsFromFlags(
    { protocol: "udp", pattern: "paced,rr", rate: "peak", size: "64" },
    whyUnsupported,
    loopback,
  );
  assert.deepEqual(
    cells.map((cell) => [cell.traffic.pattern, cell.traffic.rate]),
    [
      ["paced", "peak"],
      ["rr", "max"],
    ],
  );
  assert.throws(
    () =>
      cellsFromFlags(
        { protocol: "udp", pattern: "paced", rate: "peak", driver: "iperf3" },
        whyUnsupported,
        loopback,
      ),
    /iperf3/,
  );
});

test("--driver auto: paced cells go to the native data path, else to sockperf where it is installed; the rest to the built-in engine", () => {
  const installed = (traffic: Traffic) =>
    autoDriver(
      traffic,
      (tool) => tool === "sockperf",
      () => false,
    );
  const { cells } = cellsFromFlags(
    { pattern: "rr,paced", protocol: "udp", rate: "1000", driver: "auto" },
    () => null,
    setupsFromFlags(["loopback"], undefined),
    installed,
  );
  assert.deepEqual(cells.map((cell) => `${cell.traffic.pattern}:${cell.traffic.driver}`).sort(), [
    "paced:sockperf",
    "rr:builtin",
  ]);
  const paced = { ...cells[0]!.traffic, pattern: "paced" as const };
  const without = autoDriver(
    paced,
    () => false,
    () => false,
  );
  assert.equal(without, "builtin", "no sockperf: the built-in engine, whose results flag its own limits");
  const native = autoDriver(
    paced,
    () => true,
    () => true,
  );
  assert.equal(native, "builtin", "the native data path keeps its schedule where sockperf falls behind");
});

test("sizes take k and m suffixes up to 16m, on the command line and in a matrix alike", () => {
  assert.equal(parseByteSize("1m"), 1024 * 1024);
  assert.equal(parseByteSize("16M"), 16 * 1024 * 1024);
  const { cells } = cellsFromFlags({ size: "16m,1m", pattern: "stream" }, builtin, loopback);
  assert.deepEqual(
    cells.map((cell) => cell.traffic.requestSize),
    [16777216, 1048576],
  );
  assert.throws(
    () => cellsFromFlags({ size: "17m" }, builtin, loopback),
    /--size: '17m' is not a message size/,
  );
});
