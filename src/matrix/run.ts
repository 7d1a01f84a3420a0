// Runs a matrix file: probe what this machine can apply, record the plan with every endpoint's
// facts and the file itself, then execute it trial by trial with the options put in place. A run
// resumes from the matrix text stored with it, with the same cells, order and seed.

import { randomInt } from "node:crypto";
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { powerFromHistory } from "../compare/power-history.js";
import type { Cell } from "../domain/cell.js";
import { whyCellUnsupported } from "../drivers/registry.js";
import { InputError, RunError } from "../errors.js";
import { abandonedHolder } from "../labs/lab-lock.js";
import { openLab } from "../labs/netns-lab.js";
import type { GuestKind } from "../labs/qemu-lab.js";
import { skippedLines } from "../plan/skipped.js";
import {
  type AdaptiveSettings,
  adaptiveNote,
  adaptiveRounds,
  baselineMachineWarning,
} from "../run/adaptive-run.js";
import { collectFingerprint } from "../run/fingerprint.js";
import type { RunCap } from "../run/max-time.js";
import { localHostMetadata } from "../run/metadata.js";
import { isRoot, RUN_LAB_NAME } from "../run/paths.js";
import { createRun, executeRun, type RunDependencies, type RunEvent } from "../run/runner.js";
import { Store, type StoredRun } from "../storage/store.js";
import { type AppliedSetup, type GuestRestart, MatrixSetups } from "./apply.js";
import { restartGroups } from "./expand.js";
import type { Matrix } from "./matrix.js";
import { type MatrixPlace, onLab, openMatrixPlace } from "./place.js";
import {
  guestFacts,
  loadMatrix,
  matrixFromText,
  planMatrix,
  probeCpuOptions,
  probeGuestOptions,
} from "./plan.js";

export interface MatrixRunOptions {
  /** Run on this existing lab instead of the matrix's endpoints. */
  lab?: string;
  /** The guests of the lab the run brings up (overrides the matrix's endpoints.guests). */
  guests?: GuestKind;
  trials?: number;
  /** A baseline's adaptive design for these cells and initial trials (checked before the run is stored), if any. */
  adaptiveFor?: (cells: Cell[], trials: number) => AdaptiveSettings | undefined;
  tester: string;
  label: string;
  command: string[];
  driverFor: RunDependencies["driverFor"];
  onEvent?: (event: RunEvent) => void;
  signal?: AbortSignal;
  failFast?: boolean;
  /** `--max-time`: the run is cut short before a trial that would end after it. */
  cap?: RunCap;
  /** `--max-other-load`: the share of the host's CPU other processes may use before a trial is flagged. */
  maxOtherLoad?: number;
}

/** What a matrix run stores about its matrix (metadata.matrix): enough to resume it. */
export interface StoredMatrix {
  file: string;
  sha256: string;
  text: string;
  name?: string;
  order: Matrix["order"];
  seed: number;
  pauses: Matrix["pauses"];
  lab?: string;
  guests?: GuestKind;
  skipped: Array<{ key: string; reason: string }>;
}

