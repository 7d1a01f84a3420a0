// End to end on a real netns lab at the default trial count: identical runs compared pairwise call
// no regression, and a candidate whose guest link is slowed regresses — the verdict says so and
// the exit code is non-zero, and a candidate run with --baseline stops the slowed cell at its first look.
// The issue asks for `tc netem delay`; this kernel has no sch_netem, so a token-bucket rate limit
// (tbf) on the guest link adds the delay instead: at 2 Mbit/s a 1000-byte message waits ~4 ms.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runBenchmark } from "../../src/api.js";
import { type Lab, labDown, labUp, setLinkOptions } from "../../src/labs/netns-lab.js";
import type { RunView } from "../../src/report/run-view.js";
import { compareRuns } from "../../src/views.js";
import { runCli } from "../helpers/cli.js";
import { storeRunView } from "../helpers/store-run.js";

const LAB = "vnbt7";
const root = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), "vnb-compare-lab-"));
const db = join(dir, "runs.db");
let lab: Lab;

before(async () => {
  if (root) lab = await labUp({ name: LAB, baseSubnet: "10.234.0.0/16", force: true });
});
after(async () => {
  if (root) await labDown(LAB);
  rmSync(dir, { recursive: true, force: true });
});

// The default trial count of a flag run (3 a side): the gate must work where users run it.
const matrix = {
  db,
  lab: LAB,
  setup: "host-to-guest",
  protocol: "tcp",
  pattern: "rr",
  size: "1000",
  duration: "0.4",
  warmup: "0.1",
};

// Each A/A pair is one run's odd trials against its even ones: real trials, exchangeable halves.
// Two runs made one after the other are not an A/A on a shared machine: other work coming and
// going between them moved every metric of a back-to-back pair by 18 % here, a real difference
// the gate rightly calls (it compares what ran, not what was meant to).
test("A/A: ten comparisons of identical trials at default settings call no regression", {
  skip: !root && "needs root",
}, async (t) => {
  const verdicts: Record<string, number> = {};
  for (let i = 1; i <= 10; i++) {
    const run = await runBenchmark({ ...matrix, trials: 6, label: `aa-${i}` });
    const half = (parity: number): RunView => ({
      ...run,
      trialsPerCell: 3,
      cells: run.cells.map((cell) => ({
        ...cell,
        trials: cell.trials
          .filter((trial) => trial.trial % 2 === parity)
          .map((trial, k) => ({ ...trial, trial: k + 1 })),
      })),
    });
    storeRunView(db, half(1), `aa-${i}-a`);
    storeRunView(db, half(0), `aa-${i}-b`);
    const comparison = compareRuns(`aa-${i}-a`, `aa-${i}-b`, { db });
    for (const m of comparison.cells.flatMap((cell) => cell.metrics))
      if (m.judged) verdicts[m.verdict] = (verdicts[m.verdict] ?? 0) + 1;
    const called = comparison.cells.flatMap((cell) => cell.metrics).filter((m) => m.verdict === "regression");
    assert.equal(comparison.regression, false, `A/A ${i}: ${JSON.stringify(called)}`);
  }
  t.diagnostic(`judged verdicts over 10 A/A comparisons: ${JSON.stringify(verdicts)}`);
});

test("a slowed guest link is a latency regression: verdict and exit code say so", {
  skip: !root && "needs root",
}, async () => {
  const baseline = await runBenchmark({ ...matrix, label: "baseline" });
  await setLinkOptions(lab, "g1", { shaping: { rateMbit: 2 } });
  const candidate = await runBenchmark({ ...matrix, label: "candidate" });
  // The candidate that knows its baseline: the slowed cell is settled at its first look.
  const flags = [
    "--lab",
    LAB,
    "--setup",
    "host-to-guest",
    "--protocol",
    "tcp",
    "--pattern",
    "rr",
    "--size",
    "1000",
  ];
  const adaptive = await runCli([
    "run",
    ...flags,
    ...["--duration", "0.4", "--warmup", "0.1", "--db", db, "--baseline", baseline.id, "--json"],
  ]);
  await setLinkOptions(lab, "g1", { shaping: null });
  assert.equal(adaptive.code, 1, `run --baseline exits 1 on a regression\n${adaptive.stderr}`);
  assert.equal(JSON.parse(adaptive.stdout).cells[0].trials.length, 3, "stopped at the first look");
  assert.match(adaptive.stderr, /REGRESSION/);
  assert.match(
    adaptive.stderr,
    /trials spent: 3 over 1 cell\(s\), 50 % of the fixed design's 6[\s\S]*3 trials: host-to-guest/,
  );

  const result = await runCli(["compare", baseline.id, candidate.id, "--db", db, "--json"]);
  assert.equal(result.code, 1, `exit code 1 on a regression\n${result.stderr}`);
  const comparison = JSON.parse(result.stdout);
  assert.equal(comparison.regression, true);
  assert.equal(comparison.cells.length, 1);
  const [cell] = comparison.cells;
  assert.equal(cell.verdict, "regression");
  const metric = (name: string) => cell.metrics.find((m: { metric: string }) => m.metric === name);
  for (const name of ["latencyP50", "messagesPerSecond"]) {
    const m = metric(name);
    assert.equal(m.verdict, "regression", `${name}: ${m.verdict} (change ${m.estimate}, p ${m.pAdjusted})`);
  }
  // A tbf queue makes the tail jump from trial to trial: at 3 trials p99 may stay undecided, never better.
  assert.ok(
    ["regression", "inconclusive"].includes(metric("latencyP99").verdict),
    metric("latencyP99").verdict,
  );
  assert.ok(metric("latencyP50").estimate > 1, "p50 latency more than doubled");

  const text = await runCli(["compare", "--label", "baseline", "candidate", "--db", db]);
  assert.equal(text.code, 1);
  assert.match(text.stdout, /regression/);
});
