// A large run's report details only the cells that changed or are inconclusive: plots and trials
// of those, one compact table for the rest, so 1300 cells stay a few MB.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareRunViews } from "../../../src/compare/runs.js";
import { DETAIL_LIMIT, detailCells } from "../../../src/report/detail.js";
import { reportHtml } from "../../../src/report/html.js";
import { makeRun, spread } from "./run-fixture.js";

const generator = { version: "0.0.0-test", at: "2026-01-02T03:04:05.000Z" };

/** `count` rr cells told apart by request size; the cells in `slower` 40 % slower. */
function run(id: string, count: number, slower: readonly number[] = []) {
  return makeRun(
    id,
    Array.from({ length: count }, (_, i) => ({
      traffic: { requestSize: 100 + i },
      trials: spread(6, slower.includes(i) ? 70 : 50),
    })),
  );
}

describe("detailCells", () => {
  it("details every cell of a small run", () => {
    assert.equal(detailCells(run("a", DETAIL_LIMIT)), null);
  });

  it("details the changed or inconclusive cells of a large comparison, worst first, at most DETAIL_LIMIT", () => {
    const base = run("base", 30);
    const cand = run("cand", 30, [7, 22]);
    const comparison = compareRunViews(base, cand);
    const detail = detailCells(cand, comparison)!;
    assert.deepEqual([...detail], [cand.cells[7]!.key, cand.cells[22]!.key]);
    // Among cells of one verdict, the larger change first.
    const mixed = makeRun(
      "mixed",
      Array.from({ length: 30 }, (_, i) => ({
        traffic: { requestSize: 100 + i },
        trials: spread(6, i === 3 ? 55 : i === 9 ? 90 : 50),
      })),
    );
    const ordered = detailCells(mixed, compareRunViews(base, mixed))!;
    assert.deepEqual([...ordered], [mixed.cells[9]!.key, mixed.cells[3]!.key]);
    const many = Array.from({ length: 25 }, (_, i) => i);
    const crowded = detailCells(run("c", 30, many), compareRunViews(base, run("c", 30, many)))!;
    assert.equal(crowded.size, DETAIL_LIMIT);
  });

  it("without a comparison, details cells with failed trials", () => {
    const view = run("a", 30);
    view.cells[3]!.trials[0]!.status = "failed";
    assert.deepEqual([...detailCells(view)!], [view.cells[3]!.key]);
  });
});

describe("the report of a large comparison", () => {
  it("plots and lists trials of the changed cells only, the others in one compact table", async () => {
    const base = run("base", 30);
    const cand = run("cand", 30, [7, 22]);
    const html = await reportHtml({ run: cand, comparison: compareRunViews(base, cand), generator });
    const section = (id: string) =>
      html.slice(
        html.indexOf(`<section id="${id}">`),
        html.indexOf("</section>", html.indexOf(`<section id="${id}">`)),
      );
    // The comparison comes first, then the run.
    assert.ok(html.indexOf('<section id="comparison">') < html.indexOf('<section id="run">'));
    assert.equal(section("trials").match(/<details>/g)?.length, 2);
    assert.match(section("plots"), /tcp rr 107\/64/);
    assert.doesNotMatch(section("plots"), /tcp rr 108\/64/);
    assert.match(section("comparison"), /Every other cell/);
    // 28 unchanged cells, a row each, besides the detailed ones' rows per metric.
    const compact = section("comparison").slice(section("comparison").indexOf("Every other cell"));
    assert.equal(compact.match(/<tr>/g)!.length, 1 + 28);
    // Every cell is still in the matrix and results tables.
    assert.equal(section("results").match(/<tr>/g)!.length, 1 + 30);
  });
});
