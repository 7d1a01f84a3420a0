import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareRunViews, comparisonExitCode } from "../../../src/compare/runs.js";
import { ExitCode } from "../../../src/errors.js";
import { comparisonJunit } from "../../../src/report/junit.js";
import { makeRun, spread } from "./run-fixture.js";

describe("comparisonJunit", () => {
  it("has a testcase per cell and judged metric, a failure per regression", () => {
    const cells = (factor: number) => [
      { trials: spread(10, 50 * factor) },
      { traffic: { protocol: "udp" as const }, trials: spread(10, 40) },
    ];
    const comparison = compareRunViews(makeRun("base", cells(1)), makeRun("cand", cells(1.1)));
    const xml = comparisonJunit(comparison);
    // Two cells × (p50, p99, messages/s): the fixture has no peak or service demand outside the generator.
    assert.equal((xml.match(/<testcase /g) ?? []).length, 6);
    assert.match(
      xml,
      /<testsuite name="vnetbench compare base cand" tests="6" failures="3" errors="0" skipped="0">/,
    );
    assert.match(
      xml,
      /<testcase classname="loopback one-way" name="tcp rr 64\/64: latency p50">\n\s+<failure type="regression" message="regression: change \+10\.0%, 95% interval \[\+\d+\.\d%, \+\d+\.\d%\]/,
    );
    assert.match(xml, /<testcase classname="loopback one-way" name="udp rr 64\/64: latency p50"\/>/);
    assert.equal(comparisonExitCode(comparison, false), ExitCode.regression);
  });

  it("skips an inconclusive metric with the trials it needs; --strict makes that exit 4", () => {
    const comparison = compareRunViews(
      makeRun("base", [{ trials: spread(3, 50) }]),
      makeRun("cand", [{ trials: spread(3, 50 * 1.022) }]),
    );
    const xml = comparisonJunit(comparison);
    assert.match(
      xml,
      /<skipped message="inconclusive: interval straddles the noise threshold; ~\d+ trials a side would settle it/,
    );
    assert.equal(comparisonExitCode(comparison, false), ExitCode.ok);
    assert.equal(comparisonExitCode(comparison, true), ExitCode.inconclusive);
    const failing = {
      ...comparison,
      thresholds: { ...comparison.thresholds, inconclusive: "fail" as const },
    };
    assert.equal(comparisonExitCode(failing, false), ExitCode.inconclusive);
  });

  it("escapes names for XML", () => {
    const comparison = compareRunViews(
      makeRun("base", [{ trials: spread(3, 50) }]),
      makeRun("cand", [{ trials: spread(3, 50) }]),
    );
    const xml = comparisonJunit({ ...comparison, baseline: { ...comparison.baseline, id: `a<&"'>` } });
    assert.match(xml, /name="vnetbench compare a&lt;&amp;&quot;&apos;&gt; cand"/);
  });
});
