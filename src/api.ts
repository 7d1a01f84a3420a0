// The operations the CLI offers, as functions another program can call.

import { existsSync } from "node:fs";
import { hostname } from "node:os";
import type { CurvePoint } from "./analysis/peak-search.js";
import { powerFromHistory } from "./compare/power-history.js";
import { resolveReference } from "./compare/select.js";
import type { Cell } from "./domain/cell.js";
import { autoDriver, driverFor, whyCellUnsupported, whyUnsupported } from "./drivers/registry.js";
import { loadEndpointsFile } from "./endpoints/endpoints-file.js";
import { LocalEndpoint } from "./endpoints/local.js";
import { InputError } from "./errors.js";
import { assertLabFree, dropAbandonedLock } from "./labs/lab-lock.js";
import { labDown } from "./labs/netns-lab.js";
import { parseGuestKind, readQemuLabState } from "./labs/qemu-lab.js";
import { validateLabName } from "./labs/topology.js";
import {
  guestFacts,
  loadMatrix,
  localProbeDirectory,
  type MatrixPlan,
  planMatrix,
  probeCpuOptions,
  probeGuestOptions,
} from "./matrix/plan.js";
import { resumeMatrixRun, revertLabLeftovers, runMatrixFile } from "./matrix/run.js";
import {
  cellsFromFlags,
  flagName,
  setupsFromFlags,
  type TrafficFlags,
  timingFromFlags,
} from "./plan/flags.js";
import { checkName } from "./plan/names.js";
import { QUICK_TRIALS, quickCells } from "./plan/quick.js";
import { loadRunView, type RunView } from "./report/run-view.js";
import {
  type AdaptiveSettings,
  adaptiveNote,
  adaptiveRounds,
  baselineMachineWarning,
  checkBaseline,
  defaultMaxTrials,
} from "./run/adaptive-run.js";
import { collectFingerprint } from "./run/fingerprint.js";
import { parseDuration, type RunCap, runCap } from "./run/max-time.js";
import { defaultTester, localHostMetadata } from "./run/metadata.js";
import {
  LOOPBACK_SETUP,
  openPaths,
  type PathOptions,
  quickSetupNames,
  validateSetupNames,
} from "./run/paths.js";
import { type PeakFlags, peakCellFromFlags, searchOptionsFromFlags } from "./run/peak-plan.js";
import { executePeakRun } from "./run/peak-run.js";
import { createRun, executeRun, type RunEvent } from "./run/runner.js";
import { parseLoadLimit } from "./run/trial-checks.js";
import type { Store } from "./storage/store.js";
import { DEFAULT_DB, openExistingStore, openStore } from "./views.js";

export interface RunOptions extends TrafficFlags {
  db?: string;
  /** A matrix file (YAML) to run instead of flags. */
  matrix?: string;
  quick?: boolean;
  trials?: string | number;
  tester?: string;
  label?: string;
  /** Run on this existing lab (from `vnetbench lab up`) instead of one brought up for the run. */
  lab?: string;
  /** Run between the machines an endpoints file describes. */
  endpoints?: string;
  /** The guests of the lab a run brings up: netns (default) or qemu. */
  guests?: string;
  /** The command line recorded with the run. */
  command?: string[];
  onEvent?: (event: RunEvent) => void;
  signal?: AbortSignal;
  /** Stop at the first failed trial instead of recording it and going on (`--fail-fast`). */
  failFast?: boolean;
  /**
   * A baseline run the candidate knows (`--baseline`): settled cells stop after their initial
   * trials, open ones get one more trial a round up to `maxTrials`; `trials: "auto"` grows each
   * cell until its judged metrics' intervals are narrower than the noise threshold.
   */
  baseline?: string;
  /** The most trials a cell gets in a run with a baseline (default twice the initial trials). */
  maxTrials?: string | number;
  /** `--max-time`: a duration (90s, 10m, 2h) the run ends within, cut short and resumable. */
  maxTime?: string;
  /** `--max-other-load`: flag trials whose other processes used more of the host's CPU (e.g. 20%). */
  maxOtherLoad?: string;
}

