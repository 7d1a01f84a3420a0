// Executes a run's plan: every trial of every cell, in order, each committed to the store the
// moment it ends. Progress goes out as events; nothing here prints.

import { randomBytes } from "node:crypto";
import type { HypervisorTasks } from "../analysis/cpu-components.js";
import type { TrialDomainStats } from "../domain/cell.js";
import { type Cell, isTrusted, type Trial } from "../domain/cell.js";
import type { CpuSetupState, GuestSetupState, HypervisorSetupState } from "../domain/cpu-setup.js";
import type { SetupSelection } from "../domain/setup.js";
import { type DriverName, ipOf } from "../domain/traffic.js";
import {
  type Driver,
  type DriverSession,
  type GeneratorProcess,
  pathOverIp,
  type TrafficPath,
} from "../drivers/driver.js";
import type { Endpoint } from "../endpoints/endpoint.js";
import { InputError, InterruptedError, RunError } from "../errors.js";
import { type ScheduledTrial, scheduleTrials, type TrialOrder } from "../plan/order.js";
import { refreshCellSummary } from "../report/run-view.js";
import type { RunRecord, RunStatus, Store } from "../storage/store.js";
import { fitsBeforeCap, msLeft, type RunCap } from "./max-time.js";
import { currentOwner, ownerAlive, type RunOwner } from "./owner.js";
import { peakSearchSeconds, runPeakTrial } from "./peak.js";
import { describeOtherLoad, missingData, otherLoadVerdict, trialFlags } from "./trial-checks.js";
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
  /** An adaptive run's next round: the cells still open (of `cells`), given one more trial each. */
  | { type: "round"; runId: string; round: number; open: Cell[]; cells: number }
  | { type: "warning"; message: string }
  /** Something the user should know before the trials start (e.g. the design's power). */
  | { type: "note"; message: string }
  | { type: "run-end"; runId: string; status: RunStatus };

/** What a trial's setup may depend on: the generator's processes of the session it runs in. */
export interface TrialContext {
  generator: readonly GeneratorProcess[];
}

/** What a trial's options read back as, stored with it. */
export interface TrialSetupState {
  cpuSetup?: CpuSetupState;
  hypervisorSetup?: HypervisorSetupState;
  guestSetup?: GuestSetupState;
}

/** More trials after the scheduled ones, round by round (an adaptive run; src/run/adaptive-run.ts). */
export interface RoundSource {
  /** The next round: its number, the cells still open, and the trials to run; null when none is due. */
  next(): { round: number; open: readonly string[]; trials: ScheduledTrial[] } | null;
  /** Once every round has run: the closing notes. */
  finish(): string[];
}

