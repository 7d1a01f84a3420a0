import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  formatChange,
  formatComparison,
  formatInterval,
  formatP,
  formatValue,
} from "../../../src/compare/report.js";
import { compareRunViews } from "../../../src/compare/runs.js";
import { HOST, makeRun, spread } from "../report/run-fixture.js";

describe("comparison formatting", () => {
  it("writes relative changes as signed percentages and absolute ones as percentage points", () => {
    const relative = { change: "relative" as const };
    assert.equal(formatChange(relative, 0.1064), "+10.6%");
    assert.equal(formatChange(relative, -0.32), "-32.0%");
    assert.equal(formatChange(relative, 3.5), "+350%");
    assert.equal(formatChange(relative, 0), "±0.0%");
    assert.equal(formatChange(relative, Number.POSITIVE_INFINITY), "+inf");
    assert.equal(formatChange({ change: "absolute" }, 0.001), "+0.100 pp");
    assert.equal(formatInterval({ change: "relative", low: 0.081, high: 0.129 }), "[+8.1%, +12.9%]");
    assert.equal(formatValue({ metric: "latencyP50" }, 30.14), "30.1 µs");
    assert.equal(formatValue({ metric: "lossRatio" }, 0.0123), "1.23%");
    assert.equal(formatP(0.0004), "<0.001");
    assert.equal(formatP(0.0312), "0.031");
  });

  it("groups by setup, lists changed metrics worst first and only counts unchanged cells", () => {
    const cells = (factor: number) => [
      { trials: spread(10, 50) },
      { setup: { cpu: "pinned" }, trials: spread(10, 50) },
      { setup: { cpu: "pinned" }, traffic: { protocol: "udp" as const }, trials: spread(10, 40 * factor) },
    ];
    const text = formatComparison(compareRunViews(makeRun("base", cells(1)), makeRun("cand", cells(0.9))));
    const lines = text.split("\n");
    assert.deepEqual(
      lines.filter((l) => l.startsWith("== ")),
      ["== loopback one-way cpu=pinned", "== loopback one-way"],
    );
    const pinned = lines.indexOf("== loopback one-way cpu=pinned");
    assert.match(
      lines[pinned + 1]!,
      /^cell\s+metric\s+baseline\s+candidate\s+change\s+95% interval\s+p \(BH\)\s+verdict$/,
    );
    assert.match(lines[pinned + 3]!, /^udp rr 64\/64\s+latency p50 .* -10\.0% .* improvement$/);
    assert.match(text, /1 cell unchanged \(and \d+ unchanged metrics? of the cells above\)/);
    assert.match(text, /== loopback one-way\n1 cell unchanged\n/);
    assert.match(text, /RESULT: no regression$/);
  });

  it("shows what differs in the runs' software facts as a table", () => {
    const facts = (mtu: number, cc: string) => ({
      ...HOST,
      software: { host: { mtu: { eth0: mtu }, sysctls: { "net.ipv4.tcp_congestion_control": cc } } },
    });
    const cells = [{ trials: spread(10, 50) }];
    const text = formatComparison(
      compareRunViews(
        makeRun("base", cells, facts(1500, "cubic")),
        makeRun("cand", cells, facts(9000, "bbr")),
      ),
    );
    assert.match(text, /== what differs between the runs\nfact\s+baseline\s+candidate\n/);
    assert.match(text, /software\.host\.mtu\.eth0\s+1500\s+9000/);
    assert.match(text, /software\.host\.sysctls\.net\.ipv4\.tcp_congestion_control\s+cubic\s+bbr/);
  });
});