export interface PlannedRun {
  cells: Cell[];
  trials: number;
  skipped: Array<{ combination: string; reason: string }>;
  /** Flags that apply to some cells only, named once each. */
  warnings: string[];
}

function parseTrials(value: string | number | undefined, fallback: number, flag = "--trials"): number {
  if (value === undefined || value === AUTO_TRIALS) return fallback;
  const trials = Number(value);
  if (!Number.isInteger(trials) || trials < 1 || trials > 1000) {
    throw new InputError(`${flag}: '${value}' is not a whole number of trials between 1 and 1000`);
  }
  return trials;
}

/** `--trials auto`: grow each cell against the baseline until its intervals are narrow enough. */
const AUTO_TRIALS = "auto";

/** `--baseline`, `--max-trials` and `--trials auto` checked together before the store changes. */
function checkAdaptiveFlags(options: RunOptions): void {
  if (options.baseline !== undefined) return;
  if (options.trials === AUTO_TRIALS)
    throw new InputError(
      "--trials auto needs --baseline RUN: the intervals it narrows are those of the comparison with it",
    );
  if (options.maxTrials !== undefined)
    throw new InputError("--max-trials needs --baseline RUN: only a run that knows its baseline adds trials");
}

/**
 * The adaptive design of a run with `--baseline`: the baseline found in the store and checked
 * against the run's cells (the same keys), the initial trials and the cap. Undefined without one.
 */
function adaptiveFor(
  store: Store,
  options: RunOptions,
  cells: readonly Cell[],
  initialTrials: number,
): AdaptiveSettings | undefined {
  if (options.baseline === undefined) return undefined;
  const baseline = store.getRun(resolveReference(store, options.baseline));
  const maxTrials = parseTrials(options.maxTrials, defaultMaxTrials(initialTrials), "--max-trials");
  const settings: AdaptiveSettings = {
    baseline: baseline.id,
    mode: options.trials === AUTO_TRIALS ? "precision" : "regression",
    initialTrials,
    maxTrials,
  };
  checkBaseline(baseline, cells, settings);
  return settings;
}

/** Flags that choose the traffic; without any, a run measures the quick matrix. */
const TRAFFIC_CHOICE = [
  "protocol",
  "pattern",
  "size",
  "responseSize",
  "rate",
  "driver",
  "flows",
  "ip",
] as const;

function isQuick(options: RunOptions): boolean {
  const given = TRAFFIC_CHOICE.filter((flag) => options[flag] !== undefined);
  if (options.quick === true && given.length > 0)
    throw new InputError(
      `${flagName(given[0]!)} cannot be combined with --quick: the quick matrix sets its traffic (leave out --quick to choose it)`,
    );
  return given.length === 0;
}

/** Expands run options into cells without running anything. */
export function planRun(options: RunOptions): PlannedRun {
  const quick = isQuick(options);
  const setupNames = options.setup
    ? options.setup.split(",").map((name) => name.trim())
    : quick
      ? quickSetupNames({ lab: options.lab, endpointsFile: options.endpoints })
      : [LOOPBACK_SETUP];
  validateSetupNames(setupNames);
  const setups = setupsFromFlags(setupNames, options.direction);
  if (quick) {
    const cells = quickCells(setups, timingFromFlags(options));
    return { cells, trials: parseTrials(options.trials, QUICK_TRIALS), skipped: [], warnings: [] };
  }
  const { cells, skipped, warnings } = cellsFromFlags(options, whyUnsupported, setups, autoDriver);
  return { cells, trials: parseTrials(options.trials, 3), skipped, warnings };
}

