// The SQLite store: one row per trial, written the moment the trial finishes, so an interrupted
// run loses nothing it completed. The schema is versioned with PRAGMA user_version. Histograms are
// kept apart from the samples, and each cell's summary is stored once computed, so views of a large
// run read neither unless they need them.

import { accessSync, constants, statfsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import type { Cell, Trial } from "../domain/cell.js";
import type { Sample } from "../domain/sample.js";
import { InputError } from "../errors.js";

export const SCHEMA_VERSION = 2;

/** Free space a run wants on the store's filesystem before it starts (trials with histograms add up). */
const MIN_FREE_BYTES = 64 * 1024 * 1024;

/** `cut-short`: stopped by `run --max-time`, whole trials stored, resumable. */
export type RunStatus = "running" | "completed" | "failed" | "interrupted" | "cut-short";

/** What a run records about itself so it can be reproduced and compared. */
export interface RunRecord {
  id: string;
  createdAt: string;
  finishedAt: string | null;
  status: RunStatus;
  label: string;
  tester: string;
  /** The command line that started it. */
  command: string[];
  /** Trials per cell. */
  trials: number;
  /** Host and software facts (version, host name, CPU, kernel, ...). */
  metadata: Record<string, unknown>;
}

export interface StoredRun extends RunRecord {
  cells: Cell[];
  results: Trial[];
}

/** Splits the samples' histograms off into a column of their own (null where a sample has none). */
function splitHistograms(samples: readonly Sample[]): { samples: Sample[]; histograms: string | null } {
  const histograms = samples.map((sample) => sample.histogram ?? null);
  return {
    samples: samples.map((sample) => (sample.histogram ? { ...sample, histogram: null } : sample)),
    histograms: histograms.some((h) => h !== null) ? JSON.stringify(histograms) : null,
  };
}

/** Version 2: histograms out of the samples' JSON into trials.histograms, and the cell summaries' cache. */
function migrateToVersion2(db: Database.Database): void {
  db.exec(`
    ALTER TABLE trials ADD COLUMN histograms TEXT;
    CREATE TABLE cell_summaries (
      run_id TEXT NOT NULL REFERENCES runs(id),
      cell_key TEXT NOT NULL,
      summary TEXT NOT NULL,
      -- What made it: a summary by another vnetbench (its fields may differ) is made again.
      version TEXT NOT NULL,
      PRIMARY KEY (run_id, cell_key)
    );
    -- Which trials a run has, and whether each is still the row last read, from the index alone.
    CREATE INDEX trials_by_run ON trials (run_id, finished_at);
  `);
  const update = db.prepare("UPDATE trials SET samples = ?, histograms = ? WHERE rowid = ?");
  // A thousand rows at a time: a store of a large matrix holds hundreds of MB of histograms.
  const batch = db.prepare("SELECT rowid, samples FROM trials WHERE rowid > ? ORDER BY rowid LIMIT 1000");
  for (let after = 0; ; ) {
    const rows = batch.all(after) as Array<{ rowid: number; samples: string }>;
    if (rows.length === 0) return;
    for (const row of rows) {
      const split = splitHistograms(JSON.parse(row.samples) as Sample[]);
      if (split.histograms !== null) update.run(JSON.stringify(split.samples), split.histograms, row.rowid);
    }
    after = rows[rows.length - 1]!.rowid;
  }
}

const MIGRATIONS: Record<number, string | ((db: Database.Database) => void)> = {
  1: `
    CREATE TABLE runs (
      id TEXT PRIMARY KEY,
      created_at TEXT NOT NULL,
      finished_at TEXT,
      status TEXT NOT NULL,
      label TEXT NOT NULL,
      tester TEXT NOT NULL,
      command TEXT NOT NULL,
      trials INTEGER NOT NULL,
      metadata TEXT NOT NULL
    );
    CREATE TABLE cells (
      run_id TEXT NOT NULL REFERENCES runs(id),
      position INTEGER NOT NULL,
      key TEXT NOT NULL,
      setup TEXT NOT NULL,
      traffic TEXT NOT NULL,
      PRIMARY KEY (run_id, key)
    );
    CREATE TABLE trials (
      run_id TEXT NOT NULL REFERENCES runs(id),
      cell_key TEXT NOT NULL,
      trial INTEGER NOT NULL,
      status TEXT NOT NULL,
      started_at TEXT NOT NULL,
      finished_at TEXT NOT NULL,
      samples TEXT NOT NULL,
      error TEXT,
      extra TEXT NOT NULL DEFAULT '{}',
      PRIMARY KEY (run_id, cell_key, trial)
    );
  `,
  2: migrateToVersion2,
};

interface RunRow {
  id: string;
  created_at: string;
  finished_at: string | null;
  status: RunStatus;
  label: string;
  tester: string;
  command: string;
  trials: number;
  metadata: string;
}

interface TrialRow {
  cell_key: string;
  trial: number;
  status: Trial["status"];
  started_at: string;
  finished_at: string;
  samples: string;
  error: string | null;
  extra: string;
  histograms?: string | null;
}

function trialFromRow(row: TrialRow): Trial {
  const samples = JSON.parse(row.samples) as Sample[];
  if (row.histograms) {
    const histograms = JSON.parse(row.histograms) as Array<string | null>;
    samples.forEach((sample, i) => {
      sample.histogram = histograms[i] ?? null;
    });
  }
  return {
    cellKey: row.cell_key,
    trial: row.trial,
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    samples,
    ...(row.error ? { error: row.error } : {}),
    ...JSON.parse(row.extra),
  };
}

function runFromRow(row: RunRow): RunRecord {
  return {
    id: row.id,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
    status: row.status,
    label: row.label,
    tester: row.tester,
    command: JSON.parse(row.command) as string[],
    trials: row.trials,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
  };
}

const TRIAL_COLUMNS = "cell_key, trial, status, started_at, finished_at, samples, error, extra";

/** json_remove paths of the samples' series and flows (a trial has a sample per direction). */
const SAMPLE_SERIES = [0, 1, 2, 3].flatMap((i) => [`'$[${i}].series'`, `'$[${i}].flows'`]).join(", ");

/** Refuses a store whose filesystem has less than `minFreeBytes` left (checked before a new file is made). */
export function assertRoom(path: string, minFreeBytes = MIN_FREE_BYTES): void {
  const fs = statfsSync(dirname(resolve(path)));
  const free = fs.bavail * fs.bsize;
  if (free < minFreeBytes)
    throw new InputError(
      `store ${path}: only ${Math.round(free / 1024)} KiB free on its filesystem ` +
        `(a run needs at least ${minFreeBytes / 1024 / 1024} MiB): free some space or use --db elsewhere`,
    );
}

/** Why the store's directory cannot be written, as a clause for an error message ("" when it can). */
function unwritableBecause(path: string): string {
  try {
    accessSync(dirname(resolve(path)), constants.W_OK);
    return "";
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EROFS") return " (its filesystem is mounted read-only: use --db on a writable one)";
    if (code === "EACCES") return " (its directory cannot be written by this user: use --db elsewhere)";
    return "";
  }
}

export class Store {
  private readonly db: Database.Database;
  /** Trials read without histograms, by rowid; a trial's finishing time tells a replaced row (see trialsWithoutHistograms). */
  private readonly parsedTrials = new Map<number, Trial>();
  /**
   * Summaries read, by run, version and field, with the cells this store wrote since (read again):
   * a view read after every round (an adaptive run's comparison) reads only the cells that changed,
   * and gets the very objects of the last read for the others. Cells' rows are written once.
   */
  private readonly summaryCache = new Map<
    string,
    { runId: string; values: Map<string, unknown>; stale: Set<string> }
  >();
  private readonly cellsCache = new Map<string, Cell[]>();
  /** PRAGMA data_version when the caches were last known good: it moves when another connection commits. */
  private dataVersion = -1;

  constructor(readonly path: string) {
    try {
      this.db = new Database(path);
    } catch (error) {
      throw new InputError(`cannot open store ${path}: ${(error as Error).message}`);
    }
    try {
      // Before anything is written (even the journal mode): a newer vnetbench's store stays as it is.
      this.assertNotNewer();
      // WAL + synchronous=NORMAL: each committed trial survives a killed process.
      this.db.pragma("journal_mode = WAL");
      this.db.pragma("synchronous = NORMAL");
      this.db.pragma("busy_timeout = 5000");
      this.migrate();
    } catch (error) {
      this.db.close();
      if (error instanceof InputError) throw error;
      throw new InputError(
        `cannot open store ${path}: ${(error as Error).message}${unwritableBecause(path)}`,
      );
    }
  }

  private assertNotNewer(): void {
    const current = this.db.pragma("user_version", { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new InputError(
        `store ${this.path} has schema version ${current}, newer than this vnetbench's ${SCHEMA_VERSION}: upgrade vnetbench`,
      );
    }
  }

  private migrate(): void {
    const current = this.db.pragma("user_version", { simple: true }) as number;
    for (let version = current + 1; version <= SCHEMA_VERSION; version++) {
      try {
        this.db.transaction(() => {
          const migration = MIGRATIONS[version]!;
          if (typeof migration === "string") this.db.exec(migration);
          else migration(this.db);
          this.db.pragma(`user_version = ${version}`);
        })();
      } catch (error) {
        throw new InputError(
          `store ${this.path}: cannot upgrade its schema from version ${version - 1} to ${version} ` +
            `(${(error as Error).message}); nothing was changed: open it where it can be written`,
        );
      }
    }
  }

  /**
   * Refuses, before a run starts, a store this process cannot write (read-only file or
   * filesystem) or whose filesystem has less than `minFreeBytes` left: better now than after an hour.
   */
  assertWritable(minFreeBytes = MIN_FREE_BYTES): void {
    try {
      this.db.exec(
        "BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS write_check (x); DROP TABLE write_check; COMMIT",
      );
    } catch (error) {
      if (this.db.inTransaction) this.db.exec("ROLLBACK");
      throw new InputError(`store ${this.path} cannot be written: ${(error as Error).message}`);
    }
    assertRoom(this.path, minFreeBytes);
  }

  createRun(run: RunRecord, cells: readonly Cell[]): void {
    const insertCell = this.db.prepare(
      "INSERT INTO cells (run_id, position, key, setup, traffic) VALUES (?, ?, ?, ?, ?)",
    );
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO runs (id, created_at, finished_at, status, label, tester, command, trials, metadata)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          run.id,
          run.createdAt,
          run.finishedAt,
          run.status,
          run.label,
          run.tester,
          JSON.stringify(run.command),
          run.trials,
          JSON.stringify(run.metadata),
        );
      cells.forEach((cell, position) => {
        insertCell.run(run.id, position, cell.key, JSON.stringify(cell.setup), JSON.stringify(cell.traffic));
      });
    })();
  }

  /**
   * Commits one finished trial; a repeated (run, cell, trial) replaces the earlier failed attempt.
   * The cell's stored summary no longer holds and is dropped in the same transaction.
   */
  recordTrial(runId: string, trial: Trial): void {
    const { cellKey, trial: number, status, startedAt, finishedAt, samples, error, ...extra } = trial;
    const split = splitHistograms(samples);
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT OR REPLACE INTO trials (run_id, cell_key, trial, status, started_at, finished_at, samples, error, extra, histograms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          runId,
          cellKey,
          number,
          status,
          startedAt,
          finishedAt,
          JSON.stringify(split.samples),
          error ?? null,
          JSON.stringify(extra),
          split.histograms,
        );
      this.db.prepare("DELETE FROM cell_summaries WHERE run_id = ? AND cell_key = ?").run(runId, cellKey);
    })();
    this.markStale(runId, [cellKey]);
  }

  private markStale(runId: string, cellKeys: Iterable<string>): void {
    for (const cached of this.summaryCache.values())
      if (cached.runId === runId) for (const key of cellKeys) cached.stale.add(key);
  }

  /** Drops what was read when another connection (another process) has committed since. */
  private dropIfChangedElsewhere(): void {
    const version = this.db.pragma("data_version", { simple: true }) as number;
    if (version === this.dataVersion) return;
    this.summaryCache.clear();
    this.cellsCache.clear();
    this.dataVersion = version;
  }

  /**
   * The summaries of a run's cells stored with `version` (JSON as saved), by cell key; with
   * `field`, only that top-level field of each (cells whose summary lacks it are left out).
   */
  cellSummaries(runId: string, version: string, field?: string): Map<string, unknown> {
    if (field !== undefined && !/^[A-Za-z][A-Za-z0-9]*$/.test(field))
      throw new RangeError(`summary field '${field}'`);
    // The field cut out by SQLite: a view that needs one field parses no more.
    const column = field === undefined ? "summary" : `json_extract(summary, '$.${field}')`;
    const select = `SELECT cell_key, ${column} AS summary FROM cell_summaries WHERE run_id = ? AND version = ?`;
    this.dropIfChangedElsewhere();
    const cacheKey = `${runId}\u0000${version}\u0000${field ?? ""}`;
    const whole = field === undefined ? undefined : this.summaryCache.get(`${runId}\u0000${version}\u0000`);
    if (whole && whole.stale.size === 0) {
      // The whole summaries are in hand (a report reads them, then compares): the field of each.
      const fields = new Map<string, unknown>();
      for (const [key, summary] of whole.values) {
        const value = (summary as Record<string, unknown>)[field!];
        if (value !== undefined && value !== null) fields.set(key, value);
      }
      return fields;
    }
    let cached = this.summaryCache.get(cacheKey);
    const read = (rows: Array<{ cell_key: string; summary: string | null }>, into: Map<string, unknown>) => {
      for (const row of rows) if (row.summary !== null) into.set(row.cell_key, JSON.parse(row.summary));
    };
    if (!cached) {
      cached = { runId, values: new Map(), stale: new Set() };
      read(this.db.prepare(select).all(runId, version) as never, cached.values);
      this.summaryCache.set(cacheKey, cached);
    } else if (cached.stale.size > 0) {
      const stale = [...cached.stale];
      for (const key of stale) cached.values.delete(key);
      const rows = this.db
        .prepare(`${select} AND cell_key IN (SELECT value FROM json_each(?))`)
        .all(runId, version, JSON.stringify(stale));
      read(rows as never, cached.values);
      cached.stale.clear();
    }
    return new Map(cached.values);
  }

  /** Keeps cells' summaries; a store opened read-only keeps nothing, and views compute them again. */
  saveCellSummaries(runId: string, version: string, summaries: ReadonlyMap<string, unknown>): void {
    if (summaries.size === 0 || this.db.readonly) return;
    const insert = this.db.prepare(
      "INSERT OR REPLACE INTO cell_summaries (run_id, cell_key, summary, version) VALUES (?, ?, ?, ?)",
    );
    this.db.transaction(() => {
      for (const [key, summary] of summaries) insert.run(runId, key, JSON.stringify(summary), version);
    })();
    this.markStale(runId, summaries.keys());
  }

  setRunStatus(runId: string, status: RunStatus, finishedAt: string | null): void {
    this.db
      .prepare("UPDATE runs SET status = ?, finished_at = ? WHERE id = ?")
      .run(status, finishedAt, runId);
  }

  updateMetadata(runId: string, metadata: Record<string, unknown>): void {
    this.db.prepare("UPDATE runs SET metadata = ? WHERE id = ?").run(JSON.stringify(metadata), runId);
  }

  /** Sets one top-level metadata field in place, leaving the others as they are in the store. */
  setMetadataField(runId: string, field: string, value: unknown): void {
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(field)) throw new RangeError(`metadata field '${field}'`);
    this.db
      .prepare(`UPDATE runs SET metadata = json_set(metadata, '$.${field}', json(?)) WHERE id = ?`)
      .run(JSON.stringify(value ?? null), runId);
  }

  /**
   * Marks `interrupted` every run still `running` whose recorded owner (metadata.owner) is known
   * to be gone, e.g. killed with SIGKILL; returns their ids.
   */
  markAbandoned(isGone: (owner: unknown) => boolean): string[] {
    const rows = this.db.prepare("SELECT id, metadata FROM runs WHERE status = 'running'").all() as Array<{
      id: string;
      metadata: string;
    }>;
    const gone = rows.filter((row) => {
      const owner = (JSON.parse(row.metadata) as { owner?: unknown }).owner;
      return owner !== undefined && isGone(owner);
    });
    const mark = this.db.prepare(
      "UPDATE runs SET status = 'interrupted', finished_at = COALESCE(finished_at, ?) WHERE id = ? AND status = 'running'",
    );
    for (const row of gone) mark.run(new Date().toISOString(), row.id);
    return gone.map((row) => row.id);
  }

  listRuns(): RunRecord[] {
    const rows = this.db.prepare("SELECT * FROM runs ORDER BY created_at, id").all() as RunRow[];
    return rows.map(runFromRow);
  }

  /** Finds a run by id, unique id prefix, or `latest`. */
  resolveRunId(reference: string): string {
    if (reference === "latest") {
      const row = this.db.prepare("SELECT id FROM runs ORDER BY created_at DESC, id DESC LIMIT 1").get() as
        | { id: string }
        | undefined;
      if (!row) throw new InputError(`store ${this.path} holds no runs`);
      return row.id;
    }
    const rows = this.db
      .prepare("SELECT id FROM runs WHERE id = ? OR id LIKE ? ESCAPE '\\' ORDER BY id")
      .all(reference, `${reference.replace(/[\\%_]/g, "\\$&")}%`) as Array<{ id: string }>;
    const exact = rows.find((row) => row.id === reference);
    if (exact) return exact.id;
    if (rows.length === 1) return rows[0]!.id;
    if (rows.length === 0)
      throw new InputError(`run '${reference}' not found in ${this.path} (see 'vnetbench runs')`);
    throw new InputError(`run '${reference}' is ambiguous: ${rows.map((row) => row.id).join(", ")}`);
  }

  /**
   * A run with its cells and trials. `histograms: false` leaves the samples' histograms out (null),
   * reading neither them nor more than the view needs; `cells` limits the trials to those cells;
   * `series: false` (without histograms too) leaves out the time series and per-flow figures of
   * the samples and the trial's CPU series, the bulk of a trial, read once (an export's batches).
   */
  getRun(
    reference: string,
    options: { histograms?: boolean; cells?: readonly string[]; series?: boolean } = {},
  ): StoredRun {
    const id = this.resolveRunId(reference);
    const run = runFromRow(this.db.prepare("SELECT * FROM runs WHERE id = ?").get(id) as RunRow);
    const cells = this.runCells(id);
    const only = options.cells;
    const where = `run_id = ?${only ? " AND cell_key IN (SELECT value FROM json_each(?))" : ""}`;
    const params = only ? [id, JSON.stringify(only)] : [id];
    if (options.histograms ?? true) {
      const rows = this.db
        .prepare(`SELECT ${TRIAL_COLUMNS}, histograms FROM trials WHERE ${where} ORDER BY rowid`)
        .all(...params) as TrialRow[];
      return { ...run, cells, results: rows.map(trialFromRow) };
    }
    if (options.series === false) {
      // Cut by SQLite, so never parsed here; partial trials, so not kept for the next read.
      const columns = TRIAL_COLUMNS.replace(
        "samples",
        `json_remove(samples, ${SAMPLE_SERIES}) AS samples`,
      ).replace("extra", "json_remove(extra, '$.cpuSeries') AS extra");
      const rows = this.db
        .prepare(`SELECT ${columns} FROM trials WHERE ${where} ORDER BY rowid`)
        .all(...params) as TrialRow[];
      return { ...run, cells, results: rows.map(trialFromRow) };
    }
    return { ...run, cells, results: this.trialsWithoutHistograms(where, params) };
  }

  /** A run's cells in matrix order, parsed once (they are written with the run, never after): shared, read-only. */
  private runCells(id: string): Cell[] {
    this.dropIfChangedElsewhere();
    let cells = this.cellsCache.get(id);
    if (!cells) {
      const rows = this.db
        .prepare("SELECT key, setup, traffic FROM cells WHERE run_id = ? ORDER BY position")
        .all(id) as Array<{ key: string; setup: string; traffic: string }>;
      cells = rows.map(
        (row) => ({ key: row.key, setup: JSON.parse(row.setup), traffic: JSON.parse(row.traffic) }) as Cell,
      );
      this.cellsCache.set(id, cells);
    }
    return cells;
  }

  /**
   * Trials without histograms, parsed once per store: rows are never updated in place (a trial
   * recorded again is a new row, which may reuse the rowid of the one it replaced, but not its
   * finishing time), so a view read again — as an adaptive run compares after every round —
   * parses only the trials recorded since. The trials returned are shared: treat them as read-only.
   */
  private trialsWithoutHistograms(where: string, params: unknown[]): Trial[] {
    // One read transaction: the rows listed are the rows fetched, whatever another process writes.
    return this.db.transaction(() => this.readTrialsWithoutHistograms(where, params))();
  }

  private readTrialsWithoutHistograms(where: string, params: unknown[]): Trial[] {
    // Ordered here: ORDER BY rowid would make SQLite sort them anyway, after reading the table.
    const keys = (
      this.db
        .prepare(`SELECT rowid, finished_at FROM trials WHERE ${where}`)
        .raw(true)
        .all(...params) as Array<[number, string]>
    ).sort((a, b) => a[0] - b[0]);
    const known = (rowid: number, finishedAt: string) =>
      this.parsedTrials.get(rowid)?.finishedAt === finishedAt;
    const missing = keys.filter(([rowid, finishedAt]) => !known(rowid, finishedAt)).map(([rowid]) => rowid);
    if (missing.length > 0) {
      // None parsed yet (a command's first read): the rows by the same condition, no list of ids.
      const rows = (
        missing.length === keys.length
          ? this.db.prepare(`SELECT rowid, ${TRIAL_COLUMNS} FROM trials WHERE ${where}`).all(...params)
          : this.db
              .prepare(
                `SELECT rowid, ${TRIAL_COLUMNS} FROM trials WHERE rowid IN (SELECT value FROM json_each(?))`,
              )
              .all(JSON.stringify(missing))
      ) as Array<TrialRow & { rowid: number }>;
      for (const row of rows) this.parsedTrials.set(row.rowid, trialFromRow(row));
    }
    return keys.map(([rowid]) => this.parsedTrials.get(rowid)!);
  }

  close(): void {
    this.db.close();
  }
}
