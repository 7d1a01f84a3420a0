import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compile } from "vega-lite";
import { compareRunViews } from "../../../src/compare/runs.js";
import {
  clipDeltas,
  cpuBarsSpec,
  deltasSpec,
  latencyCdfSpec,
  latencyLoadSpec,
  latencyPercentilesSpec,
  serviceDemandSpec,
} from "../../../src/report/plots.js";
import {
  cdfRows,
  cellLabels,
  cpuData,
  deltaRows,
  demandRows,
  loadRows,
  percentileRows,
} from "../../../src/report/plots-data.js";
import { renderSvg, scopeSvgIds } from "../../../src/report/plots-render.js";
import { cpuSummary, makeRun, spread } from "./run-fixture.js";

const paced = (rate: number, latencyUs: number, peak?: number) => ({
  traffic: { pattern: "paced" as const, rate },
  trials: spread(3, latencyUs),
  ...(peak ? { peak } : {}),
});

const run = makeRun("r1", [
  {
    trials: spread(3, 50).map((t) => ({
      ...t,
      cpu: cpuSummary(0.5),
      serviceDemand: { usPerTransaction: 25, cyclesPerUnit: null },
    })),
  },
  paced(1000, 20),
  paced(5000, 30),
  paced(20000, 90),
  { traffic: { protocol: "udp", pattern: "paced", rate: 1000 }, trials: spread(3, 20) },
  { traffic: { pattern: "stream", requestSize: 16384, responseSize: 16384 }, trials: spread(3, 100) },
]);

describe("plot rows", () => {
  it("labels cells by traffic alone when they share a setup, uniquely otherwise", () => {
    assert.deepEqual([...cellLabels(run.cells).values()].slice(0, 2), [
      "tcp rr 64/64",
      "tcp paced 64/64 @1000/s",
    ]);
    const twoSetups = makeRun("r2", [
      { trials: spread(2, 50) },
      { setup: { cpu: "pinned" }, trials: spread(2, 50) },
    ]);
    assert.deepEqual(
      [...cellLabels(twoSetups.cells).values()],
      ["loopback one-way: tcp rr 64/64", "loopback one-way cpu=pinned: tcp rr 64/64"],
    );
    const twoWindows = makeRun("r3", [
      { trials: spread(2, 50) },
      { traffic: { durationS: 5 }, trials: spread(2, 50) },
    ]);
    assert.deepEqual(
      [...cellLabels(twoWindows.cells).values()],
      ["tcp rr 64/64 (1s+0.1s)", "tcp rr 64/64 (5s+0.1s)"],
    );
  });

  it("gives five ordered percentiles per cell with latency", () => {
    const rows = percentileRows(run);
    assert.equal(rows.length, 6 * 5);
    assert.deepEqual(
      rows.slice(0, 5).map((r) => r.percentile),
      ["p50", "p90", "p99", "p99.9", "max"],
    );
    for (const row of rows.slice(0, 5))
      assert.ok(row.us >= 40 && row.us <= 200, `${row.percentile} ${row.us}`);
  });

  it("gives a rising CDF whose nines are −log10(1 − fraction)", () => {
    const rows = cdfRows(run, 20).filter((r) => r.cell === "tcp rr 64/64");
    assert.equal(rows.length, 21);
    assert.equal(rows[0]!.nines, 0);
    assert.ok(Math.abs(rows.at(-1)!.nines - 4) < 1e-9);
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i]!.us >= rows[i - 1]!.us);
  });

  it("draws latency against load for cells differing only in their paced rate (two rates or more)", () => {
    const { rows, peaks } = loadRows(run);
    assert.deepEqual([...new Set(rows.map((r) => r.series))], ["tcp paced 64/64"]);
    assert.deepEqual(
      rows.filter((r) => r.percentile === "p50").map((r) => r.rate),
      [1000, 5000, 20000],
    );
    assert.deepEqual(peaks, []);
  });

  it("marks the peak a cell's summary records", () => {
    const withPeak = structuredClone(run);
    (withPeak.cells[2]!.summary as unknown as { peak: unknown }).peak = { messagesPerSecond: 15000 };
    assert.deepEqual(loadRows(withPeak).peaks, [{ series: "tcp paced 64/64", rate: 15000 }]);
  });

  it("reads CPU and service demand only from trials that carry them", () => {
    const cpu = cpuData(run)!;
    assert.equal(cpu.cells.length, 1);
    assert.equal(cpu.cells[0]!.summary.hostSeconds, 1.5);
    const system = cpu.byCategory.find((r) => r.part === "system")!;
    assert.ok(Math.abs(system.cpus - 0.25) < 1e-12, `system ${system.cpus}`);
    assert.deepEqual(
      cpu.byProcess.map((r) => r.part),
      ["qemu", "vhost", "generator"],
    );
    assert.deepEqual(demandRows(run), [{ cell: "tcp rr 64/64", us: 25, unit: "µs/transaction" }]);
    assert.equal(cpuData(makeRun("none", [{ trials: spread(2, 50) }])), null);
  });

  it("turns relative changes into percentages and leaves absolute metrics (loss) out", () => {
    const slower = makeRun("c", [{ trials: spread(10, 55) }]);
    const rows = deltaRows(compareRunViews(makeRun("b", [{ trials: spread(10, 50) }]), slower));
    assert.ok(rows.every((r) => r.metric !== "loss"));
    const p50 = rows.find((r) => r.metric === "latency p50")!;
    assert.ok(Math.abs(p50.change - 10) < 0.5, `change ${p50.change}`);
    assert.equal(p50.verdict, "regression");
  });
});

