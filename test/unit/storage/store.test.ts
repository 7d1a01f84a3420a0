import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import { type Cell, cellKey, type Trial } from "../../../src/domain/cell.js";
import { DEFAULT_SETUP } from "../../../src/domain/setup.js";
import { InputError } from "../../../src/errors.js";
import { SCHEMA_VERSION, Store } from "../../../src/storage/store.js";
import { trafficOf } from "../../helpers/traffic.js";

const dir = mkdtempSync(join(tmpdir(), "vnb-store-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const traffic = trafficOf({ warmupS: 0 });
const cell: Cell = { key: cellKey(DEFAULT_SETUP, traffic), setup: DEFAULT_SETUP, traffic };

function newRun(store: Store, id: string, createdAt = "2026-11-26T10:00:00.000Z") {
  store.createRun(
    {
      id,
      createdAt,
      finishedAt: null,
      status: "running",
      label: "base",
      tester: "t",
      command: ["run"],
      trials: 2,
      metadata: { cores: 2 },
    },
    [cell],
  );
}

function trial(n: number, status: Trial["status"]): Trial {
  return {
    cellKey: cell.key,
    trial: n,
    status,
    startedAt: "a",
    finishedAt: "b",
    samples: [],
    ...(status === "failed" ? { error: "boom" } : {}),
  };
}

test("a run, its cells and trials round-trip; a retried trial replaces the failed one", () => {
  const store = new Store(join(dir, "a.db"));
  newRun(store, "20261126-100000-aaaa");
  store.recordTrial("20261126-100000-aaaa", trial(1, "completed"));
  store.recordTrial("20261126-100000-aaaa", trial(2, "failed"));
  store.recordTrial("20261126-100000-aaaa", trial(2, "completed"));
  store.setRunStatus("20261126-100000-aaaa", "completed", "2026-11-26T10:01:00.000Z");
  const run = store.getRun("20261126-100000-aaaa");
  assert.equal(run.status, "completed");
  assert.deepEqual(run.cells, [cell]);
  assert.deepEqual(
    run.results.map((t) => [t.trial, t.status]),
    [
      [1, "completed"],
      [2, "completed"],
    ],
  );
  assert.deepEqual(run.metadata, { cores: 2 });
  store.close();
});

test("runs are found by id, unique prefix or 'latest'; unknown and ambiguous references are input errors", () => {
  const store = new Store(join(dir, "b.db"));
  newRun(store, "20261126-100000-abcd", "2026-11-26T10:00:00.000Z");
  newRun(store, "20261126-110000-abce", "2026-11-26T11:00:00.000Z");
  assert.equal(store.resolveRunId("latest"), "20261126-110000-abce");
  assert.equal(store.resolveRunId("20261126-10"), "20261126-100000-abcd");
  assert.throws(() => store.resolveRunId("20261126-1"), /ambiguous/);
  assert.throws(
    () => store.resolveRunId("nope"),
    (error: Error) => error instanceof InputError && /not found/.test(error.message),
  );
  assert.throws(() => store.resolveRunId("%"), /not found/, "LIKE wildcards in a reference are literal");
  assert.equal(store.listRuns().length, 2);
  store.close();
});

test("the schema is versioned, and a store from a newer vnetbench is refused rather than damaged", () => {
  const path = join(dir, "c.db");
  new Store(path).close();
  const db = new Database(path);
  assert.equal(db.pragma("user_version", { simple: true }), SCHEMA_VERSION);
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  assert.throws(() => new Store(path), /newer than this vnetbench/);
});

test("committed trials survive a process that never closes the store", async () => {
  const path = join(dir, "d.db");
  const { spawnSync } = await import("node:child_process");
  const script = `
    import { Store } from ${JSON.stringify(new URL("../../../src/storage/store.ts", import.meta.url).href)};
    const store = new Store(${JSON.stringify(path)});
    store.createRun({ id: "r1", createdAt: "x", finishedAt: null, status: "running", label: "", tester: "", command: [], trials: 1, metadata: {} }, ${JSON.stringify([cell])});
    store.recordTrial("r1", ${JSON.stringify(trial(1, "completed"))});
    process.kill(process.pid, "SIGKILL");
  `;
  const result = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script]);
  assert.equal(result.signal, "SIGKILL", result.stderr.toString());
  const store = new Store(path);
  assert.equal(store.getRun("r1").results.length, 1);
  store.close();
});

