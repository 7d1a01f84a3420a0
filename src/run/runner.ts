// Executes a run's plan: every trial of every cell, in order, each committed to the store the
// moment it ends. Progress goes out as events; nothing here prints.

import { randomBytes } from "node:crypto";
import type { HypervisorTasks } from "../analysis/cpu-components.js";
import type { Cell, Trial } from "../domain/cell.js";
import type { CpuSetupState } from "../domain/cpu-setup.js";
import type { SetupSelection } from "../domain/setup.js";
import type { DriverName } from "../domain/traffic.js";
import type { Driver, DriverSession, TrafficPath } from "../drivers/driver.js";
import type { Endpoint } from "../endpoints/endpoint.js";
import { RunError } from "../errors.js";
import { scheduleTrials, type TrialOrder } from "../plan/order.js";
import type { RunRecord, RunStatus, Store } from "../storage/store.js";
import { peakSearchSeconds, runPeakTrial } from "./peak.js";
import { measureWithCpu } from "./trial-cpu.js";

export type RunEvent =
  | { type: "run-start"; runId: string; cells: number; trials: number; alreadyDone: number }
  | {
      type: "trial-start";
      runId: string;
      cell: Cell;
      cellIndex: number;
      trial: number;
      done: number;
      total: number;
      etaS: number;
    }
  | {
      type: "trial-end";
      runId: string;
      cell: Cell;
      cellIndex: number;
      result: Trial;
      done: number;
      total: number;
    }
  | { type: "warning"; message: string }
  | { type: "run-end"; runId: string; status: RunStatus };

/** What a trial's setup may depend on: the generator's processes of the session it runs in. */
export interface TrialContext {
  generatorPids: readonly number[];
}

/** Puts a cell's setup options in place before each of its trials, and undoes them at the end. */
export interface SetupController {
  /** Applies what differs from the previous trial; returns the verified state stored with the trial. */
  enter(cell: Cell, context: TrialContext): Promise<{ cpuSetup?: CpuSetupState }>;
  close(): Promise<void>;
}

export interface RunDependencies {
  store: Store;
  driverFor(name: DriverName): Driver;
  /** Where a setup's traffic flows (a lab may be brought up for it). */
  pathFor(setup: SetupSelection): Promise<TrafficPath>;
  /** The host whose CPU each trial accounts, or null. */
  host?: Endpoint | null;
  /** The qemu processes and vCPU threads on the host, read before each trial (guests may restart). */
  hypervisorTasks?: () => Promise<HypervisorTasks | null>;
  onEvent?(event: RunEvent): void;
  signal?: AbortSignal;
  /** The order of the trials (default sequential); the same order and seed give the same schedule on resume. */
  order?: { mode: TrialOrder; seed: number };
  setups?: SetupController;
  /** Idle seconds before a trial (not the first): between trials, and when the cell changes. */
  pauses?: { betweenTrialsS: number; betweenCellsS: number };
}

/** Sortable, readable and unique: 20261126-151203-3f9a. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${stamp}-${randomBytes(2).toString("hex")}`;
}

export interface NewRun {
  cells: Cell[];
  trials: number;
  label: string;
  tester: string;
  command: string[];
  metadata: Record<string, unknown>;
}

export function createRun(store: Store, plan: NewRun): RunRecord {
  const record: RunRecord = {
    id: newRunId(),
    createdAt: new Date().toISOString(),
    finishedAt: null,
    status: "running",
    label: plan.label,
    tester: plan.tester,
    command: plan.command,
    trials: plan.trials,
    metadata: plan.metadata,
  };
  store.createRun(record, plan.cells);
  return record;
}

/** Seconds one trial is expected to take before any has been timed. */
function expectedTrialS(cell: Cell): number {
  if (cell.traffic.rate === "peak") return peakSearchSeconds(cell.traffic, 0.3);
  return cell.traffic.durationS + cell.traffic.warmupS + 0.3;
}

/**
 * Runs every trial of the stored run that has not completed yet (all of them for a new run; the
 * rest for a resumed one). Resolves with the final status; a failing trial is stored as failed,
 * ends the run and rejects with a RunError.
 */
