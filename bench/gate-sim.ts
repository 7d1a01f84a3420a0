// The gate at the seed-full shape, simulated: ≈ 1300 cells × 4 judged metrics, trial noise 1–3 %
// log-normal with 0.5 % of trials 5× worse, regressions of 5 %, 10 % and 20 % planted in 3 cells.
// Compares the fixed design (10 trials a side) with adaptive ones on the same draws (the candidate
// runs its initial trials a cell, then one more a round in the cells hinting at a regression, up to
// a cap, with α spent at the first look and the cap as `run --baseline` does): 5 then up to 20
// (`--trials 5 --max-trials 20`), 5 then up to 10 (the default cap, twice the initial trials), and
// seed-full's own `run --baseline` (10 then up to 20). Detection rate per planted size,
// false-regression rate per comparison, candidate trials spent.
//
//   node --import tsx bench/gate-sim.ts [comparisons, default 200] [first seed, default 1] [cells, default 1300]

import { formatTable } from "../src/report/table.js";
import { type GateShape, simulateGate } from "../test/unit/compare/gate-model.js";

const comparisons = Number(process.argv[2] ?? 200);
const firstSeed = Number(process.argv[3] ?? 1);
const cells = Number(process.argv[4] ?? 1300);
const shape: GateShape = {
  cells,
  trials: 10,
  adaptive: [
    { initial: 5, max: 20 },
    { initial: 5, max: 10 },
    { initial: 10, max: 20 },
  ],
  outlierRate: 0.005,
  planted: new Map([
    [11, 0.05],
    [512, 0.1],
    [1013 % cells, 0.2],
  ]),
};

const started = Date.now();
const { fixed, adaptive } = simulateGate(shape, comparisons, firstSeed);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const row = (name: string, s: typeof fixed) => [
  name,
  ...[...s.detection.values()].map(pct),
  `${pct(s.falseRegressionRate)} (${Math.round(s.falseRegressionRate * comparisons)}/${comparisons})`,
  s.candidateTrials.toFixed(2),
];
process.stdout.write(
  `${formatTable(
    [
      "design",
      "detected 5%",
      "detected 10%",
      "detected 20%",
      "false regression / comparison",
      "candidate trials / cell",
    ],
    [
      row("fixed, 10 trials a side", fixed),
      ...shape.adaptive.map((design, k) =>
        row(`adaptive, ${design.initial} then one a round up to ${design.max}`, adaptive[k]!),
      ),
    ],
  )}\n`,
);
process.stdout.write(
  `${cells} cells × 4 judged metrics, ${comparisons} comparisons (seeds ${firstSeed}–${firstSeed + comparisons - 1}), ` +
    `the first adaptive design spends ${pct(1 - adaptive[0]!.candidateTrials / fixed.candidateTrials)} fewer candidate trials; ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
);
