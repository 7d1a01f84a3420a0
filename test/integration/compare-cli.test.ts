// `vnetbench compare` and `export` through the built CLI, on real loopback runs (and on stored
// synthetic ones where a verdict must be forced): exit codes, JSON shape, Markdown, CSV.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { RunComparison } from "../../src/compare/runs.js";
import { ExitCode } from "../../src/errors.js";
import { CSV_HEADER } from "../../src/report/export.js";
import type { RunView } from "../../src/report/run-view.js";
import { storeRunView } from "../helpers/store-run.js";
import { makeRun, spread } from "../unit/report/run-fixture.js";

const CLI = fileURLToPath(new URL("../../dist/src/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "vnb-compare-"));
const db = join(dir, "runs.db");
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args, "--db", db], {
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A short real run on loopback: one tcp rr cell, four trials. */
function realRun(label: string): RunView {
  const args = [
    "run",
    "--protocol",
    "tcp",
    "--pattern",
    "rr",
    "--duration",
    "0.5",
    "--warmup",
    "0.1",
    "--trials",
    "4",
  ];
  const result = cli(...args, "--label", label, "--json");
  assert.equal(result.code, 0, result.stderr);
  // The run's header states the design's power before the first trial.
  assert.match(result.stderr, /^power: 4 trials a side, \d+ judged tests, α 0\.05 .*latency p50 [\d.]+%/m);
  return JSON.parse(result.stdout) as RunView;
}

function store(view: RunView, id: string, metadata = view.metadata): void {
  storeRunView(db, view, id, metadata);
}

let base: RunView;
let cand: RunView;
before(() => {
  base = realRun("base");
  cand = realRun("cand");
});

// Two runs on a shared machine drift by more than the 2 % default noise (other work comes and goes
// between them), which Welch's t can rightly call: these tests check the outputs' shape with a
// noise threshold no drift reaches. False regressions are measured on the lab, under the lock.
test("real runs compare: exit 0, JSON with every metric of the cell", () => {
  const result = cli("compare", base.id, cand.id.slice(0, 17), "--json", "--noise", "50%");
  assert.equal(result.code, ExitCode.ok, result.stderr);
  const comparison = JSON.parse(result.stdout) as RunComparison;
  assert.equal(comparison.baseline.id, base.id);
  assert.equal(comparison.candidate.id, cand.id);
  assert.equal(comparison.fingerprint.matches, true);
  assert.equal(comparison.regression, false);
  assert.equal(comparison.cells.length, 1);
  const cell = comparison.cells[0]!;
  assert.equal(cell.name, "tcp rr 64/64");
  assert.equal(cell.group, "loopback one-way");
  const metrics = cell.metrics.map((m) => m.metric);
  for (const metric of [
    "latencyP50",
    "latencyP99",
    "latencyMax",
    "messagesPerSecond",
    "throughputMbps",
    "lossRatio",
  ])
    assert.ok(metrics.includes(metric as never), `${metric} in ${metrics}`);
  for (const m of cell.metrics) {
    assert.equal(m.baseline.n, 4);
    assert.ok(m.low <= m.high, `${m.metric}: ${m.low} ≤ ${m.high}`);
    assert.ok(["welch-log", "welch"].includes(m.test), m.test);
    assert.ok(["regression", "improvement", "unchanged", "inconclusive"].includes(m.verdict));
  }
  assert.equal(
    Object.values(comparison.counts).reduce((a, b) => a + b, 0),
    comparison.tests,
  );
  assert.equal(comparison.tests, cell.metrics.filter((m) => m.judged).length);
  assert.ok(comparison.tests >= 3, "p50, p99 and messages/s are judged");
});

test("labels name runs; the table and Markdown outputs", () => {
  const table = cli("compare", "--label", "base", "cand", "--noise", "50%");
  assert.equal(table.code, ExitCode.ok, table.stderr);
  assert.match(table.stdout, /^baseline {3}\S+ \(label base/);
  assert.match(table.stdout, /noise ±50%/);
  assert.match(table.stdout, /== loopback one-way/);
  assert.match(table.stdout, /RESULT: (no regression|inconclusive)/);
  const markdown = cli("compare", "--label", "base", "cand", "--markdown", "--noise", "50%");
  assert.equal(markdown.code, ExitCode.ok, markdown.stderr);
  assert.match(markdown.stdout, /^### vnetbench comparison: (no regression|\*\*inconclusive)/);
  assert.match(markdown.stdout, /#### loopback one-way/);
});

test("bad input exits 2 and says what was wrong", () => {
  const unknown = cli("compare", "nosuchrun", cand.id);
  assert.equal(unknown.code, ExitCode.badInput);
  assert.match(unknown.stderr, /run 'nosuchrun' not found/);
  const noise = cli("compare", base.id, cand.id, "--noise", "lots");
  assert.equal(noise.code, ExitCode.badInput);
  assert.match(noise.stderr, /--noise: 'lots' is not a ratio/);
  const one = cli("compare", base.id);
  assert.equal(one.code, ExitCode.badInput);
  assert.match(one.stderr, /expected two runs/);
});

test("a run from another machine is refused, then compared with --allow-mismatch and the mismatch shown", () => {
  store(cand, "other-kernel", { ...cand.metadata, kernel: "Linux 9.9.9-test" });
  const refused = cli("compare", base.id, "other-kernel");
  assert.equal(refused.code, ExitCode.badInput);
  assert.match(
    refused.stderr,
    /different machines \(kernel: baseline ".+", candidate "Linux 9\.9\.9-test"\).*--allow-mismatch/,
  );
  // The noise threshold no drift between two loaded runs reaches (as above): this is about the facts.
  const allowed = cli("compare", base.id, "other-kernel", "--allow-mismatch", "--json", "--noise", "50%");
  assert.equal(allowed.code, ExitCode.ok, allowed.stderr);
  const comparison = JSON.parse(allowed.stdout) as RunComparison;
  assert.equal(comparison.fingerprint.matches, false);
  assert.deepEqual(
    comparison.fingerprint.differences.map((d) => d.field),
    ["kernel"],
  );
  assert.match(allowed.stderr, /warning: fingerprint differs: kernel/);
});

test("a regression exits 1", () => {
  const metadata = base.metadata;
  store(makeRun("synthetic-base", [{ trials: spread(10, 50) }], metadata), "synthetic-base");
  store(makeRun("synthetic-cand", [{ trials: spread(10, 56) }], metadata), "synthetic-cand");
  const result = cli("compare", "synthetic-base", "synthetic-cand");
  assert.equal(result.code, ExitCode.regression, result.stderr);
  assert.match(result.stdout, /tcp rr 64\/64\s+latency p50 .* \+12\.0% .* regression/);
  assert.match(result.stdout, /RESULT: regression/);
});

test("an undecided comparison is inconclusive: exit 0, or 4 under --strict; --junit skips it", () => {
  const metadata = base.metadata;
  store(makeRun("undecided-base", [{ trials: spread(3, 50) }], metadata), "undecided-base");
  store(makeRun("undecided-cand", [{ trials: spread(3, 50 * 1.022) }], metadata), "undecided-cand");
  const junit = join(dir, "junit.xml");
  const result = cli("compare", "undecided-base", "undecided-cand", "--junit", junit);
  assert.equal(result.code, ExitCode.ok, result.stderr);
  assert.match(
    result.stdout,
    /RESULT: inconclusive: \d+ judged metrics? could not be decided; about \d+ trials a side/,
  );
  assert.match(readFileSync(junit, "utf8"), /<skipped message="inconclusive: /);
  const strict = cli("compare", "undecided-base", "undecided-cand", "--strict");
  assert.equal(strict.code, ExitCode.inconclusive, strict.stderr);
  const regression = cli("compare", "synthetic-base", "synthetic-cand", "--strict", "--junit", junit);
  assert.equal(regression.code, ExitCode.regression, regression.stderr);
  assert.match(readFileSync(junit, "utf8"), /<failure type="regression"/);
});

test("export: CSV a row per trial, JSON the run view", () => {
  const csv = cli("export", base.id, "--format", "csv");
  assert.equal(csv.code, ExitCode.ok, csv.stderr);
  const lines = csv.stdout.trimEnd().split("\r\n");
  assert.equal(lines[0], ["run_id", ...CSV_HEADER.slice(1)].join(","));
  assert.equal(lines.length, 1 + 4);
  assert.ok(lines.slice(1).every((line) => line.startsWith(`${base.id},`)));
  const file = join(dir, "run.json");
  const json = cli("export", base.id, "--format", "json", "-o", file);
  assert.equal(json.code, ExitCode.ok, json.stderr);
  assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), JSON.parse(cli("show", base.id, "--json").stdout));
  const bad = cli("export", base.id, "--format", "xml");
  assert.equal(bad.code, ExitCode.badInput);
});
