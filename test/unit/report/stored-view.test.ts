// Views of a stored run from the summaries kept in the store, without histograms, must say what
// the views computed from every trial's histograms say: the same cell summaries, and compare's
// verdicts on planted changes the same on both paths (bench/scale.ts times the fast one).

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { addTrials, buildScaleStore } from "../../../bench/scale-store.js";
import { compareMeasuredRuns, compareRunViews, type RunComparison } from "../../../src/compare/runs.js";
import type { Trial } from "../../../src/domain/cell.js";
import { loadMatrix, planMatrix } from "../../../src/matrix/plan.js";
import { loadMeasuredRun, loadRunView, runView, summaryVersion } from "../../../src/report/run-view.js";
import { adaptiveRounds } from "../../../src/run/adaptive-run.js";
import { Store } from "../../../src/storage/store.js";
import { compareRuns } from "../../../src/views.js";
import { cellOf, cpuSummary, HOST, sampleOf } from "./run-fixture.js";

const dir = mkdtempSync(join(tmpdir(), "vnb-stored-view-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** One source trial per kind of traffic, with real histograms, CPU and service demand. */
function sources(): { cells: ReturnType<typeof cellOf>[]; trials: Trial[] } {
  const kinds = [
    { protocol: "tcp", pattern: "rr", rate: "max", latencyUs: 30 },
    { protocol: "tcp", pattern: "stream", rate: "max", latencyUs: 0 },
    { protocol: "udp", pattern: "paced", rate: 1000, latencyUs: 60 },
    { protocol: "udp", pattern: "stream", rate: 1000, latencyUs: 0 },
  ] as const;
  const cells = kinds.map((k) =>
    cellOf({ traffic: { protocol: k.protocol, pattern: k.pattern, rate: k.rate }, trials: [] }),
  );
  const trials = kinds.map((k, i): Trial => {
    const sample = sampleOf({ latencyUs: k.latencyUs || 50, messagesPerSecond: 20000 });
    if (k.latencyUs === 0) Object.assign(sample, { histogram: null, latencyUs: null });
    return {
      cellKey: cells[i]!.key,
      trial: 1,
      status: "completed",
      startedAt: "2026-01-02T03:04:05.000Z",
      finishedAt: "2026-01-02T03:04:06.000Z",
      samples: [sample],
      cpu: cpuSummary(1.5),
      serviceDemand: {
        usPerTransaction: 75,
        cyclesPerUnit: null,
        withoutGenerator: { usPerTransaction: 40 },
      },
      windowCpuSeconds: 1.5,
      windowGeneratorSeconds: 0.6,
    };
  });
  return { cells, trials };
}

// The first 48 cells of the seed's matrix: one- and two-way, every pattern of the first setups.
const cells = planMatrix(loadMatrix("examples/seed-full.yaml")).cells.slice(0, 48);
const db = join(dir, "scale.db");
const store = new Store(db);
const source = sources();
const built = buildScaleStore(store, {
  cells,
  trials: 10,
  sources: source.trials,
  sourceCells: source.cells,
  metadata: HOST,
  planted: 4,
});
store.close();

/** Both runs' views computed from every trial's histograms, as before summaries were stored. */
function fromHistograms(id: string) {
  const reader = new Store(db);
  try {
    return runView(reader.getRun(id));
  } finally {
    reader.close();
  }
}

test("stored cell summaries equal those computed from the histograms, and a second read takes them from the store", () => {
  const reader = new Store(db);
  try {
    const computed = runView(reader.getRun(built.candidate));
    const first = loadRunView(reader, built.candidate);
    assert.equal(reader.cellSummaries(built.candidate, summaryVersion()).size, cells.length);
    const second = loadRunView(reader, built.candidate);
    const summariesOnly = loadRunView(reader, built.candidate, { trials: false });
    assert.ok(summariesOnly.cells.every((c) => c.trials.length === 0));
    assert.deepEqual(
      summariesOnly.cells.map((c) => c.summary),
      computed.cells.map((c) => c.summary),
    );
    for (const [i, cell] of computed.cells.entries()) {
      assert.deepEqual(first.cells[i]!.summary, cell.summary, cell.key);
      assert.deepEqual(second.cells[i]!.summary, cell.summary, cell.key);
      assert.deepEqual(second.cells[i]!.directions, cell.directions, cell.key);
    }
    // A summary another vnetbench stored is not taken: it is made again.
    const key = cells[1]!.key;
    reader.saveCellSummaries(
      built.candidate,
      summaryVersion(),
      new Map([[key, { summary: { trials: -1 } }]]),
    );
    assert.equal(loadRunView(reader, built.candidate).cells[1]!.summary.trials, -1, "the stored one is used");
    reader.saveCellSummaries(built.candidate, "0.0.1+0", new Map([[key, { summary: { trials: -2 } }]]));
    assert.deepEqual(loadRunView(reader, built.candidate).cells[1]!.summary, computed.cells[1]!.summary);
    // Without histograms the trials are otherwise whole.
    assert.ok(first.cells.every((c) => c.trials.every((t) => t.samples.every((s) => s.histogram === null))));
    assert.deepEqual(
      first.cells.map((c) => c.trials.map((t) => t.samples.map((s) => s.latencyUs))),
      computed.cells.map((c) => c.trials.map((t) => t.samples.map((s) => s.latencyUs))),
    );
  } finally {
    reader.close();
  }
});

test("compare's verdicts are the same from stored summaries as from the histograms, planted changes found", () => {
  const fast = compareRuns(built.baseline, built.candidate, { db });
  const slow = compareRunViews(fromHistograms(built.baseline), fromHistograms(built.candidate));
  assert.deepEqual(
    fast.cells.map((c) => [
      c.key,
      c.metrics.map((m) => [m.metric, m.verdict, m.estimate, m.low, m.high, m.p]),
    ]),
    slow.cells.map((c) => [
      c.key,
      c.metrics.map((m) => [m.metric, m.verdict, m.estimate, m.low, m.high, m.p]),
    ]),
  );
  assert.deepEqual(fast.counts, slow.counts);
  const metricOf = { latency: "latencyP50", throughput: "messagesPerSecond", cpu: "hostCpuSeconds" } as const;
  for (const planted of built.planted) {
    const cell = fast.cells.find((c) => c.key === planted.cellKey)!;
    const metric = cell.metrics.find((m) => m.metric === metricOf[planted.what])!;
    const expected = (planted.what === "throughput") === planted.factor > 1 ? "improvement" : "regression";
    assert.equal(
      metric.verdict,
      expected,
      `${planted.what} ×${planted.factor} in ${planted.cellKey}: ${JSON.stringify(metric)}`,
    );
  }
  // Nothing else changed: no cell without a planted change is called a regression or improvement.
  const plantedKeys = new Set(built.planted.map((p) => p.cellKey));
  const others = fast.cells.filter((c) => !plantedKeys.has(c.key));
  assert.ok(others.every((c) => c.verdict === "unchanged" || c.verdict === "inconclusive"));
});

test("a trial recorded later drops its cell's stored summary; the view summarizes the cell again", () => {
  const writer = new Store(db);
  try {
    loadRunView(writer, built.candidate);
    const cell = cells[0]!;
    const [last] = writer.getRun(built.candidate, { cells: [cell.key] }).results.slice(-1);
    writer.recordTrial(built.candidate, { ...last!, trial: 11, finishedAt: "2026-01-02T04:00:00.000Z" });
    assert.equal(writer.cellSummaries(built.candidate, summaryVersion()).has(cell.key), false);
    const view = loadRunView(writer, built.candidate);
    assert.equal(view.cells[0]!.summary.trials, 11);
    assert.equal(view.cells[0]!.trials.length, 11);
    assert.deepEqual(view.cells[0]!.summary, runView(writer.getRun(built.candidate)).cells[0]!.summary);
    // As the runner does after each trial: the cell summarized and kept at once.
    addTrials(writer, built.candidate, [cell]);
    assert.equal(writer.cellSummaries(built.candidate, summaryVersion()).has(cell.key), true);
    assert.equal(loadRunView(writer, built.candidate).cells[0]!.trials.length, 12);
  } finally {
    writer.close();
  }
});

test("compare after one more trial in a few cells, in the process that compared before, says what a comparison from scratch says", () => {
  const writer = new Store(db);
  try {
    const measured = () =>
      compareMeasuredRuns(loadMeasuredRun(writer, built.baseline), loadMeasuredRun(writer, built.candidate));
    const before = measured();
    // The planted cells and one more, as an adaptive round adds them.
    const keys = new Set([...built.planted.map((p) => p.cellKey), cells[5]!.key]);
    addTrials(
      writer,
      built.candidate,
      cells.filter((cell) => keys.has(cell.key)),
    );
    const again = measured();
    const scratch = compareRunViews(fromHistograms(built.baseline), fromHistograms(built.candidate));
    const verdicts = (c: RunComparison) =>
      c.cells.map((cell) => [
        cell.key,
        cell.metrics.map((m) => [
          m.metric,
          m.verdict,
          m.candidate.n,
          m.estimate,
          m.low,
          m.high,
          m.p,
          m.pAdjusted,
        ]),
      ]);
    assert.deepEqual(verdicts(again), verdicts(scratch));
    assert.deepEqual(again.counts, scratch.counts);
    // The cells given a trial are measured on it, the others as before.
    const earlier = new Map(before.cells.map((cell) => [cell.key, cell.metrics[0]!.candidate.n]));
    for (const cell of again.cells) {
      const trials = earlier.get(cell.key)! + (keys.has(cell.key) ? 1 : 0);
      assert.ok(
        cell.metrics.every((m) => m.candidate.n === trials),
        `${cell.key}: ${trials} trials`,
      );
    }
    assert.notDeepEqual(verdicts(again), verdicts(before));
    // Every field, warnings and order included, as a store opened afresh reads it.
    const fresh = new Store(db);
    try {
      assert.deepEqual(
        again,
        compareMeasuredRuns(loadMeasuredRun(fresh, built.baseline), loadMeasuredRun(fresh, built.candidate)),
      );
    } finally {
      fresh.close();
    }
    // Each cell given a trial compares otherwise than before it: one not judged again would fail above.
    const judged = (c: RunComparison, key: string) => verdicts(c).find(([k]) => k === key);
    for (const key of keys) assert.notDeepEqual(judged(before, key), judged(scratch, key), key);
  } finally {
    writer.close();
  }
});

test("an adaptive run's rounds, looked at again after each with what it kept, are those replayed from scratch", () => {
  const writer = new Store(db);
  try {
    const settings = { baseline: built.baseline, mode: "precision", initialTrials: 10, maxTrials: 16 };
    writer.setMetadataField(built.candidate, "adaptive", settings);
    const rounds = adaptiveRounds(writer, built.candidate)!;
    const fromScratch = () => {
      const fresh = new Store(db);
      try {
        return adaptiveRounds(fresh, built.candidate)!.next();
      } finally {
        fresh.close();
      }
    };
    const cellsByKey = new Map(cells.map((cell) => [cell.key, cell]));
    let ran = 0;
    for (let next = rounds.next(); next !== null; next = rounds.next()) {
      assert.deepEqual(next, fromScratch(), `round ${next.round}`);
      const before = next;
      // One more trial in the cells the round names (those the earlier tests ran on get theirs too).
      for (const { cellIndex, trial } of next.trials) {
        const cell = cellsByKey.get(writer.getRun(built.candidate, { cells: [] }).cells[cellIndex]!.key)!;
        const run = writer.getRun(built.candidate, { cells: [cell.key] });
        assert.equal(run.results.length + 1, trial);
        addTrials(writer, built.candidate, [cell], trial);
      }
      ran++;
      // A cell given a trial opens the next round otherwise: a look not made again would repeat it.
      assert.notDeepEqual(fromScratch(), before);
    }
    assert.ok(ran >= 2, `${ran} rounds`);
    assert.equal(fromScratch(), null);
    const notes = rounds.finish();
    const kept = writer.getRun(built.candidate, { cells: [] }).metadata.adaptive;
    const fresh = new Store(db);
    try {
      assert.deepEqual(adaptiveRounds(fresh, built.candidate)!.finish(), notes);
      assert.deepEqual(fresh.getRun(built.candidate, { cells: [] }).metadata.adaptive, kept);
    } finally {
      fresh.close();
    }
  } finally {
    writer.setMetadataField(built.candidate, "adaptive", null);
    writer.close();
  }
});
