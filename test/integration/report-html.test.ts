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
