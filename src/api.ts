// The operations the CLI offers, as functions another program can call.

import type { CurvePoint } from "./analysis/peak-search.js";
import { compareRunViews, type RunCompareOptions, type RunComparison } from "./compare/runs.js";
import { type RunReference, resolveReference } from "./compare/select.js";
import type { Cell } from "./domain/cell.js";
import { autoDriver, driverFor, whyUnsupported } from "./drivers/registry.js";
import { loadEndpointsFile } from "./endpoints/endpoints-file.js";
import { LocalEndpoint } from "./endpoints/local.js";
import { InputError } from "./errors.js";
import { parseGuestKind } from "./labs/qemu-lab.js";
import {
  loadMatrix,
  localProbeDirectory,
  type MatrixPlan,
  planMatrix,
  probeCpuOptions,
} from "./matrix/plan.js";
import { resumeMatrixRun, runMatrixFile } from "./matrix/run.js";
import { cellsFromFlags, parseSeconds, setupsFromFlags, type TrafficFlags } from "./plan/flags.js";
import { QUICK_TRIALS, quickCells } from "./plan/quick.js";
import { EXPORT_FORMATS, type ExportFormat, serializeRun } from "./report/export.js";
import { type RunView, runView } from "./report/run-view.js";
import { collectFingerprint } from "./run/fingerprint.js";
import { defaultTester, localHostMetadata, vnetbenchVersion } from "./run/metadata.js";
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
import { type RunRecord, Store } from "./storage/store.js";

export const DEFAULT_DB = "vnetbench.db";

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
}

export interface PlannedRun {
  cells: Cell[];
  trials: number;
  skipped: Array<{ combination: string; reason: string }>;
}

function parseTrials(value: string | number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const trials = Number(value);
  if (!Number.isInteger(trials) || trials < 1 || trials > 1000) {
    throw new InputError(`--trials: '${value}' is not a whole number of trials between 1 and 1000`);
  }
  return trials;
}

function isQuick(options: RunOptions): boolean {
  const trafficFlagGiven = ["protocol", "pattern", "size", "responseSize", "rate", "driver"].some(
    (flag) => options[flag as keyof TrafficFlags] !== undefined,
  );
  return options.quick === true || !trafficFlagGiven;
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
    if (options.duration !== undefined) parseSeconds("duration", options.duration, 0.1);
    return { cells: quickCells(setups), trials: parseTrials(options.trials, QUICK_TRIALS), skipped: [] };
  }
  const { cells, skipped } = cellsFromFlags(options, whyUnsupported, setups, autoDriver);
  return { cells, trials: parseTrials(options.trials, 3), skipped };
}

function openStore(db: string | undefined): Store {
  return new Store(db ?? DEFAULT_DB);
}

/** Runs (or resumes) a stored run's remaining trials on the paths it names, then closes them. */
async function executeOnPaths(
  store: Store,
  runId: string,
  paths: PathOptions,
  options: Pick<RunOptions, "onEvent" | "signal">,
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
    const where = provider.describe();
    store.updateMetadata(runId, { ...metadata, ...fingerprint, paths, where });
    const emulated = Object.values(
      (where.qemu ?? {}) as Record<string, { accelerator: { accel: string } }>,
    ).some((guest) => guest.accelerator.accel === "tcg");
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
      onEvent: options.onEvent,
      signal: options.signal,
    });
    return runView(store.getRun(runId));
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
] as const;

function matrixConflicts(options: RunOptions): void {
  const given = MATRIX_REPLACES.filter((flag) => options[flag] !== undefined);
  if (given.length > 0)
    throw new InputError(
      `--${given[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} cannot be combined with a matrix file: the matrix sets it`,
    );
}

export interface MatrixPlanOptions {
  lab?: string;
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
  return planMatrix(matrix, { trials, skippedOptions });
}

async function runMatrix(options: RunOptions & { matrix: string }): Promise<RunView> {
  matrixConflicts(options);
  const store = openStore(options.db);
  try {
    const runId = await runMatrixFile(store, options.matrix, {
      lab: options.lab,
      guests: parseGuestKind(options.guests),
      trials: options.trials === undefined ? undefined : parseTrials(options.trials, 1),
      tester: options.tester ?? defaultTester(),
      label: options.label ?? "",
      command: options.command ?? [],
      driverFor,
      onEvent: options.onEvent,
      signal: options.signal,
    });
    return runView(store.getRun(runId));
  } finally {
    store.close();
  }
}

