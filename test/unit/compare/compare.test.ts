import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mulberry32 } from "../../../src/analysis/random.js";
import { benjaminiHochberg, mannWhitneyU } from "../../../src/analysis/statistics.js";
import {
  compareCells,
  compareMetric,
  DEFAULT_THRESHOLDS,
  measureMetric,
  noiseFor,
} from "../../../src/compare/compare.js";
import type { MetricInput } from "../../../src/compare/metrics.js";
import {
  type Evidence,
  estimateTrialsPerSide,
  judge,
  rankTestDecides,
} from "../../../src/compare/verdict.js";
import { syntheticMatrix, trials } from "./synthetic.js";

const evidence: Evidence = {
  better: "lower",
  baselineN: 10,
  candidateN: 10,
  estimate: 0.08,
  low: 0.05,
  high: 0.12,
  confidence: 0.95,
  p: 0.001,
  pAdjusted: 0.001,
  tests: 1,
  noise: 0.02,
  alpha: 0.05,
  rankP: null,
};

describe("judge", () => {
  it("calls a significant change whose whole interval is beyond the noise a regression or improvement", () => {
    assert.deepEqual(judge(evidence), { verdict: "regression" });
    assert.deepEqual(judge({ ...evidence, better: "higher" }), { verdict: "improvement" });
    const faster = { ...evidence, estimate: -0.08, low: -0.12, high: -0.05 };
    assert.deepEqual(judge(faster), { verdict: "improvement" });
    assert.deepEqual(judge({ ...faster, better: "higher" }), { verdict: "regression" });
  });

  it("calls an interval inside ±noise unchanged, significant or not", () => {
    const small = { ...evidence, estimate: 0.005, low: -0.015, high: 0.019 };
    assert.deepEqual(judge(small), { verdict: "unchanged" });
    assert.deepEqual(judge({ ...small, p: 0.9, pAdjusted: 0.9 }), { verdict: "unchanged" });
  });

  it("is inconclusive when the interval straddles the noise threshold, with trials to settle it", () => {
    const judgement = judge({ ...evidence, estimate: 0.04, low: 0.01, high: 0.07, p: 0.01, pAdjusted: 0.01 });
    assert.equal(judgement.verdict, "inconclusive");
    assert.ok(judgement.verdict === "inconclusive" && judgement.reason.includes("straddles"));
    assert.equal(judgement.verdict === "inconclusive" && judgement.trialsPerSide, 46);
  });

  it("is inconclusive when the interval is clear of the noise but the adjusted p is not below α", () => {
    const judgement = judge({ ...evidence, pAdjusted: 0.08 });
    assert.equal(judgement.verdict, "inconclusive");
    assert.ok(judgement.verdict === "inconclusive" && judgement.reason.includes("adjusted"));
  });

  it("needs the rank test to agree where it can decide", () => {
    const judgement = judge({ ...evidence, rankP: 0.2 });
    assert.equal(judgement.verdict, "inconclusive");
    assert.ok(judgement.verdict === "inconclusive" && judgement.reason.includes("rank test"));
    assert.deepEqual(judge({ ...evidence, rankP: 0.001 }), { verdict: "regression" });
    // Its least p is 0.1 at 3 a side and 0.0079 at 5: no check; 0.0022 at 6 a side: a check.
    assert.equal(rankTestDecides(3, 3, 0.05), false);
    assert.equal(rankTestDecides(5, 5, 0.05), false);
    assert.equal(rankTestDecides(6, 6, 0.05), true);
  });

  it("claims nothing with a single trial on a side: there is no spread", () => {
    const judgement = judge({ ...evidence, baselineN: 1, candidateN: 3 });
    assert.equal(judgement.verdict, "inconclusive");
    assert.ok(judgement.verdict === "inconclusive" && judgement.reason.includes("at least 2"));
  });
});

