import assert from "node:assert/strict";
import { test } from "node:test";
import { parseInterrupts, parseSoftirqs } from "../../../src/monitors/proc-interrupts.js";
import { fixture } from "./fixtures.js";

test("parses real /proc/interrupts rows: numbered, named, and single-count ones", () => {
  const rows = parseInterrupts(fixture("interrupts-a.txt"));
  const byId = new Map(rows.map((r) => [r.id, r]));
  assert.equal(rows.length, 35);
  assert.deepEqual(byId.get("41"), {
    id: "41",
    description: "PCI-MSIX-0000:00:04.0 1-edge virtio3-rx",
    counts: new Map([
      [0, 1953],
      [1, 0],
    ]),
  });
  assert.deepEqual(
    byId.get("LOC")!.counts,
    new Map([
      [0, 25350],
      [1, 34489],
    ]),
  );
  assert.equal(byId.get("LOC")!.description, "Local timer interrupts");
  // ERR carries one machine-wide total, which is not a per-CPU count of CPU0 and CPU1.
  assert.deepEqual(byId.get("ERR")!.counts, new Map([[0, 0]]));
});

test("parses real /proc/softirqs, NET_RX and NET_TX per CPU", () => {
  const softirqs = parseSoftirqs(fixture("softirqs-b.txt"));
  assert.deepEqual(
    softirqs.get("NET_RX"),
    new Map([
      [0, 1404571],
      [1, 804141],
    ]),
  );
  assert.deepEqual(
    softirqs.get("NET_TX"),
    new Map([
      [0, 1075],
      [1, 224],
    ]),
  );
  assert.equal(softirqs.size, 10);
});

test("a header with a CPU gone maps the columns to the CPUs still listed", () => {
  const softirqs = parseSoftirqs(fixture("softirqs-c-cpu1-offline.derived.txt"));
  assert.deepEqual(softirqs.get("NET_RX"), new Map([[0, 1404571]]));
  const sparse = parseSoftirqs("      CPU0   CPU2\n NET_RX:  5  7\n");
  assert.deepEqual(
    sparse.get("NET_RX"),
    new Map([
      [0, 5],
      [2, 7],
    ]),
  );
});

test("a file without a CPU header is refused", () => {
  assert.throws(() => parseInterrupts("hello\n"), /no "CPUn" header/);
});
