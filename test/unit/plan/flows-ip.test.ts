// The flows and IP-version axes: flags, matrix, cell keys and which drivers take them.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { describeCells, describeTraffic } from "../../../src/compare/describe.js";
import { cellKey } from "../../../src/domain/cell.js";
import type { Traffic } from "../../../src/domain/traffic.js";
import { pathOverIp } from "../../../src/drivers/driver.js";
import { pingArgv } from "../../../src/drivers/ping/argv.js";
import { whyUnsupported } from "../../../src/drivers/registry.js";
import { LocalEndpoint } from "../../../src/endpoints/local.js";
import { InputError } from "../../../src/errors.js";
import { expandMatrix } from "../../../src/matrix/expand.js";
import { parseMatrix } from "../../../src/matrix/parse.js";
import { cellsFromFlags, setupsFromFlags } from "../../../src/plan/flags.js";
import { resolveNetworkSetup } from "../../../src/setups/network.js";

const loopback = setupsFromFlags(["loopback"], undefined);
const traffic: Traffic = {
  protocol: "tcp",
  pattern: "stream",
  requestSize: 16384,
  responseSize: 16384,
  rate: "max",
  durationS: 5,
  warmupS: 1,
  driver: "builtin",
};

test("one flow over IPv4 keeps the key stored runs have; other flows and IPv6 are named in it", () => {
  const old =
    "net=loopback:one-way cpu=none guest=default hv=default builtin:tcp:stream size=16384/16384 rate=max t=5s+1s";
  assert.equal(cellKey(loopback[0]!, traffic), old);
  assert.equal(cellKey(loopback[0]!, { ...traffic, flows: 1, ip: 4 }), old);
  assert.equal(cellKey(loopback[0]!, { ...traffic, flows: 4 }), `${old} flows=4`);
  assert.equal(cellKey(loopback[0]!, { ...traffic, flows: 4, ip: 6 }), `${old} flows=4 ip=6`);
});

test("--flows and --ip are axes of the cross product; defaults leave the traffic as before", () => {
  const { cells } = cellsFromFlags(
    { pattern: "stream", size: "16k", flows: "1,4", ip: "4,6" },
    whyUnsupported,
    loopback,
  );
  assert.deepEqual(
    cells.map((c) => [c.traffic.flows, c.traffic.ip]),
    [
      [undefined, undefined],
      [undefined, 6],
      [4, undefined],
      [4, 6],
    ],
  );
  assert.equal(new Set(cells.map((c) => c.key)).size, 4);
  const plain = cellsFromFlags({ pattern: "stream" }, whyUnsupported, loopback).cells[0]!.traffic;
  assert.equal("flows" in plain || "ip" in plain, false);
});

test("bad --flows and --ip values are refused naming the flag", () => {
  for (const flows of ["0", "1.5", "x", "33", "4,"])
    assert.throws(() => cellsFromFlags({ flows }, whyUnsupported, loopback), /--flows/);
  for (const ip of ["5", "v6", "4.0", "46"])
    assert.throws(() => cellsFromFlags({ ip }, whyUnsupported, loopback), /--ip/);
});

test("drivers that run one flow, or IPv4 only, refuse the cells they cannot run", () => {
  assert.equal(whyUnsupported({ ...traffic, flows: 4 }), null);
  assert.equal(whyUnsupported({ ...traffic, driver: "iperf3", flows: 2, ip: 6 }), null);
  assert.match(
    whyUnsupported({ ...traffic, pattern: "paced", rate: 1000, driver: "sockperf", flows: 2 })!,
    /runs one flow/,
  );
  assert.match(
    whyUnsupported({ ...traffic, pattern: "rr", driver: "sockperf", ip: 6 })!,
    /IPv4 only; ip 6 needs/,
  );
  assert.match(whyUnsupported({ ...traffic, pattern: "paced", rate: "peak", flows: 2 })!, /one flow/);
  const { skipped } = cellsFromFlags(
    { pattern: "rr", driver: "builtin,sockperf", ip: "6" },
    whyUnsupported,
    loopback,
  );
  assert.ok(skipped.some((s) => /sockperf.* ip=6/.test(s.combination)));
});

test("a matrix's traffic takes flows: and ip: lists; bad values name the line and field", () => {
  const deps = { unsupported: whyUnsupported, readText: (path: string) => readFileSync(path, "utf8") };
  const text = `
categories:
  network: [loopback]
  traffic:
    - { name: bulk, protocol: tcp, pattern: stream, sizes: [16k], flows: [1, 4], ip: [4, 6] }
`;
  const cells = expandMatrix(parseMatrix(text, "m.yaml", deps));
  assert.equal(cells.length, 4);
  assert.deepEqual(
    cells.map((c) => c.key.match(/flows=\d+|ip=\d/g)?.join(" ") ?? ""),
    ["", "ip=6", "flows=4", "flows=4 ip=6"],
  );
  assert.throws(
    () => parseMatrix(text.replace("ip: [4, 6]", "ip: [5]"), "m.yaml", deps),
    (error: Error) => error instanceof InputError && /m\.yaml:5:\d+: .*ip/.test(error.message),
  );
  assert.throws(
    () => parseMatrix(text.replace("flows: [1, 4]", "flows: [0]"), "m.yaml", deps),
    (error: Error) => error instanceof InputError && /m\.yaml:5:\d+: .*flows/.test(error.message),
  );
});

test("a path over IPv6 takes its IPv6 addresses; one without them is refused naming the path", () => {
  const path = resolveNetworkSetup("loopback");
  assert.equal(pathOverIp(path, 4), path);
  const v6 = pathOverIp(path, 6);
  assert.equal(v6.serverAddress, "::1");
  assert.equal(v6.clientAddress, "::1");
  const local = new LocalEndpoint("a", "192.0.2.1", "host");
  assert.throws(
    () => pathOverIp({ client: local, server: local, serverAddress: "192.0.2.1" }, 6),
    /no IPv6 addresses/,
  );
  assert.deepEqual(
    pingArgv({ ...traffic, protocol: "icmp", pattern: "rr", rate: "max", ip: 6 }, "::1", 1).slice(0, 2),
    ["ping", "-6"],
  );
});

test("table rows name the flows and IP version where cells differ in them", () => {
  const { cells } = cellsFromFlags({ pattern: "stream", flows: "1,4", ip: "4,6" }, whyUnsupported, loopback);
  const names = [...describeCells(cells).values()];
  assert.equal(new Set(names).size, 4);
  assert.match(names[0]!, / 1 flow ipv4$/);
  assert.match(names[3]!, / 4 flows ipv6$/);
  assert.doesNotMatch(describeTraffic(cells[0]!.traffic), /flow|ipv/, "defaults alone say nothing");
});
