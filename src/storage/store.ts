// The SQLite store: one row per trial, written the moment the trial finishes, so an interrupted
// run loses nothing it completed. The schema is versioned with PRAGMA user_version.

import { statfsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import type { Cell, Trial } from "../domain/cell.js";
import { InputError } from "../errors.js";

export const SCHEMA_VERSION = 1;

/** Free space a run wants on the store's filesystem before it starts (trials with histograms add up). */
const MIN_FREE_BYTES = 64 * 1024 * 1024;

export type RunStatus = "running" | "completed" | "failed" | "interrupted";

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

const MIGRATIONS: Record<number, string> = {
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

export class Store {
  private readonly db: Database.Database;

  constructor(readonly path: string) {
    try {
      this.db = new Database(path);
    } catch (error) {
      throw new InputError(`cannot open store ${path}: ${(error as Error).message}`);
    }
    // WAL + synchronous=NORMAL: each committed trial survives a killed process.
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("busy_timeout = 5000");
    this.migrate();
  }

  private migrate(): void {
    const current = this.db.pragma("user_version", { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new InputError(
        `store ${this.path} has schema version ${current}, newer than this vnetbench's ${SCHEMA_VERSION}: upgrade vnetbench`,
      );
    }
    for (let version = current + 1; version <= SCHEMA_VERSION; version++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[version]!);
        this.db.pragma(`user_version = ${version}`);
      })();
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
    const fs = statfsSync(dirname(resolve(this.path)));
    const free = fs.bavail * fs.bsize;
    if (free < minFreeBytes)
      throw new InputError(
        `store ${this.path}: only ${Math.round(free / 1024)} KiB free on its filesystem ` +
          `(a run needs at least ${minFreeBytes / 1024 / 1024} MiB): free some space or use --db elsewhere`,
      );
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

  /** Commits one finished trial; a repeated (run, cell, trial) replaces the earlier failed attempt. */
  recordTrial(runId: string, trial: Trial): void {
    const { cellKey, trial: number, status, startedAt, finishedAt, samples, error, ...extra } = trial;
    this.db
      .prepare(
        `INSERT OR REPLACE INTO trials (run_id, cell_key, trial, status, started_at, finished_at, samples, error, extra)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        runId,
        cellKey,
        number,
        status,
        startedAt,
        finishedAt,
        JSON.stringify(samples),
        error ?? null,
        JSON.stringify(extra),
      );
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

  getRun(reference: string): StoredRun {
    const id = this.resolveRunId(reference);
    const run = runFromRow(this.db.prepare("SELECT * FROM runs WHERE id = ?").get(id) as RunRow);
    const cells = (
      this.db
        .prepare("SELECT key, setup, traffic FROM cells WHERE run_id = ? ORDER BY position")
        .all(id) as Array<{
        key: string;
        setup: string;
        traffic: string;
      }>
    ).map(
      (row) => ({ key: row.key, setup: JSON.parse(row.setup), traffic: JSON.parse(row.traffic) }) as Cell,
    );
    const results = (
      this.db.prepare("SELECT * FROM trials WHERE run_id = ? ORDER BY rowid").all(id) as Array<{
        cell_key: string;
        trial: number;
        status: Trial["status"];
        started_at: string;
        finished_at: string;
        samples: string;
        error: string | null;
        extra: string;
      }>
    ).map(
      (row): Trial => ({
        cellKey: row.cell_key,
        trial: row.trial,
        status: row.status,
        startedAt: row.started_at,
        finishedAt: row.finished_at,
        samples: JSON.parse(row.samples),
        ...(row.error ? { error: row.error } : {}),
        ...JSON.parse(row.extra),
      }),
    );
    return { ...run, cells, results };
  }

  close(): void {
    this.db.close();
  }
}