/** Puts a cell's setup options in place before each of its trials, and undoes them at the end. */
export interface SetupController {
  /**
   * Before the cell's session is taken: restarts guests if the cell needs another machine. True
   * when it did (agents inside them are gone: every session is opened again).
   */
  beforeSession?(cell: Cell): Promise<boolean>;
  /** Applies what differs from the previous trial; returns the verified state stored with the trial. */
  enter(cell: Cell, context: TrialContext): Promise<TrialSetupState>;
  /** Undoes every option (at the end of the run). */
  finish(): Promise<void>;
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
  /** libvirt domains' `virsh domstats` around each trial (stored as `trial.domstats`). */
  domainStats?: () => Promise<() => Promise<Record<string, TrialDomainStats>>>;
  onEvent?(event: RunEvent): void;
  signal?: AbortSignal;
  /** The order of the trials (default sequential); the same order and seed give the same schedule on resume. */
  order?: { mode: TrialOrder; seed: number; groups?: readonly number[] };
  setups?: SetupController;
  /** Idle seconds before a trial (not the first): between trials, and when the cell changes. */
  pauses?: { betweenTrialsS: number; betweenCellsS: number };
  /** Stop at the first failed trial (default: record it failed and go on with the rest). */
  failFast?: boolean;
  /** Why a cell cannot run at all (checked before the first trial), or null. */
  cellUnsupported?(cell: Cell): string | null;
  /** Rounds of trials after the scheduled ones (an adaptive run). */
  rounds?: RoundSource;
  /** `--max-time`: no trial starts that would not end before it; the run is then cut short. */
  cap?: RunCap;
  /** `--max-other-load`: flag a trial whose other processes used more than this share of the host's CPU. */
  maxOtherLoad?: number;
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
 * How long a trial's measurement may take before the runner stops it, whatever its driver: twice
 * what it should take plus two minutes. Drivers bound their own waits more tightly (an agent's
 * answer, a tool's run); this catches any that does not.
 */
function trialTimeLimitMs(cell: Cell): number {
  return Math.round(expectedTrialS(cell) * 2000) + 120_000;
}

/**
 * Runs every trial of the stored run that has not completed yet (all of them for a new run; the
 * rest for a resumed one). Each cell is checked against its driver before the first trial; a cell
 * that cannot run, and any trial that fails, is stored failed with its reason and the run goes on
 * (unless `failFast`). A run that reaches its `cap` resolves `cut-short`. Resolves with the final status; rejects with a RunError when every trial
 * failed or `failFast` stopped it, and with an InterruptedError when the signal aborted it.
 */
export async function executeRun(runId: string, deps: RunDependencies): Promise<RunStatus> {
  const { store } = deps;
  const stored = store.getRun(runId);
  const owner = stored.metadata.owner as RunOwner | undefined;
  if (stored.status === "running" && owner && owner.pid !== process.pid && ownerAlive(owner))
    throw new InputError(
      `run ${runId} is still running (pid ${owner.pid} on ${owner.host}): wait for it, or stop it first`,
    );
  // Who runs it now: a run whose process vanishes (SIGKILL) reads `interrupted` afterwards.
  store.setMetadataField(runId, "owner", currentOwner());
  // A run cut short before and resumed now is no longer cut short (unless it is again).
  if (stored.metadata.cutShort) store.setMetadataField(runId, "cutShort", null);
  const completed = new Set(
    stored.results
      .filter((trial) => trial.status === "completed")
      .map((trial) => `${trial.cellKey}#${trial.trial}`),
  );
  const todo = scheduleTrials(
    stored.cells.length,
    stored.trials,
    deps.order?.mode,
    deps.order?.seed,
    deps.order?.groups,
  )
    .map(({ cellIndex, trial }) => ({ cell: stored.cells[cellIndex]!, cellIndex, trial }))
    .filter((item) => !completed.has(`${item.cell.key}#${item.trial}`));
  let total = stored.cells.length * stored.trials;
  const emit = (event: RunEvent) => deps.onEvent?.(event);
  /** Appends the next round of an adaptive run to the trials to do; false when none is due. */
  const nextRound = (): boolean => {
    const round = deps.rounds?.next();
    if (!round || round.trials.length === 0) return false;
    const open = new Set(round.open);
    emit({
      type: "round",
      runId,
      round: round.round,
      open: stored.cells.filter((cell) => open.has(cell.key)),
      cells: stored.cells.length,
    });
    todo.push(
      ...round.trials.map(({ cellIndex, trial }) => ({ cell: stored.cells[cellIndex]!, cellIndex, trial })),
    );
    total += round.trials.length;
    return true;
  };
  emit({ type: "run-start", runId, cells: stored.cells.length, trials: total, alreadyDone: completed.size });
  store.setRunStatus(runId, "running", null);
  // A resumed adaptive run may have only rounds left.
  if (todo.length === 0) nextRound();

  const sessions = new Map<string, DriverSession>();
  let done = completed.size;
  let spentS = 0;
  let timed = 0;
  const failures: string[] = [];
  try {
    const unrunnable = await preflight(todo, deps);
    for (const [key, reason] of unrunnable)
      emit({ type: "warning", message: `cell ${key} cannot run, its trials are stored failed: ${reason}` });
    for (let position = 0; position < todo.length || nextRound(); position++) {
      const item = todo[position]!;
      if (deps.signal?.aborted) throw new InterruptedError(runId);
      const refused = unrunnable.get(item.cell.key);
      const previous = todo[position - 1];
      const remaining = todo.slice(position);
      const nextMs =
        ((previous && !refused ? pauseBefore(previous.cellIndex !== item.cellIndex, deps) : 0) +
          (timed > 0 ? spentS / timed : expectedTrialS(item.cell))) *
        1000;
      if (!refused && !fitsBeforeCap(deps.cap, performance.now(), nextMs))
        return cutShort(runId, remaining.length, deps);
      if (previous && !refused)
        await pause(pauseBefore(previous.cellIndex !== item.cellIndex, deps), deps.signal);
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
      const result = refused
        ? failedTrial(item.cell, item.trial, new Date().toISOString(), `cannot run: ${refused}`)
        : await runOneTrial(item.cell, item.trial, sessions, deps);
      if (deps.signal?.aborted && result.status === "failed") throw new InterruptedError(runId);
      // A trial the cap stopped midway measured nothing whole: not stored, the resume runs it.
      if (result.status === "failed" && deps.cap && msLeft(deps.cap, performance.now()) === 0)
        return cutShort(runId, remaining.length, deps);
      store.recordTrial(runId, result);
      refreshCellSummary(store, runId, item.cell);
      if (!refused) {
        spentS += (Date.now() - began) / 1000;
        timed++;
      }
      if (result.status === "completed") done++;
      emit({ type: "trial-end", runId, cell: item.cell, cellIndex: item.cellIndex, result, done, total });
      if (result.status === "failed") {
        const where = `cell ${item.cellIndex + 1} (${item.cell.key}) trial ${item.trial}: ${result.error}`;
        if (deps.failFast) throw new RunError(where);
        failures.push(where);
      }
    }
    const trials = store.getRun(runId).results;
    if (trials.length > 0 && !trials.some((trial) => trial.status === "completed"))
      throw new RunError(
        `every trial failed (${trials.length}); the first: ${failures[0] ?? trials[0]!.error}`,
      );
    store.setRunStatus(runId, "completed", new Date().toISOString());
    for (const message of deps.rounds?.finish() ?? []) emit({ type: "note", message });
    if (failures.length > 0)
      emit({
        type: "warning",
        message:
          `${failures.length} trial(s) failed and are left out of the statistics ` +
          `(\`vnetbench show ${runId}\` lists why; \`vnetbench run --resume ${runId}\` retries them)`,
      });
    const untrusted = trials.filter((trial) => trial.status === "completed" && !isTrusted(trial)).length;
    if (untrusted > 0)
      emit({
        type: "warning",
        message: `${untrusted} trial(s) are flagged and left out of the statistics (\`vnetbench show ${runId}\` lists why)`,
      });
    emit({ type: "run-end", runId, status: "completed" });
    return "completed";
  } catch (error) {
    const status: RunStatus = deps.signal?.aborted ? "interrupted" : "failed";
    store.setRunStatus(runId, status, new Date().toISOString());
    emit({ type: "run-end", runId, status });
    if (status === "interrupted") throw new InterruptedError(runId);
    throw error instanceof RunError ? error : new RunError((error as Error).message);
  } finally {
    // Options are undone while the generator still runs (its affinity is restored, not lost).
    await deps.setups?.finish().catch((error: Error) => emit({ type: "warning", message: error.message }));
    await Promise.allSettled([...sessions.values()].map((session) => session.close()));
  }
}

/**
 * Ends the run at its `--max-time` cap: the trials finished are stored, the run reads `cut-short`
 * (with `metadata.cutShort`), and `run --resume` continues from the first trial left.
 */
function cutShort(runId: string, trialsLeft: number, deps: RunDependencies): RunStatus {
  const at = new Date().toISOString();
  deps.store.setMetadataField(runId, "cutShort", { maxTimeS: deps.cap?.maxTimeS, at, trialsLeft });
  deps.store.setRunStatus(runId, "cut-short", at);
  deps.onEvent?.({
    type: "warning",
    message:
      `--max-time ${deps.cap?.maxTimeS} s reached: run cut short with ${trialsLeft} trial(s) left ` +
      `(\`vnetbench run --resume ${runId}\` continues it)`,
  });
  deps.onEvent?.({ type: "run-end", runId, status: "cut-short" });
  return "cut-short";
}

/**
 * Before the first trial: each cell against its driver's capabilities, and each driver's tool on
 * each path (binary present, version). Returns the cells that cannot run, with why.
 */
async function preflight(
  todo: ReadonlyArray<{ cell: Cell }>,
  deps: RunDependencies,
): Promise<Map<string, string>> {
  const refused = new Map<string, string>();
  const checked = new Map<string, string | null>();
  for (const { cell } of todo) {
    if (refused.has(cell.key) || deps.signal?.aborted) continue;
    const why = deps.cellUnsupported?.(cell) ?? null;
    const key = sessionKeyOf(cell);
    if (!why && !checked.has(key)) {
      try {
        await deps.driverFor(cell.traffic.driver).check(await pathOf(cell, deps));
        checked.set(key, null);
      } catch (error) {
        checked.set(key, (error as Error).message);
      }
    }
    const reason = why ?? checked.get(key);
    if (reason) refused.set(cell.key, reason);
  }
  return refused;
}

function sessionKeyOf(cell: Cell): string {
  return `${cell.traffic.driver}|${cell.setup.network}|ip${ipOf(cell.traffic)}`;
}

/** The cell's path, with the addresses of its IP version. */
async function pathOf(cell: Cell, deps: RunDependencies): Promise<TrafficPath> {
  return pathOverIp(await deps.pathFor(cell.setup), ipOf(cell.traffic));
}

async function openSession(cell: Cell, deps: RunDependencies): Promise<DriverSession> {
  const driver = deps.driverFor(cell.traffic.driver);
  const path = await pathOf(cell, deps);
  await driver.check(path);
  return driver.prepare(path);
}

function failedTrial(cell: Cell, trial: number, startedAt: string, error: string): Trial {
  return {
    cellKey: cell.key,
    trial,
    status: "failed",
    startedAt,
    finishedAt: new Date().toISOString(),
    samples: [],
    error,
  };
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

/**
 * Runs a trial's measurement under its time limit and the run's cap: past either, its driver is
 * told to stop (the signal) and the trial fails with what timed out, whether or not the driver
 * listens. The user's interrupt reaches the driver through the same signal.
 */
async function bounded<T>(
  cell: Cell,
  deps: RunDependencies,
  measure: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const limitMs = trialTimeLimitMs(cell);
  const capMs = msLeft(deps.cap, performance.now());
  const controller = new AbortController();
  const expired = new Promise<never>((_, reject) =>
    controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true }),
  );
  expired.catch(() => {});
  const timer = setTimeout(
    () =>
      controller.abort(
        new RunError(
          capMs < limitMs
            ? `stopped at the run's --max-time cap (${deps.cap?.maxTimeS} s)`
            : `the trial did not end within ${Math.round(limitMs / 1000)} s (twice its expected time plus 120 s): stopped`,
        ),
      ),
    Math.min(limitMs, capMs),
  );
  const signal = deps.signal ? AbortSignal.any([deps.signal, controller.signal]) : controller.signal;
  try {
    return await Promise.race([measure(signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

async function runOneTrial(
  cell: Cell,
  trial: number,
  sessions: Map<string, DriverSession>,
  deps: RunDependencies,
): Promise<Trial> {
  const startedAt = new Date().toISOString();
  const sessionKey = sessionKeyOf(cell);
  try {
    if (await deps.setups?.beforeSession?.(cell)) {
      const stale = [...sessions.values()];
      sessions.clear();
      await Promise.allSettled(stale.map((session) => session.close()));
    }
    let session = sessions.get(sessionKey);
    if (!session) {
      session = await openSession(cell, deps);
      sessions.set(sessionKey, session);
    }
    const running = session;
    const { hosts } = await deps.pathFor(cell.setup);
    const generator = running.generatorProcesses?.() ?? [];
    const setupState = (await deps.setups?.enter(cell, { generator })) ?? {};
    const hypervisor = (await deps.hypervisorTasks?.()) ?? null;
    const domainStatsAfter = await deps.domainStats?.();
    const wallStart = Date.now();
    const monotonicStart = performance.now();
    const measured = await bounded(cell, deps, (signal) =>
      // A cell at rate `peak` is one search: its trial carries the latency–load curve and the peak.
      cell.traffic.rate === "peak"
        ? runPeakTrial(running, cell.traffic, {
            host: deps.host ?? null,
            hosts,
            direction: cell.setup.direction,
            signal,
          })
        : measureWithCpu(
            cell.traffic,
            {
              host: deps.host ?? null,
              generator,
              hypervisor,
              hosts,
            },
            () => running.runTrial(cell.traffic, { direction: cell.setup.direction, signal }),
          ),
    );
    const domstats = await domainStatsAfter?.();
    const empty = missingData(measured.samples);
    if (empty) throw new RunError(empty);
    const flags = trialFlags({
      traffic: cell.traffic,
      samples: measured.samples,
      cpu: measured.cpu,
      wallMs: Date.now() - wallStart,
      monotonicMs: performance.now() - monotonicStart,
      maxOtherLoad: deps.maxOtherLoad,
    });
    const other = measured.cpu?.otherLoad;
    if (other && otherLoadVerdict(other.fraction, deps.maxOtherLoad) === "warn")
      deps.onEvent?.({
        type: "warning",
        message: `cell ${cell.key} trial ${trial}: ${describeOtherLoad(other)} (kept: --max-other-load flags such trials)`,
      });
    return {
      cellKey: cell.key,
      trial,
      status: "completed",
      startedAt,
      finishedAt: new Date().toISOString(),
      ...measured,
      ...setupState,
      ...(domstats ? { domstats } : {}),
      ...(flags.length > 0 ? { flags } : {}),
    };
  } catch (error) {
    // A session that failed once is not trusted for the next trial (e.g. its agent died).
    const broken = sessions.get(sessionKey);
    sessions.delete(sessionKey);
    await broken?.close().catch(() => {});
    return failedTrial(cell, trial, startedAt, (error as Error).message);
  }
}
