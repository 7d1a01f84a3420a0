// A matrix file → the explicit plan `vnetbench plan` prints and `run` executes: its cells, trials,
// an estimated duration, and the cells skipped because a CPU, guest or hypervisor option cannot be
// had here.

import { readFileSync } from "node:fs";
import type { PlanPower } from "../compare/power.js";
import { autoDriver, whyUnsupported } from "../drivers/registry.js";
import { LocalEndpoint } from "../endpoints/local.js";
import { InputError } from "../errors.js";
import { hostAccelerator, vhostSupport } from "../guests/qemu.js";
import { whyQemuUnsupported } from "../guests/settings.js";
import type { GuestControl } from "../labs/guest-control.js";
import type { TrialOrder } from "../plan/order.js";
import { peakSearchSeconds } from "../run/peak.js";
import { probeCpuOption } from "../setups/cpu.js";
import { type EndpointDirectory, endpointLookup } from "./apply.js";
import { expandMatrix, type MatrixCell } from "./expand.js";
import type { Matrix } from "./matrix.js";
import { endpointNames, LOCAL_ENDPOINT, parseMatrix } from "./parse.js";

/** Reads and validates a matrix file. */
export function loadMatrix(file: string): Matrix {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new InputError(`matrix file ${file}: cannot read it (${(error as Error).message})`);
  }
  return matrixFromText(text, file);
}

/** Parses a matrix's text (a file's, or the copy stored with a run). */
export function matrixFromText(text: string, file: string): Matrix {
  return parseMatrix(text, file, {
    unsupported: whyUnsupported,
    autoDriver,
    readText: (path) => readFileSync(path, "utf8"),
  });
}

export interface SkippedCell {
  key: string;
  reason: string;
}

export interface MatrixPlan {
  file: string;
  sha256: string;
  name?: string;
  cells: MatrixCell[];
  /** Trials per cell. */
  trials: number;
  /** Trials in all. */
  trialCount: number;
  estimatedSeconds: number;
  order: TrialOrder;
  seed: number | null;
  skipped: SkippedCell[];
  /** CPU options not probed before the run (their endpoints are remote), checked when applied. */
  unprobed: string[];
  /** What the comparison of two such runs can detect (`plan`; absent from a run's own plan). */
  power?: PlanPower;
}

/** Seconds a trial takes beyond its warm-up and measured window (agent round trips, CPU reads). */
const TRIAL_OVERHEAD_S = 0.3;
/** Seconds to start a driver's session (agents) on a path. */
const SESSION_START_S = 1;

export function estimateSeconds(
  cells: readonly MatrixCell[],
  trials: number,
  matrix: Pick<Matrix, "pauses" | "order">,
): number {
  if (cells.length === 0) return 0;
  const trafficS = cells.reduce(
    (sum, cell) =>
      sum +
      trials *
        (cell.traffic.rate === "peak"
          ? peakSearchSeconds(cell.traffic, TRIAL_OVERHEAD_S)
          : cell.traffic.durationS + cell.traffic.warmupS + TRIAL_OVERHEAD_S),
    0,
  );
  const count = cells.length * trials;
  const cellChanges = matrix.order === "sequential" ? cells.length - 1 : count - 1;
  const { betweenTrialsS, betweenCellsS } = matrix.pauses;
  const pausesS =
    (count - 1 - cellChanges) * betweenTrialsS + cellChanges * Math.max(betweenTrialsS, betweenCellsS);
  const sessions = new Set(cells.map((cell) => `${cell.traffic.driver}|${cell.setup.network}`)).size;
  return Math.round(trafficS + pausesS + sessions * SESSION_START_S);
}

/** Why each CPU option cannot be applied (option name → reason), probed through the directory. */
export async function probeCpuOptions(
  matrix: Matrix,
  directory: EndpointDirectory,
): Promise<Map<string, string>> {
  const reasons = new Map<string, string>();
  const endpointOf = endpointLookup(directory);
  for (const option of matrix.cpu) {
    const reason = await probeCpuOption(option, {
      endpointOf,
      local: directory.local,
      generator: [],
      hypervisorTasks: directory.hypervisorTasks,
    });
    if (reason) reasons.set(option.name, reason);
  }
  return reasons;
}

/**
 * For `plan` without opening anything: where the matrix runs on this host (loopback or a netns
 * lab, whose namespaces share its CPUs, IRQs and /proc), every endpoint name stands for this host.
 * Null when endpoints are other machines.
 */
