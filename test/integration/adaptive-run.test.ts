// `run --baseline` end to end on loopback, through the CLI: a candidate against a baseline in which
// one cell was a hundred times as fast stops that cell at its initial trials as a regression and exits 1; the
// other cells stop or get rounds up to the cap, as the progress says; a baseline with other cells
// is refused before anything runs, one measured on other hardware is warned about; `--trials auto`
// stays within its cap.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { RunView } from "../../src/report/run-view.js";
import { listRuns } from "../../src/views.js";
import { runCli } from "../helpers/cli.js";
import { storeRunView } from "../helpers/store-run.js";

const dir = mkdtempSync(join(tmpdir(), "vnb-adaptive-run-"));
const db = join(dir, "runs.db");
const FLAGS = [
  "--setup",
  "loopback",
  "--protocol",
  "tcp",
  "--pattern",
  "rr",
  // Long enough that a moment of other load (once, in CI, one trial of three) does not set a
  // trial apart from its two siblings, which the first look's three trials a side cannot absorb.
  "--duration",
  "0.6",
  "--warmup",
  "0.1",
];
const CELLS = [...FLAGS, "--size", "64,1400", "--db", db];
let baseline: RunView;

/**
 * How much faster the planted baseline cell is in every judged metric. The first look (α/5 over
 * 8 tests at 3 trials a side, Welch's t on log values) must call it whatever the load: with both
 * CPUs kept busy by other processes, loopback trials spread by 58 % (p50) to 120 % (p99), and the
 * first look left 4× inconclusive and 16× open in 3 runs of 12.
 */
const FACTOR = 100;

function plantedFaster(run: RunView, key: string): RunView {
  const scaled = (value: number | undefined) => (value === undefined ? value : value / FACTOR);
  return {
    ...run,
    cells: run.cells.map((cell) =>
      cell.key !== key
        ? cell
        : {
            ...cell,
            trials: cell.trials.map((trial) => ({
              ...trial,
              samples: trial.samples.map((s) => ({
                ...s,
                messagesPerSecond: s.messagesPerSecond * FACTOR,
                latencyUs: s.latencyUs && {
                  ...s.latencyUs,
                  ...Object.fromEntries(Object.entries(s.latencyUs).map(([k, v]) => [k, v / FACTOR])),
                },
              })),
              serviceDemand: trial.serviceDemand && {
                ...trial.serviceDemand,
                usPerTransaction: scaled(trial.serviceDemand.usPerTransaction),
                withoutGenerator: trial.serviceDemand.withoutGenerator && {
                  ...trial.serviceDemand.withoutGenerator,
                  usPerTransaction: scaled(trial.serviceDemand.withoutGenerator.usPerTransaction),
                },
              },
            })),
          },
    ),
  };
}

before(async () => {
  const result = await runCli(["run", ...CELLS, "--label", "base", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  baseline = JSON.parse(result.stdout);
  const small = baseline.cells.find((cell) => cell.traffic.requestSize === 64)!;
  storeRunView(db, plantedFaster(baseline, small.key), "base-fast");
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("the cell a hundred times as slow as its baseline stops at 3 trials as a regression (exit 1); the rest follow the rule", async () => {
  const result = await runCli(["run", ...CELLS, "--baseline", "base-fast", "--label", "cand", "--json"]);
  assert.equal(result.code, 1, `exit 1 on a regression\n${result.stderr}`);
  const run: RunView = JSON.parse(result.stdout);
  const outcome = (
    run.metadata.adaptive as { outcome: { result: string; trialsPerCell: Record<string, number> } }
  ).outcome;
  assert.equal(outcome.result, "regression");
  assert.match(result.stderr, /adaptive against baseline base-fast: 3 trials a cell.*up to 6/);
  assert.match(result.stderr, /trials spent: \d+ over 2 cell\(s\), \d+ % of the fixed design's 12/);
  const rounds = [...result.stderr.matchAll(/^round \d+: (\d+) of 2 cells open: (.*)$/gm)];
  for (const cell of run.cells) {
    const trials = cell.trials.length;
    assert.equal(trials, outcome.trialsPerCell[cell.key], `${cell.key}: stored trials = the design's`);
    assert.ok(trials >= 3 && trials <= 6, `${cell.key}: ${trials} trials`);
    // A cell given more trials was named open in as many rounds.
    const named = rounds.filter((round) => round[2]!.includes(` ${cell.traffic.requestSize}/`)).length;
    assert.equal(
      named,
      trials - 3,
      `${cell.key}: ${trials} trials, open in ${named} round(s)\n${result.stderr}`,
    );
    if (cell.traffic.requestSize === 64) assert.equal(trials, 3, "settled at the first look");
  }
  const compared = await runCli(["compare", "base-fast", run.id, "--db", db, "--json"]);
  assert.equal(compared.code, 1, compared.stderr);
});

test("a baseline with other cells is refused before anything runs (exit 2), and so is --trials auto alone", async () => {
  const before = listRuns(db).length;
  const other = await runCli(["run", ...FLAGS, "--size", "128", "--db", db, "--baseline", baseline.id]);
  assert.equal(other.code, 2, other.stderr);
  assert.match(
    other.stderr,
    /--baseline .*: its cells differ from this run's.*1 not in the baseline: .*size=128\/128.*2 only in the baseline/,
  );
  const auto = await runCli(["run", ...CELLS, "--trials", "auto"]);
  assert.equal(auto.code, 2, auto.stderr);
  assert.match(auto.stderr, /--trials auto needs --baseline RUN/);
  assert.equal(listRuns(db).length, before, "nothing stored");
});

test("a baseline measured on other hardware is warned about on stderr, and the run goes on", async () => {
  storeRunView(db, baseline, "base-elsewhere", { ...baseline.metadata, cpuModel: "Other CPU 9000" });
  const result = await runCli([
    "run",
    ...CELLS,
    "--baseline",
    "base-elsewhere",
    "--max-trials",
    "3",
    "--json",
  ]);
  assert.ok(result.code === 0 || result.code === 1, result.stderr);
  assert.match(
    result.stderr,
    /^warning: --baseline .* was measured on other hardware \(cpuModel: baseline "Other CPU 9000", candidate ".*"\): the verdict against it measures the machines/m,
  );
  const run: RunView = JSON.parse(result.stdout);
  assert.deepEqual(
    run.cells.map((cell) => cell.trials.length),
    [3, 3],
  );
});

test("--trials auto grows cells against the baseline within --max-trials", async () => {
  const result = await runCli([
    "run",
    ...CELLS,
    "--baseline",
    baseline.id,
    "--trials",
    "auto",
    "--max-trials",
    "4",
    "--json",
  ]);
  assert.ok(result.code === 0 || result.code === 1, result.stderr);
  const run: RunView = JSON.parse(result.stdout);
  const adaptive = run.metadata.adaptive as {
    mode: string;
    outcome: { trialsPerCell: Record<string, number> };
  };
  assert.equal(adaptive.mode, "precision");
  for (const cell of run.cells) {
    assert.ok(cell.trials.length >= 3 && cell.trials.length <= 4, `${cell.key}: ${cell.trials.length}`);
    assert.equal(cell.trials.length, adaptive.outcome.trialsPerCell[cell.key]);
  }
});
