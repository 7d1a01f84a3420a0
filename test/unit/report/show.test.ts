// The run table (`show`, and after `run`) names what tells its rows apart, and a bidirectional
// cell shows each direction and the total.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { Trial } from "../../../src/domain/cell.js";
import { cellView } from "../../../src/report/run-view.js";
import { formatRun } from "../../../src/report/show.js";
import { cellOf, makeRun, sampleOf } from "./run-fixture.js";

const rowOf = (text: string, start: string) => text.split("\n").find((line) => line.startsWith(start));

test("rows name the cpu, guest and hypervisor options and the direction that differ between cells", () => {
  const view = makeRun("r", [
    { setup: { network: "host-to-guest" }, trials: [{ latencyUs: 64.3 }] },
    { setup: { network: "host-to-guest", cpu: "pin-qemu" }, trials: [{ latencyUs: 22 }] },
    {
      setup: { network: "host-to-guest", guest: "jumbo", hypervisor: "vhost-off" },
      trials: [{ latencyUs: 30 }],
    },
    { setup: { network: "host-to-guest", direction: "bidirectional" }, trials: [{ latencyUs: 40 }] },
  ]);
  const text = formatRun(view);
  const names = text
    .split("\n")
    .filter((line) => line.startsWith("host-to-guest"))
    .map((line) => line.split(/\s{2,}/)[0]);
  assert.deepEqual(names, [
    "host-to-guest one-way cpu=none guest=default hv=default builtin tcp rr 64/64",
    "host-to-guest one-way cpu=pin-qemu guest=default hv=default builtin tcp rr 64/64",
    "host-to-guest one-way cpu=none guest=jumbo hv=vhost-off builtin tcp rr 64/64",
    "host-to-guest bidi cpu=none guest=default hv=default builtin tcp rr 64/64 both ways",
  ]);
  // Cells that share every option stay short.
  const plain = formatRun(
    makeRun("p", [
      { trials: [{ latencyUs: 10 }] },
      { traffic: { pattern: "crr" }, trials: [{ latencyUs: 20 }] },
    ]),
  );
  assert.ok(rowOf(plain, "loopback builtin tcp rr 64/64 "), plain);
});

test("a bidirectional cell shows the total of both directions, then each direction", () => {
  const cell = cellOf({ setup: { direction: "bidirectional" }, traffic: { pattern: "stream" }, trials: [] });
  const forward = sampleOf({ latencyUs: 100, messagesPerSecond: 15_000 });
  const reverse = {
    ...sampleOf({ latencyUs: 100, messagesPerSecond: 13_000 }),
    direction: "reverse" as const,
  };
  const trial: Trial = {
    cellKey: cell.key,
    trial: 1,
    status: "completed",
    startedAt: "2026-01-02T03:04:05.000Z",
    finishedAt: "2026-01-02T03:04:06.000Z",
    samples: [forward, reverse],
  };
  const view = { ...makeRun("b", []), trialsPerCell: 1, cells: [cellView(cell, [trial])] };
  assert.equal(view.cells[0]!.directions!.total.messagesPerSecond, 28_000);
  const text = formatRun(view);
  const columns = (line: string | undefined) => line!.trim().split(/\s{2,}/);
  assert.equal(columns(rowOf(text, "loopback bidi builtin tcp stream 64/64 both ways"))[5], "28000");
  assert.equal(columns(rowOf(text, "  → forward"))[4], "15000");
  assert.equal(columns(rowOf(text, "  ← reverse"))[4], "13000");
});

test("paced cells that differ only in rate: the table says up to which rate the generator kept its schedule", () => {
  const paced = (rate: number, generatorLimited: boolean, dataPath: "native" | "node" = "node") => ({
    traffic: { pattern: "paced" as const, protocol: "udp" as const, rate },
    trials: [{ latencyUs: 40, generatorLimited, dataPath }],
  });
  const text = formatRun(
    makeRun("g", [paced(1000, false), paced(10_000, false), paced(50_000, true), paced(100_000, true)]),
  );
  const line = text.split("\n").find((l) => l.includes("generator-limited at"));
  assert.ok(line?.includes("generator-limited at 50000 msg/s; kept its schedule up to 10000 msg/s"), text);
  assert.ok(
    line?.includes("native one") && line.includes("driver: auto"),
    "Node's data path: the way out is named",
  );
  const native = formatRun(makeRun("n", [paced(1000, false, "native"), paced(50_000, true, "native")]));
  const nativeLine = native.split("\n").find((l) => l.includes("generator-limited at"));
  assert.ok(
    nativeLine && !nativeLine.includes("driver: auto"),
    "the native data path has no other way out to offer",
  );
  const kept = formatRun(makeRun("k", [paced(1000, false), paced(10_000, false)]));
  assert.ok(!kept.includes("could not keep up"), "nothing to say when it kept up everywhere");
});