/** Runs (or resumes) a stored run's remaining trials on the paths it names, then closes them. */
async function executeOnPaths(
  store: Store,
  runId: string,
  paths: PathOptions,
  options: Pick<RunOptions, "onEvent" | "signal" | "failFast"> & { cap?: RunCap; maxOtherLoad?: number },
): Promise<RunView> {
  const provider = await openPaths(paths);
  try {
    const metadata = store.getRun(runId).metadata;
    // Recorded once, when the run starts: a resume keeps the machine facts the run began with.
    const fingerprint =
      metadata.fingerprint === undefined
        ? await collectFingerprint(
            paths.endpointsFile
              ? (await loadEndpointsFile(paths.endpointsFile)).endpoints
              : [provider.host ?? new LocalEndpoint()],
          )
        : {};
    const guests = await provider.guestRecords?.();
    const where = { ...provider.describe(), ...(guests ? { qemu: guests } : {}) };
    store.updateMetadata(runId, { ...metadata, ...fingerprint, paths, where });
    const otherMachine = baselineMachineWarning(store, runId);
    if (otherMachine !== undefined) options.onEvent?.({ type: "warning", message: otherMachine });
    const emulated = Object.values(
      (where.qemu ?? {}) as Record<string, { accelerator?: { accel: string } }>,
    ).some((guest) => guest.accelerator?.accel === "tcg");
    if (emulated)
      options.onEvent?.({
        type: "warning",
        message:
          "the guests run under software emulation (TCG, no usable KVM here): their figures are functional, not hardware performance",
      });
    await executeRun(runId, {
      store,
      driverFor,
      pathFor: (setup) => provider.resolve(setup),
      host: provider.host,
      hypervisorTasks: provider.hypervisorTasks,
      domainStats: provider.domainStats,
      onEvent: options.onEvent,
      signal: options.signal,
      failFast: options.failFast,
      cellUnsupported: whyCellUnsupported,
      rounds: adaptiveRounds(store, runId),
      cap: options.cap,
      maxOtherLoad: options.maxOtherLoad,
    });
    return loadRunView(store, runId, { histograms: true });
  } finally {
    await provider.close();
  }
}

/** Flags that a matrix file replaces. */
const MATRIX_REPLACES = [
  "quick",
  "protocol",
  "pattern",
  "size",
  "responseSize",
  "rate",
  "duration",
  "warmup",
  "driver",
  "setup",
  "direction",
  "endpoints",
  "flows",
  "ip",
] as const;

function matrixConflicts(options: RunOptions): void {
  const given = MATRIX_REPLACES.filter((flag) => options[flag] !== undefined);
  if (given.length > 0)
    throw new InputError(`${flagName(given[0]!)} cannot be combined with a matrix file: the matrix sets it`);
}

/** Run flags a resume cannot honour: the stored run fixes its matrix, traffic, label, tester and trials. */
const RESUME_KEEPS = [
  ...MATRIX_REPLACES,
  "matrix",
  "trials",
  "lab",
  "tester",
  "label",
  "dryRun",
  "baseline",
  "maxTrials",
] as const;

/** The run's cap from `--max-time`, counted from now (before the lab is brought up). */
function capOf(maxTime: string | undefined): RunCap | undefined {
  return maxTime === undefined ? undefined : runCap(parseDuration(maxTime), performance.now());
}

/** What bounds a run: `--max-time` and `--max-other-load`, checked before anything is touched. */
function boundsOf(options: { maxTime?: string; maxOtherLoad?: string }): {
  cap?: RunCap;
  maxOtherLoad?: number;
} {
  return {
    cap: capOf(options.maxTime),
    maxOtherLoad: options.maxOtherLoad === undefined ? undefined : parseLoadLimit(options.maxOtherLoad),
  };
}

/** Refuses flags given with `--resume`, naming the first: the stored run decides what they would. */
export function resumeConflicts(options: RunOptions & { dryRun?: boolean }): void {
  const given = RESUME_KEEPS.filter((flag) => options[flag] !== undefined);
  if (given.length > 0)
    throw new InputError(
      `${given[0] === "matrix" ? "a matrix file" : flagName(given[0]!)} cannot be combined with --resume: the stored run keeps what it was started with`,
    );
}

export interface MatrixPlanOptions {
  lab?: string;
  /** The store whose earlier runs of these cells give the trial spread for the power (default ./vnetbench.db; not created). */
  db?: string;
  trials?: string | number;
  /** Check on this host which CPU options can be applied (default true; only for matrices that run here). */
  probe?: boolean;
}