export function localProbeDirectory(matrix: Matrix, lab?: string): EndpointDirectory | null {
  if (lab === undefined && (matrix.endpoints.kind === "file" || matrix.endpoints.kind === "inline"))
    return null;
  const local = new LocalEndpoint(LOCAL_ENDPOINT, "127.0.0.1", "host");
  const names = endpointNames(lab === undefined ? matrix.endpoints : { kind: "lab", lab });
  const byName = new Map(names.map((name) => [name, local]));
  // The qemu lab the run brings up is not there yet: its threads are looked for when it is.
  const qemu = lab === undefined && matrix.endpoints.kind === "default" && matrix.endpoints.guests === "qemu";
  return { byName, host: local, local, ...(qemu ? { hypervisorTasks: async () => null } : {}) };
}

export interface PlanOptions {
  /** Trials per cell instead of the matrix's. */
  trials?: number;
  /** CPU option → why it cannot be applied here (from probeCpuOptions). */
  skippedOptions?: ReadonlyMap<string, string>;
  /** Hypervisor and guest options → why they cannot be had here (from probeGuestOptions). */
  skippedSetups?: Partial<Record<"hypervisor" | "guest", ReadonlyMap<string, string>>>;
}

/** What a matrix's guest and hypervisor options can act on where it runs. */
export interface GuestFacts {
  /** The guests are qemu machines (a qemu lab). */
  qemu: boolean;
  /** The lab has guests whose NICs can be set. */
  nics: boolean;
  /** Why this host cannot give vhost-net, or null. */
  vhostUnusable: string | null;
}

export function guestFacts(guests: GuestControl | undefined): GuestFacts {
  return {
    qemu: guests?.qemu !== undefined,
    nics: (guests?.nics.length ?? 0) > 0,
    vhostUnusable: guests?.qemu ? guests.qemu.vhostUnusable : (vhostSupport().reason ?? null),
  };
}

/**
 * Why each hypervisor or guest option cannot be had where the matrix runs: qemu settings need a
 * qemu lab and what this host offers (vhost-net, KVM), NIC settings a lab's guests.
 */
export function probeGuestOptions(
  matrix: Matrix,
  facts: GuestFacts,
): Record<"hypervisor" | "guest", Map<string, string>> {
  const hypervisor = new Map<string, string>();
  const guest = new Map<string, string>();
  for (const option of matrix.hypervisor) {
    if (!option.qemu) continue;
    const reason = facts.qemu
      ? whyQemuUnsupported(option.qemu, {
          vhost: { ok: facts.vhostUnusable === null, reason: facts.vhostUnusable ?? undefined },
          kvm: hostAccelerator(),
        })
      : "qemu settings need a qemu lab (endpoints: { guests: qemu }, or run --guests qemu)";
    if (reason) hypervisor.set(option.name, reason);
  }
  for (const option of matrix.guest)
    if (option.nic && !facts.nics)
      guest.set(
        option.name,
        "NIC settings need a lab's guests (endpoints: { guests: qemu } or the netns lab)",
      );
  return { hypervisor, guest };
}

export function planMatrix(matrix: Matrix, options: PlanOptions = {}): MatrixPlan {
  const all = expandMatrix(matrix);
  const skipped: SkippedCell[] = [];
  const cells = all.filter((cell) => {
    const why = (["hypervisor", "guest"] as const)
      .map((category) => {
        const reason = options.skippedSetups?.[category]?.get(cell.options[category]);
        return reason && `${category} option ${cell.options[category]}: ${reason}`;
      })
      .find(Boolean);
    const cpu = options.skippedOptions?.get(cell.options.cpu);
    const reason = why ?? (cpu && `cpu option ${cell.options.cpu}: ${cpu}`);
    if (reason) skipped.push({ key: cell.key, reason });
    return !reason;
  });
  const trials = options.trials ?? matrix.trials;
  return {
    file: matrix.file,
    sha256: matrix.sha256,
    ...(matrix.name !== undefined ? { name: matrix.name } : {}),
    cells,
    trials,
    trialCount: cells.length * trials,
    estimatedSeconds: estimateSeconds(cells, trials, matrix),
    order: matrix.order,
    seed: matrix.seed,
    skipped,
    unprobed: options.skippedOptions
      ? []
      : matrix.cpu.filter((o) => o.pin.length + o.irqAffinity.length > 0 || o.numa).map((o) => o.name),
  };
}
