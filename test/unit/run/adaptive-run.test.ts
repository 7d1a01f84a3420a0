// A candidate run that knows its baseline, on a real store with scripted drivers: the settled
// cells stop after their initial trials, an open one gets rounds up to the cap, the rounds are
// announced, the verdict and trials spent are stored and said, a resumed run re-derives the same
// rounds from its stored trials, and a baseline with other cells is refused before anything runs.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { compareRunViews } from "../../../src/compare/runs.js";
import { type Cell, cellKey } from "../../../src/domain/cell.js";
import { DEFAULT_SETUP } from "../../../src/domain/setup.js";
import type { Traffic } from "../../../src/domain/traffic.js";
import type { Driver } from "../../../src/drivers/driver.js";
import { LocalEndpoint } from "../../../src/endpoints/local.js";
import { InputError, InterruptedError } from "../../../src/errors.js";
import { loadRunView } from "../../../src/report/run-view.js";
import {
  type AdaptiveOutcome,
  type AdaptiveSettings,
  adaptiveRounds,
  baselineMachineWarning,
  checkBaseline,
} from "../../../src/run/adaptive-run.js";
import { createRun, executeRun, type RunEvent } from "../../../src/run/runner.js";
import { Store } from "../../../src/storage/store.js";
import { sampleOf, TRAFFIC } from "../report/run-fixture.js";

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "vnb-adaptive-"));
  store = new Store(join(dir, "runs.db"));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function cell(requestSize: number): Cell {
  const t = { ...TRAFFIC, requestSize };
  return { key: cellKey(DEFAULT_SETUP, t), setup: DEFAULT_SETUP, traffic: t };
}

// 64: unchanged; 128: twice as slow; 256: 6 % slower (a hint the first look cannot call); 512: unchanged.
const CELLS = [64, 128, 256, 512].map(cell);
const SPREAD = [1, 1.02, 0.98, 1.01, 0.99, 1.015];
const SLOWDOWN: Record<number, number> = { 64: 1, 128: 2, 256: 1.06, 512: 1 };

/** Trial k of a cell: latency 50 µs × the cell's slowdown × a fixed spread (the same every run). */
function driver(
  slowdown: (size: number) => number,
  onTrial?: (size: number, k: number) => void,
  /** Trials each cell already ran (a resumed run goes on from them). */
  count = new Map<number, number>(),
): Driver {
  return {
    name: "builtin",
    unsupported: () => null,
    async check() {},
    async prepare() {
      return {
        runTrial: async (traffic: Traffic) => {
          const k = (count.get(traffic.requestSize) ?? 0) + 1;
          count.set(traffic.requestSize, k);
          onTrial?.(traffic.requestSize, k);
          const latencyUs = 50 * slowdown(traffic.requestSize) * SPREAD[(k - 1) % SPREAD.length]!;
          return [sampleOf({ latencyUs })];
        },
        close: async () => {},
      };
    },
  };
}

const local = new LocalEndpoint();
const path = async () => ({ client: local, server: local, serverAddress: "127.0.0.1" });

async function baselineRun(): Promise<string> {
  const id = createRun(store, {
    cells: CELLS,
    trials: 3,
    label: "base",
    tester: "t",
    command: [],
    metadata: {},
  }).id;
  await executeRun(id, { store, driverFor: () => driver(() => 1), pathFor: path });
  return id;
}

function candidateRun(baseline: string): string {
  const adaptive: AdaptiveSettings = { baseline, mode: "regression", initialTrials: 3, maxTrials: 6 };
  return createRun(store, {
    cells: CELLS,
    trials: 3,
    label: "cand",
    tester: "t",
    command: [],
    metadata: { adaptive },
  }).id;
}

function trialsPerCell(id: string): Record<number, number> {
  const counts: Record<number, number> = {};
  const run = store.getRun(id);
  for (const trial of run.results) {
    const size = run.cells.find((c) => c.key === trial.cellKey)!.traffic.requestSize;
    counts[size] = (counts[size] ?? 0) + 1;
  }
  return counts;
}