/** Plans, stores and executes a matrix file's run; returns its id. */
export async function runMatrixFile(store: Store, file: string, options: MatrixRunOptions): Promise<string> {
  const matrix = loadMatrix(file);
  // A run killed on the same lab, recorded in another store, left its settings to this run.
  const labName = options.lab ?? (matrix.endpoints.kind === "default" && isRoot() ? RUN_LAB_NAME : undefined);
  if (labName !== undefined)
    await revertLabLeftovers(labName).then(
      (restored) =>
        restored.length > 0 &&
        options.onEvent?.({ type: "warning", message: `restored ${restored.join(", ")} on lab ${labName}` }),
      (error: Error) => options.onEvent?.({ type: "warning", message: error.message }),
    );
  const place = await openMatrixPlace(matrix, options.lab, options.guests);
  try {
    await recoverAbandoned(store, matrix, place, options);
    const skippedOptions = await probeCpuOptions(matrix, place.directory);
    const skippedSetups = probeGuestOptions(matrix, guestFacts(place.guests?.control));
    const plan = planMatrix(matrix, { trials: options.trials, skippedOptions, skippedSetups });
    for (const line of skippedLines(plan.skipped)) options.onEvent?.({ type: "warning", message: line });
    if (plan.cells.length === 0)
      throw new InputError(
        `${file}: every cell is skipped on this machine (${[...skippedOptions.values()].join("; ")})`,
      );
    const adaptive = options.adaptiveFor?.(plan.cells, plan.trials);
    const power = powerFromHistory(store, plan.cells, plan.trials, matrix.acceptance, hostname());
    for (const message of power.notes) options.onEvent?.({ type: "note", message });
    if (adaptive) options.onEvent?.({ type: "note", message: adaptiveNote(adaptive) });
    const stored: StoredMatrix = {
      file: matrix.file,
      sha256: matrix.sha256,
      text: matrix.text,
      ...(matrix.name !== undefined ? { name: matrix.name } : {}),
      order: matrix.order,
      // A shuffled order's seed is recorded, so a resume replays the same order.
      seed: matrix.seed ?? randomInt(2 ** 31),
      pauses: matrix.pauses,
      ...(options.lab !== undefined ? { lab: options.lab } : {}),
      ...(options.guests !== undefined ? { guests: options.guests } : {}),
      skipped: plan.skipped,
    };
    const run = createRun(store, {
      cells: plan.cells.map(({ key, setup, traffic }) => ({ key, setup, traffic })),
      trials: plan.trials,
      label: options.label,
      tester: options.tester,
      command: options.command,
      metadata: {
        ...localHostMetadata(),
        ...(await collectFingerprint(place.endpoints)),
        matrix: stored,
        acceptance: matrix.acceptance,
        where: place.provider.describe(),
        appliedSetups: [],
        ...(adaptive ? { adaptive } : {}),
      },
    });
    await execute(store, run.id, matrix, stored, place, [], options);
    return run.id;
  } finally {
    await place.provider.close();
  }
}

/**
 * Undoes what killed runs in this store left applied (their journal, metadata.appliedSetups) when
 * they ran where this run does; others are named, with the command that reverts them.
 */
async function recoverAbandoned(
  store: Store,
  matrix: Matrix,
  place: MatrixPlace,
  options: Pick<MatrixRunOptions, "lab" | "onEvent">,
): Promise<void> {
  for (const record of store.listRuns()) {
    const stale = (record.metadata.appliedSetups ?? []) as AppliedSetup[];
    const stored = record.metadata.matrix as StoredMatrix | undefined;
    if (record.status === "running" || stale.length === 0 || !stored) continue;
    const theirs = matrixFromText(stored.text, stored.file);
    const samePlace =
      stored.lab === options.lab && JSON.stringify(theirs.endpoints) === JSON.stringify(matrix.endpoints);
    const what = stale.map((entry) => `${entry.category} option ${entry.option}`).join(", ");
    if (!samePlace) {
      options.onEvent?.({
        type: "warning",
        message: `run ${record.id} left ${what} applied elsewhere: \`vnetbench run --resume ${record.id}\` reverts it`,
      });
      continue;
    }
    await revertLeftovers(store, record.id, theirs, place, stale);
    options.onEvent?.({
      type: "warning",
      message: `reverted ${what}, left applied by killed run ${record.id}`,
    });
  }
}

/** Undoes a run's recorded leftovers (last applied first), keeping its journal current as it goes. */
function revertLeftovers(
  store: Store,
  runId: string,
  matrix: Matrix,
  place: MatrixPlace,
  stale: readonly AppliedSetup[],
): Promise<void> {
  const setups = new MatrixSetups(
    matrix,
    place.directory,
    (applied) => store.setMetadataField(runId, "appliedSetups", applied),
    place.guests && { control: place.guests.control, restoreMachine: false },
  );
  return setups.recover(stale);
}

/**
 * Before `lab down`: undoes what a run killed on the lab left applied — CPU pins, IRQ affinities,
 * sysctls, options' revert steps — found through the lab's lock (the store and run it names).
 * Returns what was reverted (empty when nothing was left); throws naming what could not be.
 */