test("a store of schema 1 (histograms inside the samples) is migrated and reads back the same trials", () => {
  const path = join(dir, "v1.db");
  const histogram = "HISTFAAAACF4nJNpmSzMwMDAyAABzFCaEUrLQ2gWBk5mBoY8AIk0BKQ=";
  const sample = { direction: "forward", latencyUs: { p50: 1 }, histogram, warnings: [] };
  const legacy = new Database(path);
  // Schema 1 as vnetbench 0.1 wrote it.
  legacy.exec(`
    CREATE TABLE runs (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL,
      label TEXT NOT NULL, tester TEXT NOT NULL, command TEXT NOT NULL, trials INTEGER NOT NULL, metadata TEXT NOT NULL);
    CREATE TABLE cells (run_id TEXT NOT NULL REFERENCES runs(id), position INTEGER NOT NULL, key TEXT NOT NULL,
      setup TEXT NOT NULL, traffic TEXT NOT NULL, PRIMARY KEY (run_id, key));
    CREATE TABLE trials (run_id TEXT NOT NULL REFERENCES runs(id), cell_key TEXT NOT NULL, trial INTEGER NOT NULL,
      status TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT NOT NULL, samples TEXT NOT NULL, error TEXT,
      extra TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (run_id, cell_key, trial));
    PRAGMA user_version = 1;
  `);
  legacy.prepare("INSERT INTO runs VALUES ('r1', 'x', NULL, 'completed', '', 't', '[]', 1, '{}')").run();
  legacy
    .prepare("INSERT INTO cells VALUES ('r1', 0, ?, ?, ?)")
    .run(cell.key, JSON.stringify(cell.setup), JSON.stringify(cell.traffic));
  legacy
    .prepare("INSERT INTO trials VALUES ('r1', ?, 1, 'completed', 'a', 'b', ?, NULL, '{\"cpu\":null}')")
    .run(cell.key, JSON.stringify([sample, { ...sample, direction: "reverse", histogram: null }]));
  // More rows than the migration moves at a time.
  const more = legacy.prepare("INSERT INTO trials VALUES ('r1', ?, ?, 'completed', 'a', 'b', ?, NULL, '{}')");
  for (let n = 2; n <= 2500; n++) more.run(cell.key, n, JSON.stringify([sample]));
  legacy.close();

  const store = new Store(path);
  const all = store.getRun("r1").results;
  assert.equal(all.length, 2500);
  assert.ok(all.every((t) => t.samples[0]!.histogram === histogram));
  const [full] = all;
  assert.deepEqual(full!.samples, [sample, { ...sample, direction: "reverse", histogram: null }]);
  assert.equal(full!.cpu, null);
  const [light] = store.getRun("r1", { histograms: false }).results;
  assert.deepEqual(light!.samples[0], { ...sample, histogram: null });
  store.close();
  const raw = new Database(path);
  assert.equal(raw.pragma("user_version", { simple: true }), SCHEMA_VERSION);
  assert.equal(
    (raw.prepare("SELECT count(*) AS n FROM trials WHERE samples LIKE '%HISTF%'").get() as { n: number }).n,
    0,
  );
  const row = raw.prepare("SELECT samples, histograms FROM trials WHERE trial = 1").get() as {
    samples: string;
    histograms: string;
  };
  assert.equal(row.samples.includes(histogram), false, "the samples' JSON no longer holds the histogram");
  assert.deepEqual(JSON.parse(row.histograms), [histogram, null]);
  raw.close();
});