export async function executeRun(runId: string, deps: RunDependencies): Promise<RunStatus> {
  const { store } = deps;
  const stored = store.getRun(runId);
  const completed = new Set(
    stored.results
      .filter((trial) => trial.status === "completed")
      .map((trial) => `${trial.cellKey}#${trial.trial}`),
  );
  const todo = scheduleTrials(stored.cells.length, stored.trials, deps.order?.mode, deps.order?.seed)
    .map(({ cellIndex, trial }) => ({ cell: stored.cells[cellIndex]!, cellIndex, trial }))
    .filter((item) => !completed.has(`${item.cell.key}#${item.trial}`));
  const total = stored.cells.length * stored.trials;
  const emit = (event: RunEvent) => deps.onEvent?.(event);
  emit({ type: "run-start", runId, cells: stored.cells.length, trials: total, alreadyDone: completed.size });
  store.setRunStatus(runId, "running", null);

  const sessions = new Map<string, DriverSession>();
  let done = completed.size;
  let spentS = 0;
  let timed = 0;
  try {
    for (const [position, item] of todo.entries()) {
      if (deps.signal?.aborted) throw new RunError("run interrupted");
      const previous = todo[position - 1];
      if (previous) await pause(pauseBefore(previous.cellIndex !== item.cellIndex, deps), deps.signal);
      const remaining = todo.slice(position);
      const pausesS = (remaining.length - 1) * (deps.pauses?.betweenTrialsS ?? 0);
      const etaS =
        pausesS +
        (timed > 0
          ? (spentS / timed) * remaining.length
          : remaining.reduce((sum, next) => sum + expectedTrialS(next.cell), 0));
      emit({
        type: "trial-start",
        runId,
        cell: item.cell,
        cellIndex: item.cellIndex,
        trial: item.trial,
        done,
        total,
        etaS,
      });
      const began = Date.now();
      const result = await runOneTrial(item.cell, item.trial, sessions, deps);
      store.recordTrial(runId, result);
      spentS += (Date.now() - began) / 1000;
      timed++;
      if (result.status === "completed") done++;
      emit({ type: "trial-end", runId, cell: item.cell, cellIndex: item.cellIndex, result, done, total });
      if (result.status === "failed") {
        throw new RunError(
          `cell ${item.cellIndex + 1} (${item.cell.key}) trial ${item.trial}: ${result.error}`,
        );
      }
    }
    store.setRunStatus(runId, "completed", new Date().toISOString());
    emit({ type: "run-end", runId, status: "completed" });
    return "completed";
  } catch (error) {
    const status: RunStatus = deps.signal?.aborted ? "interrupted" : "failed";
    store.setRunStatus(runId, status, new Date().toISOString());
    emit({ type: "run-end", runId, status });
    throw error instanceof RunError ? error : new RunError((error as Error).message);
  } finally {
    // Options are undone while the generator still runs (its affinity is restored, not lost).
    await deps.setups?.close().catch((error: Error) => emit({ type: "warning", message: error.message }));
    await Promise.allSettled([...sessions.values()].map((session) => session.close()));
  }
}

function pauseBefore(cellChanges: boolean, deps: RunDependencies): number {
  const { betweenTrialsS = 0, betweenCellsS = 0 } = deps.pauses ?? {};
  return cellChanges ? Math.max(betweenTrialsS, betweenCellsS) : betweenTrialsS;
}

function pause(seconds: number, signal: AbortSignal | undefined): Promise<void> {
  if (seconds <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, seconds * 1000);
    signal?.addEventListener("abort", done, { once: true });
  });
}

async function runOneTrial(
  cell: Cell,
  trial: number,
  sessions: Map<string, DriverSession>,
  deps: RunDependencies,
): Promise<Trial> {
  const startedAt = new Date().toISOString();
  const sessionKey = `${cell.traffic.driver}|${cell.setup.network}`;
  try {
    let session = sessions.get(sessionKey);
    if (!session) {
      const driver = deps.driverFor(cell.traffic.driver);
      const path = await deps.pathFor(cell.setup);
      await driver.check(path);
      session = await driver.prepare(path);
      sessions.set(sessionKey, session);
    }
    const running = session;
    const setupState =
      (await deps.setups?.enter(cell, { generatorPids: running.generatorPids?.() ?? [] })) ?? {};
    // A cell at rate `peak` is one search: its trial carries the latency–load curve and the peak.
    const measured =
      cell.traffic.rate === "peak"
        ? await runPeakTrial(running, cell.traffic, {
            host: deps.host ?? null,
            direction: cell.setup.direction,
            signal: deps.signal,
          })
        : await measureWithCpu(
            cell.traffic,
            {
              host: deps.host ?? null,
              generatorPids: running.generatorPids?.() ?? [],
              hypervisor: (await deps.hypervisorTasks?.()) ?? null,
            },
            () => running.runTrial(cell.traffic, { direction: cell.setup.direction, signal: deps.signal }),
          );
    return {
      cellKey: cell.key,
      trial,
      status: "completed",
      startedAt,
      finishedAt: new Date().toISOString(),
      ...measured,
      ...setupState,
    };
  } catch (error) {
    // A session that failed once is not trusted for the next trial (e.g. its agent died).
    const broken = sessions.get(sessionKey);
    sessions.delete(sessionKey);
    await broken?.close().catch(() => {});
    return {
      cellKey: cell.key,
      trial,
      status: "failed",
      startedAt,
      finishedAt: new Date().toISOString(),
      samples: [],
      error: (error as Error).message,
    };
  }
}
