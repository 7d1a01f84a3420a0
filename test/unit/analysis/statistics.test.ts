import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hashSeed, mulberry32 } from "../../../src/analysis/random.js";
import {
  benjaminiHochberg,
  bootstrapChangeInterval,
  changeOf,
  mannWhitneyU,
  median,
  minAttainableP,
  normalIsf,
  normalSf,
  quantile,
  relativeChangeOfMedians,
} from "../../../src/analysis/statistics.js";

function close(actual: number, expected: number, relative = 1e-9): void {
  const tolerance = relative * Math.max(Math.abs(expected), Number.MIN_VALUE);
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${relative} of ${expected}`);
}

/** Standard normal draws by Box–Muller from a seeded uniform source. */
function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

describe("median and quantile", () => {
  it("takes the middle value, or the mean of the two middle values", () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([7]), 7);
  });

  it("interpolates linearly between order statistics (Hyndman & Fan type 7, numpy's default)", () => {
    // numpy.quantile([1, 2, 3, 4], [0, 0.25, 0.9, 1]) = [1, 1.75, 3.7, 4]
    assert.equal(quantile([4, 3, 2, 1], 0), 1);
    assert.equal(quantile([1, 2, 3, 4], 0.25), 1.75);
    close(quantile([1, 2, 3, 4], 0.9), 3.7);
    assert.equal(quantile([1, 2, 3, 4], 1), 4);
  });

  it("sorts numerically, not as strings", () => {
    assert.equal(median([10, 9, 100]), 10);
  });

  it("rejects empty input, NaN and q outside [0, 1]", () => {
    assert.throws(() => median([]), RangeError);
    assert.throws(() => median([1, Number.NaN]), RangeError);
    assert.throws(() => quantile([1], 1.5), RangeError);
  });
});

describe("change of medians", () => {
  it("is relative to the baseline median", () => {
    close(relativeChangeOfMedians([100, 90, 110], [110, 121, 99]), 0.1);
    close(relativeChangeOfMedians([200, 200], [150, 150]), -0.25);
  });

  it("handles a zero baseline: 0 when both are zero, ±Infinity otherwise", () => {
    assert.equal(changeOf("relative", 0, 0), 0);
    assert.equal(changeOf("relative", 0, 0.01), Number.POSITIVE_INFINITY);
    assert.equal(changeOf("absolute", 0, 0.01), 0.01);
  });
});

describe("normal distribution", () => {
  it("matches scipy.stats.norm.sf (SciPy 1.17) to 1e-12 relative, tails included", () => {
    const reference: Array<[number, number]> = [
      [-3, 0.9986501019683699],
      [-1, 0.8413447460685429],
      [0, 0.5],
      [0.5, 0.3085375387259869],
      [1.96, 0.024997895148220435],
      [2.99, 0.0013948872354922468],
      [3, 0.0013498980316300933],
      [3.01, 0.0013062384487694675],
      [4, 3.167124183311986e-5],
      [8, 6.22096057427174e-16],
      [20, 2.7536241186061556e-89],
    ];
    for (const [z, sf] of reference) close(normalSf(z), sf, 1e-12);
  });

  it("inverts the survival function", () => {
    close(normalIsf(0.025), 1.959963984540054, 1e-9);
    assert.ok(Math.abs(normalIsf(0.5)) < 1e-9);
  });
});

describe("Mann–Whitney U", () => {
  it("gives U = 0 and p = 2/C(8,4) when every x is below every y (worked by hand)", () => {
    // All 70 arrangements are equally likely; only one has U = 0 and one U = 16: p = 2/70.
    // scipy.stats.mannwhitneyu([1,2,3,4], [5,6,7,8], method="exact") → (0.0, 0.02857142857142857)
    const result = mannWhitneyU([1, 2, 3, 4], [5, 6, 7, 8]);
    assert.deepEqual(result, { u: 0, p: 2 / 70, method: "exact" });
  });

  it("counts the exact tail for unequal sizes (worked by hand)", () => {
    // x's ranks among the 10 values are 1, 4, 7: R₁ = 12, U₁ = 12 − 6 = 6, U₂ = 21 − 6 = 15.
    // P(U ≤ 6) = partitions of 0…6 into ≤ 3 parts ≤ 7: 1+1+2+3+4+5+7 = 23 of C(10,3) = 120,
    // so p = 2·23/120. scipy.stats.mannwhitneyu(x, y, method="exact") → (6.0, 0.3833333333333333)
    const result = mannWhitneyU([0.5, 2.5, 4.5], [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(result.u, 6);
    close(result.p, 46 / 120, 1e-12);
  });

  it("matches scipy's exact p for 10 vs 10 trials", () => {
    // scipy.stats.mannwhitneyu(x, y, alternative="two-sided", method="exact"), SciPy 1.17.1
    const separated = mannWhitneyU(
      [10.1, 10.5, 9.8, 10.2, 10.0, 10.3, 9.9, 10.4, 10.6, 10.05],
      [10.7, 11.1, 10.9, 10.55, 11.3, 10.8, 11.0, 10.65, 11.2, 10.95],
    );
    assert.equal(separated.u, 1);
    assert.equal(separated.method, "exact");
    close(separated.p, 2.165017644893806e-5, 1e-10);
    const overlapping = mannWhitneyU(
      [1.02, 0.98, 1.05, 1.01, 0.99, 1.03, 0.97, 1.04, 1.0, 1.06],
      [1.035, 1.045, 1.015, 1.075, 0.995, 1.055, 1.065, 1.025, 1.085, 0.985],
    );
    assert.equal(overlapping.u, 30);
    close(overlapping.p, 0.143140141592154, 1e-10);
  });

  it("has the exact distribution of a brute-force enumeration (4 vs 5: all 126 arrangements)", () => {
    const counts = new Array<number>(21).fill(0);
    for (let mask = 0; mask < 1 << 9; mask++) {
      let ones = 0;
      for (let b = 0; b < 9; b++) ones += (mask >> b) & 1;
      if (ones !== 4) continue;
      // Values 0…8; bits set are x. U = pairs with x > y.
      let u = 0;
      for (let i = 0; i < 9; i++)
        for (let j = 0; j < 9; j++) if ((mask >> i) & 1 && !((mask >> j) & 1) && i > j) u++;
      counts[u]!++;
    }
    // For each U₁, p = 2·P(U ≥ max(U₁, U₂)) from the enumeration vs the function's result.
    for (let mask = 0; mask < 1 << 9; mask++) {
      const x: number[] = [];
      const y: number[] = [];
      for (let b = 0; b < 9; b++) ((mask >> b) & 1 ? x : y).push(b);
      if (x.length !== 4) continue;
      const result = mannWhitneyU(x, y);
      const uMax = Math.max(result.u, 20 - result.u);
      const tail = counts.slice(uMax).reduce((a, b) => a + b, 0);
      close(result.p, Math.min(1, (2 * tail) / 126), 1e-12);
    }
  });

  it("uses the tie-corrected normal approximation with ties (worked by hand)", () => {
    // Midranks: 1 | 2,2,2 → 3 | 3,3 → 5.5 | 4,4 → 7.5; x's ranks 1+3+3+5.5 = 12.5, U₁ = 2.5.
    // Σ(t³−t) = 24+6+6 = 36; σ² = 16/12·(9 − 36/56) = 11.142857; z = (13.5 − 8 − 0.5)/σ = 1.49786.
    // scipy.stats.mannwhitneyu([1,2,2,3], [2,3,4,4]) (auto → asymptotic) → (2.5, 0.13416918012812584)
    const result = mannWhitneyU([1, 2, 2, 3], [2, 3, 4, 4]);
    assert.equal(result.method, "asymptotic");
    assert.equal(result.u, 2.5);
    close(result.p, 0.13416918012812584, 1e-12);
    // scipy.stats.mannwhitneyu(x, y, method="asymptotic") → (64.5, 0.2201027153700983)
    const larger = mannWhitneyU(
      [3, 5, 5, 6, 7, 7, 7, 8, 9, 10, 10, 12],
      [4, 5, 6, 6, 7, 8, 8, 9, 9, 10, 11, 12, 12, 13, 14],
    );
    assert.equal(larger.u, 64.5);
    close(larger.p, 0.2201027153700983, 1e-12);
  });

  it("gives p = 1 when every value is equal, like SciPy", () => {
    assert.deepEqual(mannWhitneyU([5, 5, 5], [5, 5, 5]), { u: 4.5, p: 1, method: "asymptotic" });
  });

  it("goes asymptotic above 50 values a side", () => {
    const x = Array.from({ length: 60 }, (_, i) => i + 0.25);
    const y = Array.from({ length: 55 }, (_, i) => i * 1.1);
    const result = mannWhitneyU(x, y);
    // scipy.stats.mannwhitneyu(x, y, method="asymptotic") → (1653.0, 0.9888321249233866)
    assert.equal(result.method, "asymptotic");
    assert.equal(result.u, 1653);
    close(result.p, 0.9888321249233866, 1e-12);
  });

  it("refuses the exact method when there are ties", () => {
    assert.throws(() => mannWhitneyU([1, 2], [2, 3], { method: "exact" }), RangeError);
  });

  it("knows the smallest p reachable: below 4 trials a side p < 0.05 never happens", () => {
    assert.equal(minAttainableP(3, 3), 0.1);
    close(minAttainableP(4, 4), 2 / 70, 1e-12);
    close(minAttainableP(10, 10), 2 / 184756, 1e-12);
    close(minAttainableP(3, 10), 2 / 286, 1e-12);
  });
});

describe("Benjamini–Hochberg", () => {
  it("adjusts from the largest p down and returns the original order (worked by hand)", () => {
    // Sorted 0.005, 0.01, 0.03, 0.04 (m = 4): m·p/rank = 0.02, 0.02, 0.04, 0.04; running minimum
    // from the top gives the same. scipy.stats.false_discovery_control agrees: [0.02 0.04 0.04 0.02].
    const adjusted = benjaminiHochberg([0.01, 0.04, 0.03, 0.005]);
    for (const [i, expected] of [0.02, 0.04, 0.04, 0.02].entries()) close(adjusted[i]!, expected, 1e-12);
  });

  it("matches R's p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05), 'BH'): all 0.05", () => {
    const adjusted = benjaminiHochberg([0.05, 0.04, 0.03, 0.02, 0.01]);
    for (const value of adjusted) close(value, 0.05, 1e-12);
  });

  it("rejects far more than a family-wise bound once several changes are real", () => {
    // 0.001·4/1 = 0.004 and 0.5·4/3 = 0.667 (scipy: [0.667 0.667 0.9 0.004]).
    const adjusted = benjaminiHochberg([0.5, 0.5, 0.9, 0.001]);
    for (const [i, expected] of [2 / 3, 2 / 3, 0.9, 0.004].entries()) close(adjusted[i]!, expected, 1e-12);
    // Ten p of 0.004 among 100: BH keeps every one at 0.04; Bonferroni/Holm would need p < 0.0005.
    const many = [...Array(10).fill(0.004), ...Array(90).fill(0.9)];
    assert.ok(
      benjaminiHochberg(many)
        .slice(0, 10)
        .every((q) => Math.abs(q - 0.04) < 1e-12),
    );
  });

  it("counts members left out as p = 1: the same as giving them", () => {
    const withOnes = benjaminiHochberg([0.001, 0.01, 1, 1, 1]);
    assert.deepEqual(benjaminiHochberg([0.001, 0.01], 5), withOnes.slice(0, 2));
    assert.throws(() => benjaminiHochberg([0.1, 0.2], 1), /family/);
  });

  it("keeps tied p-values equal, caps at 1 and accepts an empty family", () => {
    assert.deepEqual(benjaminiHochberg([0.01, 0.01]), [0.01, 0.01]);
    assert.deepEqual(benjaminiHochberg([1, 1]), [1, 1]);
    assert.deepEqual(benjaminiHochberg([]), []);
    assert.throws(() => benjaminiHochberg([Number.NaN]), RangeError);
  });
});

/** The percentile interval from drawn resamples: n draws with replacement a side, medians, quantiles. */
function drawnInterval(base: number[], cand: number[], resamples: number, random: () => number) {
  const resample = (values: number[]) =>
    median(values.map(() => values[Math.floor(random() * values.length)]!));
  const changes = Array.from({ length: resamples }, () => resample(cand) / resample(base) - 1);
  return { low: quantile(changes, 0.025), high: quantile(changes, 0.975) };
}

describe("bootstrap interval of the change of medians", () => {
  it("is reproducible for a seed and contains the point estimate", () => {
    const base = [100, 102, 98, 101, 99, 103, 97, 100.5, 99.5, 101.5];
    const cand = base.map((v) => v * 1.1);
    const a = bootstrapChangeInterval(base, cand, { seed: 7 });
    assert.deepEqual(bootstrapChangeInterval(base, cand, { seed: 7 }), a);
    assert.ok(a.low < 0.1 && 0.1 < a.high, `${a.low}…${a.high}`);
    // Beyond 100 values a side resamples are drawn, and the seed picks them.
    const many = Array.from({ length: 101 }, (_, i) => 100 + ((i * 37) % 11));
    const drawn = bootstrapChangeInterval(
      many,
      many.map((v) => v * 1.1),
      { seed: 7, resamples: 200 },
    );
    assert.notDeepEqual(
      bootstrapChangeInterval(
        many,
        many.map((v) => v * 1.1),
        { seed: 8, resamples: 200 },
      ),
      drawn,
    );
  });

  it("up to 100 values a side is the interval infinitely many resamples converge to", () => {
    // The exact interval against 100 000 drawn resamples (the counting method), odd and even
    // sizes, ties included: the drawn quantiles land on the same support points.
    for (const n of [3, 8, 9, 10]) {
      const random = mulberry32(hashSeed(`exact ${n}`));
      const base = Array.from({ length: n }, () => Math.round(1000 * (1 + 0.05 * gaussian(random))) / 10);
      const cand = Array.from({ length: n + 1 }, () => Math.round(1050 * (1 + 0.05 * gaussian(random))) / 10);
      const exact = bootstrapChangeInterval(base, cand, { seed: 3, resamples: 10 });
      const many = drawnInterval(base, cand, 100_000, random);
      const width = many.high - many.low;
      assert.ok(Math.abs(exact.low - many.low) <= 0.02 * width, `n ${n}: low ${exact.low} vs ${many.low}`);
      assert.ok(
        Math.abs(exact.high - many.high) <= 0.02 * width,
        `n ${n}: high ${exact.high} vs ${many.high}`,
      );
    }
  });

  it("does not depend on the intervals computed before it (their buffers are reused)", () => {
    const small = { base: [10, 12, 11], cand: [13, 12, 14, 12] };
    const alone = bootstrapChangeInterval(small.base, small.cand);
    const large = Array.from({ length: 40 }, (_, i) => 100 + ((i * 7) % 13));
    bootstrapChangeInterval(
      large,
      large.map((v) => v * 0.5),
    );
    assert.deepEqual(bootstrapChangeInterval(small.base, small.cand), alone);
  });

  it("collapses to the change when there is no spread", () => {
    assert.deepEqual(bootstrapChangeInterval([10, 10, 10], [11, 11, 11]), { low: 0.1, high: 0.1 });
  });

  it("covers the true change about 95 % of the time on synthetic data", (t) => {
    // 400 repetitions of 10 vs 10 trials with 2 % Gaussian noise and a true +10 % change of
    // the medians; binomial standard error of the coverage ≈ 1.1 %.
    const random = mulberry32(hashSeed("coverage"));
    const repetitions = 400;
    let covered = 0;
    for (let k = 0; k < repetitions; k++) {
      const base = Array.from({ length: 10 }, () => 100 * (1 + 0.02 * gaussian(random)));
      const cand = Array.from({ length: 10 }, () => 110 * (1 + 0.02 * gaussian(random)));
      const { low, high } = bootstrapChangeInterval(base, cand, { seed: k + 1, resamples: 1000 });
      if (low <= 0.1 && 0.1 <= high) covered++;
    }
    const coverage = covered / repetitions;
    t.diagnostic(`coverage ${(coverage * 100).toFixed(1)} % of ${repetitions}`);
    assert.ok(coverage >= 0.92 && coverage <= 0.99, `coverage ${coverage}`);
  });
});
