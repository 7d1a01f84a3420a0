import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareRunViews } from "../../../src/compare/runs.js";
import { comparisonMarkdown, markdownCell, markdownTable } from "../../../src/report/markdown.js";
import { HOST, makeRun, spread } from "./run-fixture.js";

describe("markdownTable", () => {
  it("escapes pipes and line breaks and right-aligns the number columns", () => {
    assert.equal(markdownCell("a|b\nc"), "a\\|b c");
    assert.equal(
      markdownTable(["cell", "metric", "value"], [["tcp | rr", "p50", "1"]]),
      "| cell | metric | value |\n| --- | --- | ---: |\n| tcp \\| rr | p50 | 1 |",
    );
  });
});

describe("comparisonMarkdown", () => {
  const cells = (factor: number) => [
    { trials: spread(10, 50 * factor) },
    { traffic: { protocol: "udp" as const }, trials: spread(10, 40) },
  ];

  it("headlines the regressions, lists the changed metrics and counts the unchanged cells", () => {
    const text = comparisonMarkdown(compareRunViews(makeRun("base", cells(1)), makeRun("cand", cells(1.1))));
    // Judged: p50, p99 and messages/s; service demand and the rest are reported, not judged.
    assert.match(text, /^### vnetbench comparison: \*\*regression: 3 judged metrics regressed\*\*/);
    assert.match(text, /#### loopback one-way/);
    assert.match(
      text,
      /\| tcp rr 64\/64 \| latency p50 \| [\d.]+ µs \| [\d.]+ µs \| \+10\.0% \| \[\+\d+\.\d%, \+\d+\.\d%\] \| [\d.<]+ \| \*\*regression\*\* \|/,
    );
    assert.match(text, /\| {2}\| messages\/s \| .* \| -9\.\d% \|/);
    assert.match(text, /_1 cell unchanged \(and \d+ unchanged metrics? of the cells above\)_/);
    assert.doesNotMatch(text, /udp rr/);
  });

  it("headlines an undecided comparison as inconclusive, never as no regression", () => {
    const undecided = [{ trials: spread(3, 50) }];
    const text = comparisonMarkdown(
      compareRunViews(makeRun("base", undecided), makeRun("cand", [{ trials: spread(3, 50 * 1.022) }])),
    );
    assert.match(
      text,
      /^### vnetbench comparison: \*\*inconclusive: \d+ judged metrics? could not be decided; about \d+ trials a side would settle them/,
    );
    assert.doesNotMatch(text, /no regression/);
  });

  it("says no regression, and shows a fingerprint mismatch and the warnings", () => {
    const other = makeRun("cand", cells(1), { ...HOST, kernel: "Linux 6.9" });
    const text = comparisonMarkdown(
      compareRunViews(makeRun("base", cells(1)), other, { allowMismatch: true }),
    );
    assert.match(text, /^### vnetbench comparison: no regression/);
    assert.match(text, /fingerprint: DIFFERENT machines: kernel "Linux 6\.1\.0" vs "Linux 6\.9"/);
    assert.match(text, /\*\*Warnings\*\*\n\n- fingerprint differs: kernel/);
    assert.match(
      text,
      /#### What differs between the runs\n\n\| fact \| baseline \| candidate \|\n\| --- \| --- \| --- \|\n\| kernel \| Linux 6\.1\.0 \| Linux 6\.9 \|/,
    );
  });
});
