// The harness's own cost per trial — starting and stopping the trial, CPU sampling, storing it —
// beyond the trial's warm-up and measured window, over the quick matrix's traffic on loopback.
// Each cell runs with 1 and with 1 + N trials; the difference per extra trial, less its scheduled
// time, is the marginal cost (the agents' start, paid once per cell, is shown apart).
//
//   node --import tsx bench/harness.ts [extra trials, default 4]

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBenchmark } from "../src/api.js";
import { formatTable } from "../src/report/table.js";

const extra = Number(process.argv[2] ?? 4);
const DURATION_S = 0.5;
const WARMUP_S = 0.2;
const GOAL_S = 0.1;

const CELLS = [
  { protocol: "tcp", pattern: "rr", size: "64" },
  { protocol: "tcp", pattern: "crr", size: "64" },
  { protocol: "tcp", pattern: "stream", size: "16k" },
  { protocol: "tcp", pattern: "maerts", size: "16k" },
  { protocol: "tcp", pattern: "paced", size: "64", rate: "1000" },
  { protocol: "udp", pattern: "rr", size: "64" },
  { protocol: "udp", pattern: "stream", size: "1400" },
  { protocol: "udp", pattern: "paced", size: "64", rate: "10000" },
];

const dir = mkdtempSync(join(tmpdir(), "vnb-harness-"));

async function wallOf(cell: (typeof CELLS)[number], trials: number, db: string): Promise<number> {
  const started = performance.now();
  await runBenchmark({
    db,
    setup: "loopback",
    ...cell,
    duration: String(DURATION_S),
    warmup: String(WARMUP_S),
    trials,
  });
  return (performance.now() - started) / 1000;
}

try {
  const rows: string[][] = [];
  for (const [i, cell] of CELLS.entries()) {
    const one = await wallOf(cell, 1, join(dir, `${i}-a.db`));
    const many = await wallOf(cell, 1 + extra, join(dir, `${i}-b.db`));
    const perTrial = (many - one) / extra - (DURATION_S + WARMUP_S);
    rows.push([
      `${cell.protocol} ${cell.pattern}`,
      one.toFixed(2),
      many.toFixed(2),
      perTrial.toFixed(3),
      perTrial <= GOAL_S ? "yes" : "no",
    ]);
  }
  console.log(
    `\nharness cost per trial beyond warm-up ${WARMUP_S} s + window ${DURATION_S} s, loopback (goal ≤ ${GOAL_S} s)`,
  );
  console.log(
    formatTable(
      ["cell", `1 trial (s)`, `${1 + extra} trials (s)`, "per extra trial (s)", "within goal"],
      rows,
    ),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