/** The plan of a matrix file: cells, trial count, estimated duration, cells skipped on this machine. */
export async function planMatrixFile(file: string, options: MatrixPlanOptions = {}): Promise<MatrixPlan> {
  const matrix = loadMatrix(file);
  const trials = options.trials === undefined ? undefined : parseTrials(options.trials, matrix.trials);
  const directory = options.probe === false ? null : localProbeDirectory(matrix, options.lab);
  const skippedOptions = directory ? await probeCpuOptions(matrix, directory) : undefined;
  // The lab is not up for a plan: what its guests will be is the matrix's (or the lab's) to say.
  const qemu =
    options.lab !== undefined
      ? readQemuLabState(options.lab) !== undefined
      : matrix.endpoints.kind === "default" && matrix.endpoints.guests === "qemu";
  const skippedSetups = directory
    ? probeGuestOptions(matrix, { ...guestFacts(undefined), qemu, nics: true })
    : undefined;
  const plan = planMatrix(matrix, { trials, skippedOptions, skippedSetups });
  const path = options.db ?? DEFAULT_DB;
  const store = existsSync(path) ? openStore(path) : null;
  try {
    return {
      ...plan,
      power: powerFromHistory(store, plan.cells, plan.trials, matrix.acceptance, hostname()),
    };
  } finally {
    store?.close();
  }
}

async function runMatrix(
  options: RunOptions & { matrix: string },
  bounds: ReturnType<typeof boundsOf>,
): Promise<RunView> {
  matrixConflicts(options);
  const store = openStore(options.db, { forRun: true });
  try {
    const runId = await runMatrixFile(store, options.matrix, {
      lab: options.lab,
      guests: parseGuestKind(options.guests),
      trials:
        options.trials === undefined || options.trials === AUTO_TRIALS
          ? undefined
          : parseTrials(options.trials, 1),
      adaptiveFor: (cells, trials) => adaptiveFor(store, options, cells, trials),
      tester: options.tester ?? defaultTester(),
      label: options.label ?? "",
      command: options.command ?? [],
      driverFor,
      onEvent: options.onEvent,
      signal: options.signal,
      failFast: options.failFast,
      ...bounds,
    });
    return loadRunView(store, runId, { histograms: true });
  } finally {
    store.close();
  }
}

/** Plans, stores and executes a run (from flags, or a matrix file); returns it as the JSON view. */
export async function runBenchmark(options: RunOptions): Promise<RunView> {
  // Checked before the store is opened: bad input changes nothing.
  checkName("--label", options.label ?? "");
  checkName("--tester", options.tester ?? defaultTester());
  if (options.lab !== undefined) validateLabName(options.lab);
  const bounds = boundsOf(options);
  if (options.endpoints !== undefined && options.matrix === undefined)
    await loadEndpointsFile(options.endpoints);
  checkAdaptiveFlags(options);
  if (options.matrix !== undefined) return runMatrix({ ...options, matrix: options.matrix }, bounds);
  const plan = planRun(options);
  const paths: PathOptions = {
    setups: [...new Set(plan.cells.map((cell) => cell.setup.network))],
    lab: options.lab,
    endpointsFile: options.endpoints,
    guests: parseGuestKind(options.guests),
  };
  const store = openStore(options.db, { forRun: true });
  try {
    for (const item of plan.skipped)
      options.onEvent?.({ type: "warning", message: `skipped ${item.combination}: ${item.reason}` });
    for (const message of plan.warnings) options.onEvent?.({ type: "warning", message });
    const adaptive = adaptiveFor(store, options, plan.cells, plan.trials);
    for (const message of powerFromHistory(store, plan.cells, plan.trials, {}, hostname()).notes)
      options.onEvent?.({ type: "note", message });
    if (adaptive) options.onEvent?.({ type: "note", message: adaptiveNote(adaptive) });
    const run = createRun(store, {
      cells: plan.cells,
      trials: plan.trials,
      label: options.label ?? "",
      tester: options.tester ?? defaultTester(),
      command: options.command ?? [],
      metadata: { ...localHostMetadata(), paths, ...(adaptive ? { adaptive } : {}) },
    });
    return await executeOnPaths(store, run.id, paths, {
      onEvent: options.onEvent,
      signal: options.signal,
      failFast: options.failFast,
      ...bounds,
    });
  } finally {
    store.close();
  }
}

