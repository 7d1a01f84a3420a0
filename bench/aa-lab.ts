// The gate on a real netns lab at default settings: A/A pairs (a baseline run, then a candidate of
// the same cells with `run --baseline`, nothing changed between them) must raise no regression; a
// candidate whose guest link is slowed by tbf, in the same session, is the reference the gate must
// call. Per pair: the fixed design's verdict (`compare` of the initial 3 trials a side) and the
// adaptive run's own (sequential looks), the candidate trials the adaptive run spent, and the
// run-to-run drift both counted (from the runs stored before the candidate, as `compare` reads it:
// none for the first pairs, whose history is under 4 runs).
//
//   node --import tsx bench/aa-lab.ts [pairs, default 10] [measured seconds a trial, default 1]
//
// Needs root. The trial window is shortened from the default 5 s to keep the bench to minutes;
// trials, α, noise and the judged metrics are the defaults.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBenchmark } from "../src/api.js";
import { describeDrift, driftBefore } from "../src/compare/drift.js";
import { compareRunViews } from "../src/compare/runs.js";
import { labDown, labUp, setLinkOptions } from "../src/labs/netns-lab.js";
import type { RunView } from "../src/report/run-view.js";
import { formatTable } from "../src/report/table.js";
import type { AdaptiveOutcome } from "../src/run/adaptive-run.js";
import { Store } from "../src/storage/store.js";
import { showRun } from "../src/views.js";

const pairs = Number(process.argv[2] ?? 10);
const duration = process.argv[3] ?? "1";
const LAB = "vnbaa";
const dir = mkdtempSync(join(tmpdir(), "vnb-aa-lab-"));
const db = join(dir, "runs.db");
const flags = {
  db,
  lab: LAB,
  setup: "host-to-guest",
  protocol: "tcp,udp",
  pattern: "rr",
  size: "1000",
  duration,
  warmup: "0.2",
};

/** Regressions the adaptive runs called, with their change and interval. */
const called: string[] = [];

/** The machine's 1-minute load average: other work on a shared machine moves the figures. */
function load(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ")[0]!;
}

/** The run as its first `n` trials a cell: the fixed design's candidate. */
function firstTrials(run: RunView, n: number): RunView {
  return {
    ...run,
    cells: run.cells.map((cell) => ({ ...cell, trials: cell.trials.filter((t) => t.trial <= n) })),
  };
}

/** A baseline, then a candidate with `--baseline` (`between` runs in between: the change under test). */
async function pair(name: string, between?: () => Promise<void>): Promise<string[]> {
  const loadBefore = load();
  const baseline = await runBenchmark({ ...flags, label: `${name}-a` });
  await between?.();
  const loadBetween = load();
  const candidate = await runBenchmark({ ...flags, label: `${name}-b`, baseline: baseline.id });
  const outcome = (candidate.metadata.adaptive as { outcome: AdaptiveOutcome }).outcome;
  const initial = baseline.trialsPerCell;
  const store = new Store(db);
  const drift = driftBefore(store, candidate.id);
  store.close();
  const fixed = compareRunViews(
    showRun(baseline.id, db, { histograms: false }),
    firstTrials(showRun(candidate.id, db, { histograms: false }), initial),
    { drift },
  );
  const adaptive = compareRunViews(
    showRun(baseline.id, db, { histograms: false }),
    showRun(candidate.id, db, { histograms: false }),
    { drift },
  );
  for (const cell of adaptive.cells)
    for (const m of cell.metrics)
      if (m.verdict === "regression")
        called.push(
          `${name}: ${cell.group} ${cell.name} ${m.metric} ${(m.estimate * 100).toFixed(1)} % ` +
            `[${(m.low * 100).toFixed(1)} %, ${(m.high * 100).toFixed(1)} %] (${m.candidate.n} trials)`,
        );
  return [
    name,
    `${fixed.result} (${fixed.counts.regression}/${fixed.tests})`,
    `${outcome.result} (${outcome.counts.regression}/${Object.values(outcome.counts).reduce((a, b) => a + b, 0)})`,
    `${outcome.trialsSpent} of ${outcome.fixedDesignTrials}`,
    Object.values(outcome.trialsPerCell).join("/"),
    `${loadBefore} / ${loadBetween} / ${load()}`,
    describeDrift(drift)?.replace(/.*: /, "") ?? "none",
  ];
}

const started = Date.now();
const lab = await labUp({ name: LAB, baseSubnet: "10.236.0.0/16", force: true });
const rows: string[][] = [];
try {
  for (let i = 1; i <= pairs; i++) rows.push(await pair(`A/A ${i}`));
  // The reference: at 2 Mbit/s a 1000-byte message waits ~4 ms in the guest link's tbf queue.
  rows.push(
    await pair("g1 link tbf 2 Mbit/s", () => setLinkOptions(lab, "g1", { shaping: { rateMbit: 2 } })),
  );
} finally {
  await labDown(LAB);
}
process.stdout.write(
  `${formatTable(
    [
      "pair",
      "fixed 3 a side: result (regressions/judged)",
      "adaptive run: result",
      "candidate trials",
      "per cell",
      "load avg before / between / after",
      "run-to-run drift counted",
    ],
    rows,
    [0, 1, 2],
  )}\n${called.join("\n")}\n`,
);
process.stdout.write(`${((Date.now() - started) / 1000).toFixed(0)} s\n`);
rmSync(dir, { recursive: true, force: true });
