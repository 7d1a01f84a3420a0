import assert from "node:assert/strict";
import { test } from "node:test";
import { generatorReach } from "../../../src/analysis/generator-reach.js";
import type { Cell } from "../../../src/domain/cell.js";
import type { Traffic } from "../../../src/domain/traffic.js";

function cell(setup: string, protocol: Traffic["protocol"], rate: Traffic["rate"], limited: boolean) {
  const traffic: Traffic = {
    protocol,
    pattern: "paced",
    requestSize: 64,
    responseSize: 64,
    rate,
    durationS: 1,
    warmupS: 0,
    driver: "builtin",
  };
  return {
    key: `${setup}/${protocol}/${rate}`,
    setup: { setup } as unknown as Cell["setup"],
    traffic,
    limited,
  };
}

test("per path, the highest rate kept below the lowest one the generator could not keep", () => {
  const cells = [
    cell("loopback", "udp", 50_000, true),
    cell("loopback", "udp", 1_000, false),
    cell("loopback", "udp", 100_000, true),
    cell("loopback", "udp", 10_000, false),
    cell("loopback", "tcp", 1_000, true),
    cell("loopback", "tcp", 10_000, false), // kept at a higher rate: still limited from 1000
    cell("host-to-guest", "udp", 50_000, false),
    cell("host-to-guest", "udp", "max", true), // not an offered rate
  ];
  const reach = generatorReach(cells, (c) => c.limited);
  assert.deepEqual(
    reach.map((r) => [r.firstLimited.key, r.keptUpTo]),
    [
      ["loopback/udp/50000", 10_000],
      ["loopback/tcp/1000", null],
    ],
  );
});