test("settled cells stop after 3 trials, the cell hinting at a regression gets rounds, the 2× cell is called", async () => {
  const baseline = await baselineRun();
  const id = candidateRun(baseline);
  const events: RunEvent[] = [];
  await executeRun(id, {
    store,
    driverFor: () => driver((size) => SLOWDOWN[size]!),
    pathFor: path,
    rounds: adaptiveRounds(store, id),
    onEvent: (e) => events.push(e),
  });
  const counts = trialsPerCell(id);
  assert.equal(counts[64], 3);
  assert.equal(counts[128], 3, "a 2× change is settled at the first look");
  assert.equal(counts[512], 3);
  assert.ok(counts[256]! > 3 && counts[256]! <= 6, `the hinting cell ran ${counts[256]} trials`);

  const rounds = events.flatMap((e) => (e.type === "round" ? [e] : []));
  assert.equal(rounds.length, counts[256]! - 3);
  assert.equal(rounds[0]!.round, 2);
  for (const round of rounds)
    assert.deepEqual(
      round.open.map((c) => c.traffic.requestSize),
      [256],
    );

  const outcome = (store.getRun(id).metadata.adaptive as { outcome: AdaptiveOutcome }).outcome;
  assert.equal(outcome.result, "regression");
  assert.deepEqual(Object.values(outcome.trialsPerCell), [3, 3, counts[256], 3]);
  assert.equal(outcome.trialsSpent, 9 + counts[256]!);
  assert.equal(outcome.fixedDesignTrials, 24);
  const notes = events.flatMap((e) => (e.type === "note" ? [e.message] : []));
  assert.match(notes.join("\n"), /REGRESSION/);
  assert.match(notes.join("\n"), new RegExp(`trials spent: ${outcome.trialsSpent} over 4 cell\\(s\\)`));

  // compare judges the candidate by its own looks: the same verdicts as the run's.
  const comparison = compareRunViews(loadRunView(store, baseline), loadRunView(store, id));
  assert.equal(comparison.result, outcome.result);
  assert.deepEqual(comparison.counts, outcome.counts);
  assert.ok(
    comparison.warnings.some((w) => /ran with --baseline .*: each cell is judged at its last look/.test(w)),
  );
});

test("an interrupted adaptive run resumes into the same rounds its stored trials imply", async () => {
  const baseline = await baselineRun();
  const straight = candidateRun(baseline);
  await executeRun(straight, {
    store,
    driverFor: () => driver((size) => SLOWDOWN[size]!),
    pathFor: path,
    rounds: adaptiveRounds(store, straight),
  });
  const expected = trialsPerCell(straight);
  assert.ok(expected[256]! >= 5, "the hinting cell reaches a fifth trial");

  const resumed = candidateRun(baseline);
  const controller = new AbortController();
  const stopAtFifth = (size: number, k: number) => {
    if (size === 256 && k === 5) {
      controller.abort();
      throw new Error("interrupted");
    }
  };
  await assert.rejects(
    executeRun(resumed, {
      store,
      driverFor: () => driver((size) => SLOWDOWN[size]!, stopAtFifth),
      pathFor: path,
      rounds: adaptiveRounds(store, resumed),
      signal: controller.signal,
    }),
    InterruptedError,
  );
  assert.equal(trialsPerCell(resumed)[256], 4);
  const events: RunEvent[] = [];
  await executeRun(resumed, {
    store,
    driverFor: () => driver((size) => SLOWDOWN[size]!, undefined, new Map([[256, 4]])),
    pathFor: path,
    rounds: adaptiveRounds(store, resumed),
    onEvent: (e) => events.push(e),
  });
  assert.deepEqual(trialsPerCell(resumed), expected);
  const start = events.find((e) => e.type === "run-start");
  assert.ok(start && start.type === "run-start" && start.alreadyDone === 13);
});

test("a baseline whose cells differ is refused, naming them; a cap below the initial trials too", () => {
  const baseline = {
    ...store.getRun(
      createRun(store, {
        cells: CELLS.slice(0, 3),
        trials: 3,
        label: "",
        tester: "t",
        command: [],
        metadata: {},
      }).id,
    ),
  };
  assert.throws(
    () => checkBaseline(baseline, CELLS, { mode: "regression", initialTrials: 3, maxTrials: 6 }),
    (error: Error) => error instanceof InputError && /1 not in the baseline: .*size=512/.test(error.message),
  );
  assert.throws(
    () => checkBaseline(baseline, CELLS.slice(0, 3), { mode: "regression", initialTrials: 3, maxTrials: 2 }),
    /--max-trials: 2 is below the 3 initial trials/,
  );
  assert.throws(
    () => checkBaseline(baseline, CELLS.slice(3), { mode: "regression", initialTrials: 3, maxTrials: 6 }),
    (error: Error) =>
      error instanceof InputError &&
      /its cells differ from this run's, none of them in common.*1 not in the baseline: .*size=512.*3 only in the baseline/.test(
        error.message,
      ),
  );
});

test("a baseline measured on other hardware is said, naming the facts; the same machine is not", () => {
  const host = { hostname: "lab1", cpuModel: "Xeon E-2224", cores: 4, kernel: "6.1.0" };
  const run = (metadata: Record<string, unknown>) =>
    createRun(store, { cells: CELLS, trials: 3, label: "", tester: "t", command: [], metadata }).id;
  const baseline = run(host);
  const adaptive: AdaptiveSettings = { baseline, mode: "regression", initialTrials: 3, maxTrials: 6 };
  const elsewhere = run({ ...host, cpuModel: "EPYC 7302", cores: 16, adaptive });
  const warning = baselineMachineWarning(store, elsewhere);
  assert.match(warning ?? "", new RegExp(`--baseline ${baseline} was measured on other hardware`));
  assert.match(
    warning ?? "",
    /cpuModel: baseline "Xeon E-2224", candidate "EPYC 7302"; cores: baseline 4, candidate 16/,
  );
  assert.equal(baselineMachineWarning(store, run({ ...host, adaptive })), undefined);
  assert.equal(
    baselineMachineWarning(store, run({ ...host, cores: 16 })),
    undefined,
    "no baseline: nothing to say",
  );
});
