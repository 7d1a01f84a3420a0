// Where a run's traffic flows: loopback on this host, the netns lab, or the user's own endpoints.
// The provider also owns what it brought up (an ephemeral lab) and removes it on close.

import type { HypervisorTasks } from "../analysis/cpu-components.js";
import type { TrialDomainStats } from "../domain/cell.js";
import type { SetupSelection } from "../domain/setup.js";
import type { TrafficPath } from "../drivers/driver.js";
import type { Endpoint } from "../endpoints/endpoint.js";
import { loadEndpointsFile } from "../endpoints/endpoints-file.js";
import { LibvirtGuestEndpoint, readDomainStats, trialDomainStats } from "../endpoints/libvirt.js";
import { LocalEndpoint } from "../endpoints/local.js";
import { QemuGuestEndpoint } from "../endpoints/qemu.js";
import { InputError } from "../errors.js";
import { claimLab, noteLabRun, releaseLab } from "../labs/lab-lock.js";
import { type Lab, labDown, labStatus, labUp, openLab } from "../labs/netns-lab.js";
import { type GuestKind, labHypervisorTasks } from "../labs/qemu-lab.js";
import {
  type EndpointSet,
  NETWORK_SETUPS,
  parseNetworkSetupName,
  resolveNetworkSetup,
} from "../setups/network.js";

export const LOOPBACK_SETUP = "loopback";
/** The lab `run` brings up for itself (and removes); one left by a killed run is replaced. */
export const RUN_LAB_NAME = "vnbrun";

export interface PathProvider {
  resolve(setup: SetupSelection): Promise<TrafficPath>;
  /** The endpoint whose CPU is accounted (the hypervisor host), or null when none is described. */
  host: Endpoint | null;
  /** What to record about where the run ran. */
  describe(): Record<string, unknown>;
  /** Endpoint guests' records (accelerator, qemu version and command line, guest kernel), by name. */
  guestRecords?(): Promise<Record<string, unknown>>;
  /** The qemu processes and vCPU threads on the host, where there are guests. */
  hypervisorTasks?(): Promise<HypervisorTasks | null>;
  /** Reads the libvirt domains' stats before a trial; the returned function reads them after it. */
  domainStats?(): Promise<() => Promise<Record<string, TrialDomainStats>>>;
  /** Tells the lab's lock which run executes on it (so `lab down` can undo what it leaves applied). */
  noteRun?(store: string, runId: string): void;
  close(): Promise<void>;
}

