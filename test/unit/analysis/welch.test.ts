import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  incompleteBeta,
  logGamma,
  studentTIsf,
  studentTSf,
  type WelchResult,
  welchT,
} from "../../../src/analysis/welch.js";

function close(actual: number, expected: number, relative = 1e-9): void {
  const tolerance = relative * Math.max(Math.abs(expected), Number.MIN_VALUE);
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${relative} of ${expected}`);
}

// Reference values from SciPy 1.17 (scipy.special.gammaln, betainc; scipy.stats.t; ttest_ind).
describe("Student t distribution", () => {
  it("ln Γ matches gammaln, Γ(½) = √π included", () => {
    close(logGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-13);
    assert.ok(Math.abs(logGamma(1)) < 1e-14);
    close(logGamma(2.5), 0.284682870472919, 1e-12);
    close(logGamma(10), Math.log(362880), 1e-13);
    close(logGamma(100.3), 360.514706, 1e-8);
  });

  it("the regularized incomplete beta matches betainc", () => {
    close(incompleteBeta(0.3, 2.5, 0.5), 0.018927124071945658, 1e-10);
    close(incompleteBeta(0.99, 10, 0.5), 0.6579281751567845, 1e-10);
    assert.equal(incompleteBeta(0, 2, 3), 0);
    assert.equal(incompleteBeta(1, 2, 3), 1);
  });

  it("tail probabilities match scipy.stats.t.sf, fractional df and far tails included", () => {
    close(studentTSf(0.5, 3), 0.325723982, 1e-8);
    close(studentTSf(2, 4.5), 0.0541289536, 1e-8);
    close(studentTSf(10, 2), 0.00492622851, 1e-8);
    close(studentTSf(40, 4), 1.16700816e-6, 1e-8);
    // t with 1 df is Cauchy: P(T > 1) = ¼ exactly.
    close(studentTSf(1, 1), 0.25, 1e-12);
    close(studentTSf(-1, 1), 0.75, 1e-12);
    close(studentTSf(1.959963984540054, Number.POSITIVE_INFINITY), 0.025, 1e-10);
  });

  it("quantiles match scipy.stats.t.isf", () => {
    close(studentTIsf(0.025, 4), 2.77644511, 1e-8);
    close(studentTIsf(0.00125, 18), 3.51010413, 1e-8);
    close(studentTIsf(0.2, 18), 0.86204867, 1e-8);
    close(studentTIsf(0.975, 4), -2.77644511, 1e-8);
  });
});

/** Compares a result with SciPy's figures, each to a relative tolerance. */
function matches(result: WelchResult, expected: Partial<Record<keyof WelchResult, number>>): void {
  for (const [key, value] of Object.entries(expected)) close(result[key as keyof WelchResult], value!, 1e-6);
}

describe("Welch's t-test", () => {
  it("matches scipy.stats.ttest_ind(y, x, equal_var=False) and its interval", () => {
    // Worked by hand: means 100 and 110.1, variances 2.5 and 2.3, se = √(0.5 + 0.46) = 0.9798,
    // t = 10.1/0.9798 = 10.308, df = 0.9216/(0.0625 + 0.0529) = 7.986.
    matches(welchT([100, 102, 98, 101, 99], [110, 111, 108, 112, 109.5]), {
      difference: 10.1,
      t: 10.308269334212536,
      df: 7.986135181975738,
      p: 6.850326372082873e-6,
      low: 7.839903647563673,
      high: 12.360096352436315,
    });
  });

  it("calls a 2× change from 3 trials a side on the log scale, where a rank test's p cannot go below 0.1", () => {
    matches(welchT([100, 103, 97].map(Math.log), [200, 206, 195].map(Math.log)), {
      t: 29.584472907244486,
      df: 3.9690054218850066,
      p: 8.350126240464391e-6,
      low: 0.6294483039531179,
      high: 0.7602736568337168,
    });
  });

  it("treats identical trials as certain unless a least variance is given", () => {
    assert.equal(welchT([5, 5], [5, 5]).p, 1);
    assert.equal(welchT([5, 5], [6, 6]).p, 0);
    const floored = welchT([5, 5], [5.001, 5.001], { minVariance: 1e-6 / 12 });
    assert.ok(floored.p > 0.01, `${floored.p}`);
  });

  it("adds an extra variance component to se² and, with its own degrees of freedom, to the Satterthwaite sum", () => {
    // Same samples as the scipy case: s²/n = 0.5 and 0.46; plus 0.04 with 10 df: se² = 1.0,
    // df = 1/(0.0625 + 0.0529 + 0.04²/10) = 8.6535.
    const r = welchT([100, 102, 98, 101, 99], [110, 111, 108, 112, 109.5], {
      extraVariance: { variance: 0.04, df: 10 },
    });
    assert.ok(Math.abs(r.se - 1) < 1e-12, `${r.se}`);
    assert.ok(Math.abs(r.t - 10.1) < 1e-12, `${r.t}`);
    assert.ok(Math.abs(r.df - 1 / (0.0625 + 0.0529 + 0.0016 / 10)) < 1e-9, `${r.df}`);
  });

  it("needs two finite values a side", () => {
    assert.throws(() => welchT([1], [1, 2]), /at least 2 values/);
    assert.throws(() => welchT([1, Number.NaN], [1, 2]), /finite/);
  });
});