export interface ResumeOptions {
  db?: string;
  onEvent?: (event: RunEvent) => void;
  signal?: AbortSignal;
  failFast?: boolean;
  /** `--max-time` for this part of the run. */
  maxTime?: string;
  /** `--max-other-load` for this part of the run. */
  maxOtherLoad?: string;
}

/** Continues a run from its first unfinished trial, on the same paths; completed trials are kept. */
export async function resumeBenchmark(reference: string, options: ResumeOptions): Promise<RunView> {
  const bounds = boundsOf(options);
  const store = openExistingStore(options.db, { forRun: true });
  try {
    const run = store.getRun(reference);
    if (run.metadata.matrix !== undefined) {
      await resumeMatrixRun(store, run, {
        driverFor,
        onEvent: options.onEvent,
        signal: options.signal,
        failFast: options.failFast,
        ...bounds,
      });
      return loadRunView(store, run.id, { histograms: true });
    }
    const paths = (run.metadata.paths as PathOptions | undefined) ?? { setups: [LOOPBACK_SETUP] };
    return await executeOnPaths(store, run.id, paths, {
      onEvent: options.onEvent,
      signal: options.signal,
      failFast: options.failFast,
      ...bounds,
    });
  } finally {
    store.close();
  }
}

/**
 * `lab down`: first restores what a run killed on the lab left applied (CPU pins, IRQ affinities,
 * sysctls, options' revert steps, from the store its lock names), then removes the lab. When a
 * setting cannot be restored the lab is still removed, and the error names what was left.
 */
export async function labDownRestoring(name: string): Promise<{ removed: string[]; restored: string[] }> {
  validateLabName(name);
  assertLabFree(name);
  let restored: string[] = [];
  let failure: Error | null = null;
  try {
    restored = await revertLabLeftovers(name);
  } catch (error) {
    failure = error as Error;
  }
  const { removed } = await labDown(name);
  if (failure) throw failure;
  dropAbandonedLock(name);
  return { removed, restored };
}

export interface PeakOptions extends PeakFlags {
  db?: string;
  tester?: string;
  label?: string;
  /** Search on this existing lab (from `vnetbench lab up`) instead of one brought up for the search. */
  lab?: string;
  /** Search between the machines an endpoints file describes. */
  endpoints?: string;
  /** The command line recorded with the run. */
  command?: string[];
  /** Each trial of the search, judged, as it ends. */
  onPoint?: (point: CurvePoint) => void;
  signal?: AbortSignal;
}

/**
 * Searches one cell's peak throughput and latency–load curve; stores it as a run of one cell at
 * rate `peak` with one trial that carries the search, and returns that run.
 */
export async function peakSearch(options: PeakOptions): Promise<RunView> {
  const cell = peakCellFromFlags(options, whyUnsupported);
  const search = { ...searchOptionsFromFlags(options), onPoint: options.onPoint };
  const paths: PathOptions = {
    setups: [cell.setup.network],
    lab: options.lab,
    endpointsFile: options.endpoints,
  };
  const provider = await openPaths(paths);
  try {
    const store = openStore(options.db, { forRun: true });
    try {
      const run = createRun(store, {
        cells: [cell],
        trials: 1,
        label: checkName("--label", options.label ?? ""),
        tester: checkName("--tester", options.tester ?? defaultTester()),
        command: options.command ?? [],
        metadata: { ...localHostMetadata(), paths, where: provider.describe() },
      });
      await executePeakRun(run.id, cell, {
        store,
        driverFor,
        pathFor: (target) => provider.resolve(target.setup),
        host: provider.host,
        search,
        signal: options.signal,
      });
      return loadRunView(store, run.id, { histograms: true });
    } finally {
      store.close();
    }
  } finally {
    await provider.close();
  }
}