describe("estimateTrialsPerSide", () => {
  it("scales the trials by (half-width / distance to the threshold)² (worked by hand)", () => {
    // 80 % power inflates the plug-in need by ((z_c + z_β)/z_c)² = ((1.960 + 0.842)/1.960)² = 2.043.
    // Half-width 0.03, estimate 0.04 is 0.02 beyond the 2 % noise: 10·(0.03/0.02)²·2.043 = 45.97 → 46.
    // The p-based need is smaller: 10·((z(0.025) + z_β)/z(0.005))² = 10·(2.802/2.576)² = 11.8.
    assert.equal(estimateTrialsPerSide({ ...evidence, estimate: 0.04, low: 0.01, high: 0.07, p: 0.01 }), 46);
    // Towards `unchanged`: 0.015 inside the noise, half-width 0.03: 10·2²·2.043 = 81.7 → 82.
    assert.equal(
      estimateTrialsPerSide({ ...evidence, estimate: 0.005, low: -0.025, high: 0.035, p: 0.7 }),
      82,
    );
  });

  it("lets p drive it when the interval is already clear of the noise", () => {
    // The interval needs only 10·(0.035/0.06)²·2.043 = 7; the test 10·((z(0.05/(2·40)) + z_β)/z(0.01/2))²
    // = 10·((3.227 + 0.842)/2.576)² = 24.95 → 25 (values from scipy.stats.norm.isf).
    assert.equal(estimateTrialsPerSide({ ...evidence, p: 0.01, tests: 40 }), 25);
  });

  it("names a number of trials that usually settles it", (t) => {
    // Cells 4 % slower with 3 % noise: 10 trials a side are mostly inconclusive; rerun each with
    // the estimated number of fresh trials and count how often the verdict is then settled.
    const random = mulberry32(99);
    let inconclusive = 0;
    let settled = 0;
    for (let k = 0; k < 60; k++) {
      const run = (n: number) =>
        compareMetric(
          {
            cellKey: "c",
            metric: "latencyP50",
            baseline: trials(random, n, 100, 0.03),
            candidate: trials(random, n, 104, 0.03),
          },
          { seed: k, resamples: 500 },
        );
      const first = run(10);
      if (first.verdict !== "inconclusive" || first.trialsPerSide === null) continue;
      inconclusive++;
      if (run(first.trialsPerSide).verdict !== "inconclusive") settled++;
    }
    t.diagnostic(`settled ${settled} of ${inconclusive} inconclusive cells`);
    assert.ok(settled >= 0.6 * inconclusive, `settled ${settled} of ${inconclusive}`);
  });

  it("gives up (null) when the estimate sits on the threshold", () => {
    assert.equal(estimateTrialsPerSide({ ...evidence, estimate: 0.02, low: 0, high: 0.04 }), null);
  });
});