describe("plot specs", () => {
  const specs = {
    percentiles: latencyPercentilesSpec(percentileRows(run)),
    cdf: latencyCdfSpec(cdfRows(run)),
    load: latencyLoadSpec(loadRows(run).rows, [{ series: "tcp paced 64/64", rate: 15000 }]),
    cpu: cpuBarsSpec(cpuData(run)!.byCategory, { title: "CPU", part: "category" }, ["user", "system"]),
    demand: serviceDemandSpec(demandRows(run)),
    deltas: deltasSpec(
      [{ cell: "a", metric: "latency p50", change: 10, low: 8, high: 12, verdict: "regression" }],
      2,
    ),
  };

  for (const [name, spec] of Object.entries(specs)) {
    it(`${name}: compiles and renders to an SVG with drawn marks`, async () => {
      assert.doesNotThrow(() => compile(spec));
      const svg = await renderSvg(spec);
      assert.match(svg, /^<svg [^>]*width="\d+" height="\d+"/);
      assert.ok((svg.match(/<path|<rect|<line/g) ?? []).length > 10, "too few marks");
    });
  }

  it("service demand: a panel per unit, its axis titled with the unit", () => {
    const spec = serviceDemandSpec([
      { cell: "rr", us: 20, unit: "µs/transaction" },
      { cell: "stream", us: 3, unit: "µs/KB" },
    ]) as { vconcat: Array<{ encoding: { x: { title: string } } }> };
    assert.deepEqual(
      spec.vconcat.map((panel) => panel.encoding.x.title),
      ["host CPU µs/transaction", "host CPU µs/KB"],
    );
  });

  it("load: labels the peak", async () => {
    assert.match(await renderSvg(specs.load), />peak</);
  });

  it("CDF: labels the stretched axis as percentiles", async () => {
    const svg = await renderSvg(specs.cdf);
    for (const label of ["0%", "90%", "99%", "99.9%", "99.99%"]) assert.ok(svg.includes(`>${label}<`), label);
  });

  it("deltas: cuts intervals at 1.5× the largest change (at least 3× noise) and says so", () => {
    const drawn = clipDeltas(
      [
        { cell: "a", metric: "m", change: 10, low: 8, high: 500, verdict: "inconclusive" },
        { cell: "b", metric: "m", change: 1, low: -1, high: 2, verdict: "unchanged" },
        { cell: "a", metric: "n", change: 1, low: -50, high: 3, verdict: "inconclusive" },
      ],
      2,
    );
    assert.deepEqual(
      drawn.map((d) => [d.lowShown, d.highShown, d.clipped]),
      [
        [8, 15, true],
        [-1, 2, false],
        [-6, 3, true],
      ],
    );
    assert.deepEqual([drawn[0]!.noiseLow, drawn[0]!.noiseHigh], [-2, 2]);
  });

  it("overlays a baseline on the latency percentiles and CDF: both runs drawn, the baseline dashed", async () => {
    const baseline = makeRun("b", [{ trials: spread(3, 80) }, paced(1000, 40)]);
    const labels = cellLabels(run.cells);
    const percentiles = [
      ...percentileRows(run, { run: "candidate", labels }),
      ...percentileRows(baseline, { run: "baseline", labels }),
    ];
    const drawn = (rows: Array<{ cell: string; run?: string }>) =>
      [...new Set(rows.map((row) => `${row.run} ${row.cell}`))].filter((name) => name.startsWith("baseline"));
    assert.deepEqual(drawn(percentiles), ["baseline tcp rr 64/64", "baseline tcp paced 64/64 @1000/s"]);
    const cdf = [
      ...cdfRows(run, 50, { run: "candidate", labels }),
      ...cdfRows(baseline, 50, { run: "baseline", labels }),
    ];
    assert.deepEqual(drawn(cdf), ["baseline tcp rr 64/64", "baseline tcp paced 64/64 @1000/s"]);
    for (const spec of [latencyPercentilesSpec(percentiles), latencyCdfSpec(cdf)]) {
      const svg = await renderSvg(spec);
      assert.match(svg, /stroke-dasharray="5,3"/, "the baseline's lines are dashed");
      assert.ok(svg.includes(">baseline<") && svg.includes(">candidate<"), "the legend names both runs");
    }
  });

  it("a peak run's latency–load curve is its search's trials, with the peak marked", () => {
    const peakRun = makeRun("p", [{ traffic: { pattern: "paced", rate: "peak" }, trials: spread(1, 30) }]);
    const point = (offered: number, p50: number, verdict: string) => ({
      phase: "sweep",
      verdict,
      failed: [],
      offeredMessagesPerSecond: offered,
      messagesPerSecond: offered,
      latencyUs: { min: p50 / 2, p50, mean: p50, p90: p50 * 2, p99: p50 * 3, p999: p50 * 4, max: p50 * 5 },
    });
    (peakRun.cells[0]!.summary as unknown as { peak: unknown }).peak = {
      messagesPerSecond: 4000,
      curve: [point(8000, 900, "bad"), point(1000, 20, "good"), point(4000, 40, "good")],
    };
    const { rows, peaks } = loadRows(peakRun);
    assert.deepEqual(
      rows.filter((row) => row.percentile === "p50").map((row) => [row.rate, row.us]),
      [
        [1000, 20],
        [4000, 40],
        [8000, 900],
      ],
    );
    assert.deepEqual(peaks, [{ series: "tcp paced 64/64", rate: 4000 }]);
  });

  it("scopes SVG ids so several plots share a page", () => {
    const svg = '<clipPath id="clip1"></clipPath><g clip-path="url(#clip1)"><use href="#clip1"/></g>';
    assert.equal(
      scopeSvgIds(svg, "plot2"),
      '<clipPath id="plot2-clip1"></clipPath><g clip-path="url(#plot2-clip1)"><use href="#plot2-clip1"/></g>',
    );
  });
});
