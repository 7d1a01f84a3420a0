// `vnetbench report --vs` on two real loopback runs, opened in headless Debian chromium: the plots
// render as non-empty SVG, nothing is fetched, nothing errs; a screenshot is kept for a human.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ExitCode } from "../../src/errors.js";
import type { RunView } from "../../src/report/run-view.js";
import { chromiumMissing, inspectPage } from "../helpers/chromium.js";

const CLI = fileURLToPath(new URL("../../dist/src/cli/main.js", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "vnb-report-"));
// Kept after the test so the screenshot can be looked at; one place, replaced by each run.
const shots = join(tmpdir(), "vnetbench-report-screenshots");
rmSync(shots, { recursive: true, force: true });
mkdirSync(shots);
const db = join(work, "runs.db");
after(() => rmSync(work, { recursive: true, force: true }));

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args, "--db", db], {
    encoding: "utf8",
    timeout: 120_000,
  });
  assert.equal(result.status, ExitCode.ok, `vnetbench ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** rr at full speed and paced at two rates (a latency–load curve), four short trials each. */
function realRun(label: string): RunView {
  const traffic = ["--protocol", "tcp", "--pattern", "rr,paced", "--rate", "1000,4000"];
  const timing = ["--duration", "0.5", "--warmup", "0.1", "--trials", "4"];
  return JSON.parse(cli("run", ...traffic, ...timing, "--label", label, "--json")) as RunView;
}

const missing = chromiumMissing();

test("report --vs opens in chromium with every plot drawn and no errors", {
  skip: missing ?? false,
}, async (t) => {
  const base = realRun("base");
  const cand = realRun("cand");
  const file = join(work, "report.html");
  spawnSync(process.execPath, [CLI, "report", cand.id, "--vs", base.id, "-o", file, "--db", db], {
    timeout: 120_000,
  });
  assert.ok(statSync(file).size > 10_000, "report written");

  const screenshot = join(shots, "report.png");
  const page = await inspectPage(file, { screenshot, width: 1400 });
  t.diagnostic(`screenshot: ${screenshot} (tiles: ${page.tiles.join(", ")})`);

  assert.deepEqual(page.errors, [], "console errors");
  assert.deepEqual(page.resources, [], "the page fetched nothing");
  assert.match(page.title, new RegExp(`vnetbench report: cand ${cand.id}`));
  // Deltas, percentiles, CDF, latency–load; CPU plots too when the run measured host CPU.
  assert.ok(page.plots.length >= 4, `${page.plots.length} plots`);
  for (const [i, plot] of page.plots.entries()) {
    assert.ok(plot.width > 300 && plot.height > 80, `plot ${i + 1} is ${plot.width}×${plot.height}`);
    assert.ok(plot.marks > 20, `plot ${i + 1} draws ${plot.marks} elements`);
  }
  assert.ok(statSync(screenshot).size > 50_000, "screenshot has content");
  readerChecks(page);
  assert.equal(page.sections[0]?.id, "comparison", "the verdict comes first");
  for (const title of ["Latency percentiles", "Latency CDF"]) {
    const plot = page.plots.find((p) => p.title.startsWith(title));
    assert.ok(plot, `${title} plot (${page.plots.map((p) => p.title).join(", ")})`);
    assert.ok(plot.texts.includes("baseline") && plot.texts.includes("candidate"), `${title}: both runs`);
  }
  // Inside each detailed cell's median trial: rate, p50/p99 and host CPU per interval.
  // A faceted plot: its first text is a row's header, so it is found by its title anywhere.
  const series = page.plots.find((p) => p.texts.some((text) => text.startsWith("Inside one trial")));
  assert.ok(series, `a time-series plot (${page.plots.map((p) => p.title).join(", ")})`);
  for (const line of ["msg/s", "p99 µs", "host"]) assert.ok(series.texts.includes(line), `series: ${line}`);
});

/** What a reviewer reads first is the verdict (or the results), above the fold; no JSON text. */
function readerChecks(page: Awaited<ReturnType<typeof inspectPage>>): void {
  assert.ok((page.sections[0]?.top ?? Infinity) < 1000, `first section at ${page.sections[0]?.top} px`);
  for (const text of page.preformatted) assert.doesNotMatch(text.trim(), /^[{[]/, "a JSON text block");
  assert.ok(
    page.sections.findIndex((s) => s.id === "run") > page.sections.findIndex((s) => s.id === "results"),
  );
}

test("a single run and a peak run: results first, and the peak run has its latency–load curve", {
  skip: missing ?? false,
}, async (t) => {
  const single = join(work, "single.html");
  cli("report", "latest", "-o", single);
  const one = await inspectPage(single, { screenshot: join(shots, "single.png"), width: 1400 });
  assert.deepEqual(one.errors, []);
  readerChecks(one);
  assert.equal(one.sections[0]?.id, "results");

  const flags = ["--protocol", "udp", "--size", "64", "--precision", "50%", "--retries", "0"];
  const peak = JSON.parse(
    cli("peak", ...flags, "--duration", "0.3", "--warmup", "0.1", "--label", "peak", "--json"),
  ) as RunView;
  const file = join(work, "peak.html");
  cli("report", peak.id, "-o", file);
  const screenshot = join(shots, "peak.png");
  const page = await inspectPage(file, { screenshot, width: 1400 });
  t.diagnostic(`screenshot: ${screenshot}`);
  assert.deepEqual(page.errors, []);
  readerChecks(page);
  const curve = page.plots.find((p) => p.title === "Latency against offered load");
  assert.ok(curve, `a latency–load plot (${page.plots.map((p) => p.title).join(", ")})`);
  const search = peak.cells[0]?.summary.peak;
  assert.ok(search, "the run holds its search");
  // p50 and p99 of every trial of the search; the peak labelled when the search found one.
  const measured = search.curve.filter((point) => point.latencyUs !== null).length;
  assert.equal(curve.points, 2 * measured, `${curve.points} points for ${measured} trials`);
  assert.equal(curve.texts.includes("peak"), search.messagesPerSecond !== null);
});

test("the page inspection does catch console errors and fetches", { skip: missing ?? false }, async () => {
  const file = join(work, "broken.html");
  // A refused local port: the load fails without leaving the machine.
  writeFileSync(
    file,
    '<!DOCTYPE html><title>broken</title><script>console.error("boom")</script><img src="http://127.0.0.1:9/x.png">',
  );
  const page = await inspectPage(file, { screenshot: join(work, "broken.png") });
  assert.ok(
    page.errors.some((e) => e.includes("boom")),
    page.errors.join("\n"),
  );
  assert.ok(
    page.errors.some((e) => e.includes("127.0.0.1:9")),
    page.errors.join("\n"),
  );
  assert.deepEqual(page.resources, ["http://127.0.0.1:9/x.png"]);
  assert.deepEqual(page.plots, []);
});