describe("compareCells", () => {
  const base = [100, 101, 99, 100.5, 99.5, 100.2, 99.8, 100.7, 99.3, 100.1];
  const slower = base.map((v) => v * 1.1);

  it("reports medians, the change, Welch's test and interval and the U test of each metric", () => {
    const result = compareMetric({ cellKey: "c", metric: "latencyP50", baseline: base, candidate: slower });
    assert.equal(result.baseline.median, 100.05);
    assert.ok(Math.abs(result.candidate.median - 110.055) < 1e-9);
    assert.ok(Math.abs(result.estimate - 0.1) < 1e-12);
    // Every log value shifted by ln 1.1 with the same spread: Welch's interval is exactly 1.1× ± a bit.
    assert.equal(result.test, "welch-log");
    assert.ok(result.low > 0.09 && result.high < 0.11 && result.low < 0.1 && result.high > 0.1);
    assert.ok(result.p < 1e-12, `${result.p}`);
    assert.ok(result.medianInterval.low > 0.08 && result.medianInterval.high < 0.12);
    // Every candidate trial above every baseline trial: U = 100, p = 2/C(20,10), and it decides here.
    assert.equal(result.u, 100);
    assert.ok(Math.abs(result.rankP - 2 / 184756) < 1e-18);
    assert.equal(result.rankDecides, true);
    assert.equal(result.verdict, "regression");
    assert.equal(result.pAdjusted, result.p);
  });

  it("calls a doubling from 3 trials a side, where the least rank-test p is 0.1", () => {
    const result = compareMetric({
      cellKey: "c",
      metric: "latencyP50",
      baseline: [100, 103, 97],
      candidate: [200, 206, 195],
    });
    // scipy.stats.ttest_ind(log(cand), log(base), equal_var=False).pvalue = 8.35e-6.
    assert.ok(Math.abs(result.p - 8.350126240464391e-6) < 1e-10, `${result.p}`);
    assert.equal(result.rankDecides, false);
    assert.equal(result.verdict, "regression");
    // --quick's 2 trials a side call it too.
    const quick = compareMetric({
      cellKey: "c",
      metric: "latencyP50",
      baseline: [100, 103],
      candidate: [200, 204],
    });
    assert.equal(quick.verdict, "regression");
    // The interval of the ratio of geometric means: exp([0.6294, 0.7603]) − 1.
    assert.ok(Math.abs(result.low - Math.expm1(0.6294483039531179)) < 1e-8);
  });

  it("turns the same change into an improvement for a higher-is-better metric", () => {
    const result = compareMetric({
      cellKey: "c",
      metric: "messagesPerSecond",
      baseline: base,
      candidate: slower,
    });
    assert.equal(result.verdict, "improvement");
  });

  it("adjusts Welch's p by Benjamini–Hochberg across the judged metrics only", () => {
    const inputs: MetricInput[] = [
      { cellKey: "a", metric: "latencyP50", baseline: base, candidate: slower },
      {
        cellKey: "b",
        metric: "latencyP50",
        baseline: base,
        candidate: base.map((v, i) => v + (i % 2 ? 1 : -1)),
      },
      { cellKey: "b", metric: "latencyP99", baseline: base, candidate: base.map((v) => v * 1.02) },
      { cellKey: "b", metric: "latencyMax", baseline: base, candidate: slower },
    ];
    const comparison = compareCells(inputs);
    assert.equal(comparison.tests, 3);
    const expected = benjaminiHochberg(inputs.slice(0, 3).map((i) => measureMetric(i).p));
    for (const [i, r] of comparison.results.slice(0, 3).entries())
      assert.ok(Math.abs(r.pAdjusted - expected[i]!) < 1e-15);
    // latencyMax is reported, not judged: its own family of one, and outside the counts.
    const max = comparison.results[3]!;
    assert.equal(max.judged, false);
    assert.equal(max.pAdjusted, max.p);
    assert.equal(comparison.counts.regression, 1);
    assert.equal(
      Object.values(comparison.counts).reduce((a, b) => a + b, 0),
      3,
    );
    assert.equal(mannWhitneyU(slower, base).p, comparison.results[0]!.rankP);
  });

  it("lets the matrix choose the judged metrics", () => {
    const input: MetricInput = { cellKey: "c", metric: "latencyMax", baseline: base, candidate: slower };
    assert.equal(compareCells([input]).tests, 0);
    assert.equal(compareCells([input], { thresholds: { judge: { latencyMax: true } } }).tests, 1);
    const p50: MetricInput = { ...input, metric: "latencyP50" };
    assert.equal(compareCells([p50], { thresholds: { judge: { latencyP50: false } } }).counts.regression, 0);
  });

  it("uses per-metric thresholds, and an absolute one for loss", () => {
    const input: MetricInput = { cellKey: "c", metric: "latencyP99", baseline: base, candidate: slower };
    assert.equal(
      compareMetric(input, { thresholds: { metrics: { latencyP99: 0.15 } } }).verdict,
      "unchanged",
    );
    assert.equal(noiseFor("lossRatio", DEFAULT_THRESHOLDS), 0.001);
    const loss = compareMetric({
      cellKey: "c",
      metric: "lossRatio",
      baseline: [0, 0, 0, 0],
      candidate: [0, 0, 0, 0],
    });
    assert.deepEqual([loss.estimate, loss.low, loss.high, loss.p, loss.verdict], [0, 0, 0, 1, "unchanged"]);
  });

  it("is reproducible: the same seed gives the same intervals whatever the order of inputs", () => {
    const a: MetricInput = { cellKey: "a", metric: "latencyP50", baseline: base, candidate: slower };
    const b: MetricInput = { cellKey: "b", metric: "latencyP50", baseline: slower, candidate: base };
    const forward = compareCells([a, b], { seed: 3 }).results;
    const backward = compareCells([b, a], { seed: 3 }).results;
    assert.deepEqual(forward[0], backward[1]);
  });

  it("rejects a side without values and thresholds out of range", () => {
    assert.throws(
      () => compareMetric({ cellKey: "c", metric: "latencyP50", baseline: [], candidate: [1] }),
      /at least one value/,
    );
    assert.throws(() => compareCells([], { thresholds: { alpha: 1.5 } }), /alpha/);
  });

  it("finds a 10 % slowdown in one cell of 20 and no false regression elsewhere, over 50 seeds", (t) => {
    // 20 cells × (p50 latency, messages/s), 10 trials a side, 1–3 % noise; cell 7 is 10 % slower.
    let detected = 0;
    let falseRegressions = 0;
    let falseImprovements = 0;
    const verdicts: Record<string, number> = {};
    const seeds = 50;
    for (let seed = 1; seed <= seeds; seed++) {
      const inputs = syntheticMatrix(mulberry32(seed), { cells: 20, trials: 10, slowCell: 7, slowdown: 0.1 });
      for (const result of compareCells(inputs, { seed }).results) {
        if (result.cellKey === "cell-7") {
          if (result.verdict === "regression") detected++;
          continue;
        }
        verdicts[result.verdict] = (verdicts[result.verdict] ?? 0) + 1;
        if (result.verdict === "regression") falseRegressions++;
        if (result.verdict === "improvement") falseImprovements++;
      }
    }
    t.diagnostic(
      `slow cell: ${detected}/${2 * seeds} regression; other cells: ${falseRegressions} false regressions, ` +
        `${falseImprovements} false improvements of ${38 * seeds} (${JSON.stringify(verdicts)})`,
    );
    assert.equal(falseRegressions, 0);
    // Holm bounds the chance of any false alarm in one comparison by α: ≤ 2.5 of 50 expected.
    assert.ok(falseImprovements <= 3, `${falseImprovements} false improvements`);
    assert.ok(detected >= 2 * seeds - 2, `${detected} of ${2 * seeds} detected`);
  });
});