export interface PathOptions {
  /** Network setup names the run uses. */
  setups: string[];
  /** Use this existing lab (made by `vnetbench lab up`) instead of an ephemeral one. */
  lab?: string;
  /** An endpoints file describing real machines. */
  endpointsFile?: string;
  /** The guests of a lab the run brings up: namespaces (default) or qemu virtual machines. */
  guests?: GuestKind;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The setups `run --quick` covers: all of them where a lab can be built, loopback otherwise. */
export function quickSetupNames(options: Pick<PathOptions, "lab" | "endpointsFile">): string[] {
  return isRoot() || options.lab || options.endpointsFile ? [...NETWORK_SETUPS] : [LOOPBACK_SETUP];
}

export function validateSetupNames(names: string[]): void {
  for (const name of names) parseNetworkSetupName(name);
}

export async function openPaths(options: PathOptions): Promise<PathProvider> {
  validateSetupNames(options.setups);
  if (options.endpointsFile) {
    const set = await loadEndpointsFile(options.endpointsFile);
    return endpointsPaths(set, { kind: "endpoints-file", file: options.endpointsFile });
  }
  if (!options.lab && options.setups.every((name) => name === LOOPBACK_SETUP)) return loopbackPaths();
  if (options.lab) return labPaths(await useLab(options.lab), false);
  if (!isRoot()) {
    const needing = options.setups.filter((name) => name !== LOOPBACK_SETUP).join(", ");
    throw new InputError(
      `setup ${needing} needs the netns lab, which needs root: run as root, or describe your machines with --endpoints FILE`,
    );
  }
  return labPaths(await runLab(options.guests), true);
}

/**
 * The lab a run brings up for itself. Another run using it is refused at once; if it exists and
 * nobody holds it, a killed run left it behind and it is rebuilt.
 */
export async function runLab(guests?: GuestKind): Promise<Lab> {
  claimLab(RUN_LAB_NAME);
  try {
    if ((await labStatus(RUN_LAB_NAME)).state !== "down") await labDown(RUN_LAB_NAME);
    return await labUp({ name: RUN_LAB_NAME, guests });
  } catch (error) {
    releaseLab(RUN_LAB_NAME);
    throw error;
  }
}

/** An existing lab (from `lab up`), taken for this run: a second run on it is refused. */
export async function useLab(name: string): Promise<Lab> {
  claimLab(name);
  try {
    return await openLab(name);
  } catch (error) {
    releaseLab(name);
    throw error;
  }
}

export function loopbackPaths(): PathProvider {
  return {
    resolve: async (setup) => resolveNetworkSetup(setup.network),
    host: new LocalEndpoint("local", "127.0.0.1", "host"),
    describe: () => ({ kind: "loopback" }),
    close: async () => {},
  };
}

/** Paths on a lab; an `owned` lab (brought up for the run) is removed on close. */
export function labPaths(lab: Lab, owned: boolean): PathProvider {
  return {
    resolve: async (setup) => resolveNetworkSetup(setup.network, { lab }),
    // The lab's namespaces share this host's CPUs and /proc: its CPU is read here, without a spawn per sample.
    host: new LocalEndpoint("local", "127.0.0.1", "host"),
    describe: () => ({
      kind: "netns-lab",
      lab: lab.name,
      ephemeral: owned,
      addresses: lab.topology.addresses,
      guests: lab.guests,
      // Per guest endpoint: accelerator, qemu version and command line, kernel, boot time, skips.
      ...(lab.qemu ? { qemu: lab.qemu.records, image: lab.qemu.image } : {}),
    }),
    hypervisorTasks: lab.qemu ? () => labHypervisorTasks(lab.name) : undefined,
    noteRun: (store, id) => noteLabRun(lab.name, { store, id }),
    close: async () => {
      try {
        if (owned) await labDown(lab.name);
      } finally {
        releaseLab(lab.name);
      }
    },
  };
}

/** The qemu processes and vCPU threads of the qemu and libvirt guests of this machine. */
export async function guestHypervisorTasks(guests: readonly QemuGuestEndpoint[]): Promise<HypervisorTasks> {
  const all = await Promise.all(guests.map((guest) => guest.hypervisorTasks()));
  const libvirt = all.flatMap((tasks) => tasks.libvirt ?? []);
  return {
    qemuPids: [...new Set(all.flatMap((tasks) => tasks.qemuPids))],
    vcpuTids: all.flatMap((tasks) => tasks.vcpuTids),
    ...(libvirt.length > 0 ? { libvirt } : {}),
  };
}

/** Paths between described machines; the host whose CPU is accounted is the one with role `host`. */
export function endpointsPaths(set: EndpointSet, description: Record<string, unknown>): PathProvider {
  const guests = set.endpoints.filter((e): e is QemuGuestEndpoint => e instanceof QemuGuestEndpoint);
  const domains = guests.filter((e): e is LibvirtGuestEndpoint => e instanceof LibvirtGuestEndpoint);
  return {
    ...(guests.length > 0 ? { hypervisorTasks: () => guestHypervisorTasks(guests) } : {}),
    ...(domains.length > 0
      ? {
          domainStats: async () => {
            const before = await readDomainStats(domains);
            return async () => trialDomainStats(domains, before, await readDomainStats(domains));
          },
        }
      : {}),
    ...(guests.length > 0
      ? {
          guestRecords: async () =>
            Object.fromEntries(
              await Promise.all(
                guests.map(async (guest) => [
                  guest.name,
                  await guest.guestRecord().catch((error: Error) => ({ error: error.message })),
                ]),
              ),
            ),
        }
      : {}),
    resolve: async (setup) => resolveNetworkSetup(setup.network, set),
    host: set.endpoints.find((endpoint) => endpoint.role === "host") ?? null,
    describe: () => ({
      ...description,
      endpoints: set.endpoints.map((e) => `${e.name}:${e.kind}:${e.role}`),
    }),
    close: async () => {},
  };
}