export async function revertLabLeftovers(name: string): Promise<string[]> {
  const holder = abandonedHolder(name);
  if (!holder?.run) return [];
  if (!existsSync(holder.run.store))
    throw new RunError(
      `lab ${name}: killed run ${holder.run.id} recorded what it applied in ${holder.run.store}, which is gone: ` +
        "its settings cannot be restored from it",
    );
  const store = new Store(holder.run.store);
  try {
    const record = store.getRun(holder.run.id);
    const stale = (record.metadata.appliedSetups ?? []) as AppliedSetup[];
    const stored = record.metadata.matrix as StoredMatrix | undefined;
    if (stale.length === 0 || !stored) return [];
    const what = stale.map((entry) => `${entry.category} option ${entry.option}`);
    try {
      const place = onLab(await openLab(name), false);
      await revertLeftovers(store, record.id, matrixFromText(stored.text, stored.file), place, stale);
    } catch (error) {
      throw new RunError(
        `lab ${name}: restoring ${what.join(", ")} left applied by killed run ${record.id}: ${(error as Error).message}`,
      );
    }
    return what.map((entry) => `${entry} (run ${record.id})`);
  } finally {
    store.close();
  }
}

/** Continues a stored matrix run: undoes what a crash left applied, then runs the remaining trials. */
export async function resumeMatrixRun(
  store: Store,
  run: StoredRun,
  options: Pick<MatrixRunOptions, "driverFor" | "onEvent" | "signal" | "failFast" | "cap" | "maxOtherLoad">,
): Promise<void> {
  const stored = run.metadata.matrix as StoredMatrix;
  const matrix = matrixFromText(stored.text, stored.file);
  const place = await openMatrixPlace(matrix, stored.lab, stored.guests);
  try {
    const stale = (run.metadata.appliedSetups ?? []) as AppliedSetup[];
    await execute(store, run.id, matrix, stored, place, stale, options);
  } finally {
    await place.provider.close();
  }
}

async function execute(
  store: Store,
  runId: string,
  matrix: Matrix,
  stored: StoredMatrix,
  place: MatrixPlace,
  stale: readonly AppliedSetup[],
  options: Pick<MatrixRunOptions, "driverFor" | "onEvent" | "signal" | "failFast" | "cap" | "maxOtherLoad">,
): Promise<void> {
  // Before anything is applied: a run killed from here on is found by `lab down`.
  place.provider.noteRun?.(resolve(store.path), runId);
  const restarts = (store.getRun(runId).metadata.guestRestarts ?? []) as GuestRestart[];
  const setups = new MatrixSetups(
    matrix,
    place.directory,
    (applied) => store.setMetadataField(runId, "appliedSetups", applied),
    place.guests && {
      control: place.guests.control,
      restoreMachine: !place.guests.owned,
      onRestart: (restart) => {
        restarts.push(restart);
        store.setMetadataField(runId, "guestRestarts", restarts);
        options.onEvent?.({
          type: "note",
          message: `guests restarted for hypervisor option ${restart.option} (boot ${Object.entries(
            restart.bootMs,
          )
            .map(([guest, ms]) => `${guest} ${(ms / 1000).toFixed(1)} s`)
            .join(", ")})`,
        });
      },
    },
  );
  await setups.recover(stale);
  const cells = store.getRun(runId).cells;
  const otherMachine = baselineMachineWarning(store, runId);
  if (otherMachine !== undefined) options.onEvent?.({ type: "warning", message: otherMachine });
  await executeRun(runId, {
    store,
    driverFor: options.driverFor,
    pathFor: (setup) => place.provider.resolve(setup),
    host: place.provider.host,
    hypervisorTasks: place.provider.hypervisorTasks,
    domainStats: place.provider.domainStats,
    onEvent: options.onEvent,
    signal: options.signal,
    order: { mode: stored.order, seed: stored.seed, groups: restartGroups(matrix, cells) },
    pauses: stored.pauses,
    setups,
    failFast: options.failFast,
    cellUnsupported: whyCellUnsupported,
    rounds: adaptiveRounds(store, runId),
    cap: options.cap,
    maxOtherLoad: options.maxOtherLoad,
  });
}