/** Plans, stores and executes a run (from flags, or a matrix file); returns it as the JSON view. */
export async function runBenchmark(options: RunOptions): Promise<RunView> {
  if (options.matrix !== undefined) return runMatrix({ ...options, matrix: options.matrix });
  const plan = planRun(options);
  const paths: PathOptions = {
    setups: [...new Set(plan.cells.map((cell) => cell.setup.network))],
    lab: options.lab,
    endpointsFile: options.endpoints,
    guests: parseGuestKind(options.guests),
  };
  const store = openStore(options.db);
  try {
    for (const item of plan.skipped)
      options.onEvent?.({ type: "warning", message: `skipped ${item.combination}: ${item.reason}` });
    const run = createRun(store, {
      cells: plan.cells,
      trials: plan.trials,
      label: options.label ?? "",
      tester: options.tester ?? defaultTester(),
      command: options.command ?? [],
      metadata: { ...localHostMetadata(), paths },
    });
    return await executeOnPaths(store, run.id, paths, options);
  } finally {
    store.close();
  }
}

export interface ResumeOptions {
  db?: string;
  onEvent?: (event: RunEvent) => void;
  signal?: AbortSignal;
}

/** Continues a run from its first unfinished trial, on the same paths; completed trials are kept. */
export async function resumeBenchmark(reference: string, options: ResumeOptions): Promise<RunView> {
  const store = openStore(options.db);
  try {
    const run = store.getRun(reference);
    if (run.metadata.matrix !== undefined) {
      await resumeMatrixRun(store, run, { driverFor, onEvent: options.onEvent, signal: options.signal });
      return runView(store.getRun(run.id));
    }
    const paths = (run.metadata.paths as PathOptions | undefined) ?? { setups: [LOOPBACK_SETUP] };
    return await executeOnPaths(store, run.id, paths, options);
  } finally {
    store.close();
  }
}

export function listRuns(db?: string): RunRecord[] {
  const store = openStore(db);
  try {
    return store.listRuns();
  } finally {
    store.close();
  }
}

export function showRun(reference: string, db?: string): RunView {
  const store = openStore(db);
  try {
    return runView(store.getRun(reference));
  } finally {
    store.close();
  }
}

export interface CompareRunsOptions extends RunCompareOptions {
  db?: string;
}

/** Compares a candidate run with a baseline, each named by id, prefix, `latest` or `{ label }`. */
export function compareRuns(
  baseline: RunReference,
  candidate: RunReference,
  options: CompareRunsOptions = {},
): RunComparison {
  const store = openStore(options.db);
  try {
    const base = runView(store.getRun(resolveReference(store, baseline)));
    const cand = runView(store.getRun(resolveReference(store, candidate)));
    return compareRunViews(base, cand, options);
  } finally {
    store.close();
  }
}

export interface ReportOptions extends RunCompareOptions {
  db?: string;
  /** A baseline to compare the run with (`report --vs`). */
  vs?: RunReference;
}

/** The self-contained HTML report of a run, with a comparison when `vs` names a baseline. */
export async function reportRun(reference: RunReference, options: ReportOptions = {}): Promise<string> {
  const store = openStore(options.db);
  let run: RunView;
  let baseline: RunView | undefined;
  try {
    run = runView(store.getRun(resolveReference(store, reference)));
    if (options.vs !== undefined) baseline = runView(store.getRun(resolveReference(store, options.vs)));
  } finally {
    store.close();
  }
  // Loaded on demand: Vega is heavy, and every other command (the agent included) would pay for it.
  const { reportHtml } = await import("./report/html.js");
  return reportHtml({
    run,
    comparison: baseline ? compareRunViews(baseline, run, options) : undefined,
    generator: { version: vnetbenchVersion(), at: new Date().toISOString() },
  });
}

/** A run serialized for other tools: CSV (a row per trial and direction) or the RunView JSON. */
export function exportRun(reference: RunReference, format: ExportFormat, db?: string): string {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format))
    throw new InputError(
      `--format: '${format}' is not an export format; expected one of ${EXPORT_FORMATS.join(", ")}`,
    );
  const store = openStore(db);
  try {
    return serializeRun(runView(store.getRun(resolveReference(store, reference))), format);
  } finally {
    store.close();
  }
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
    const store = openStore(options.db);
    try {
      const run = createRun(store, {
        cells: [cell],
        trials: 1,
        label: options.label ?? "",
        tester: options.tester ?? defaultTester(),
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
      return runView(store.getRun(run.id));
    } finally {
      store.close();
    }
  } finally {
    await provider.close();
  }
}
