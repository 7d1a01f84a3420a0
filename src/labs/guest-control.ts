// What guest and hypervisor options act on in a lab: each guest's network interface (netns or
// qemu guests), and for qemu guests the machine they run — restarted with other settings when a
// hypervisor option asks, and read back from QMP, from the host and from inside the guest.

import { readdirSync, readFileSync } from "node:fs";
import type { Endpoint } from "../endpoints/endpoint.js";
import { guestFiles, NIC_ID, vhostSupport } from "../guests/qemu.js";
import { qmp } from "../guests/qmp.js";
import { type GuestMachine, type MachineReadBack, onOff, parseEthtoolChannels } from "../guests/settings.js";
import type { Lab } from "./netns-lab.js";
import { guestRunDir, LAB_GUESTS, type QemuLabState, restartGuests } from "./qemu-lab.js";

export interface GuestNic {
  node: string;
  endpoint: Endpoint;
  ifname: string;
}

export interface QemuControl {
  /** The machine the guests run now. */
  machine(): GuestMachine;
  /** Restarts every guest with this machine; resolves with each guest's boot time. */
  restart(machine: GuestMachine): Promise<Record<string, number>>;
  readBack(): Promise<Record<string, MachineReadBack>>;
  /** Why the host cannot give vhost-net, or null. */
  vhostUnusable: string | null;
}

export interface GuestControl {
  nics: GuestNic[];
  /** Present when the guests are qemu machines. */
  qemu?: QemuControl;
}

function machineOf(state: QemuLabState): GuestMachine {
  const record = state.records.g1;
  return { hardware: record.hardware, accel: record.accelerator.accel };
}

/**
 * vhost-net's workers for that qemu, named vhost-PID: kernel threads before Linux 6.4, threads of
 * qemu itself since (listing /proc shows processes only, so its tasks are read too).
 */
function hasVhostWorkers(qemuPid: number): boolean {
  const name = `vhost-${qemuPid}`;
  const comms = [
    ...readdirSync("/proc")
      .filter((entry) => /^\d+$/.test(entry))
      .map((pid) => `/proc/${pid}/comm`),
    ...readdirSafe(`/proc/${qemuPid}/task`).map((tid) => `/proc/${qemuPid}/task/${tid}/comm`),
  ];
  return comms.some((file) => {
    try {
      return readFileSync(file, "utf8").trim() === name;
    } catch {
      return false; // the task ended meanwhile
    }
  });
}

function readdirSafe(directory: string): string[] {
  try {
    return readdirSync(directory);
  } catch {
    return []; // the process ended meanwhile
  }
}

async function readMachine(
  lab: Lab,
  guest: (typeof LAB_GUESTS)[number],
  state: QemuLabState,
): Promise<MachineReadBack> {
  const files = guestFiles(guestRunDir(lab.name, guest));
  const asked = Object.keys(state.records[guest].hardware.deviceProperties);
  const properties = ["mq", ...asked.filter((name) => name !== "mq")];
  const [kvm, cpus, ...values] = await qmp(files.qmpSocket, [
    { execute: "query-kvm" },
    { execute: "query-cpus-fast" },
    ...properties.map((property) => ({
      execute: "qom-get",
      arguments: { path: `/machine/peripheral/${NIC_ID}`, property },
    })),
  ]);
  const pid = Number(readFileSync(files.pidFile, "utf8").trim());
  const channels = await lab.endpoints[guest]
    .exec(["ethtool", "-l", "eth0"], { allowFailure: true, timeoutMs: 15_000 })
    .catch(() => null);
  const queues = channels?.code === 0 ? parseEthtoolChannels(channels.stdout).max : undefined;
  return {
    pid,
    accel: (kvm as { enabled: boolean }).enabled ? "kvm" : "tcg",
    vcpus: (cpus as unknown[]).length,
    ...(queues !== undefined ? { queues } : {}),
    vhost: hasVhostWorkers(pid),
    device: Object.fromEntries(properties.map((name, i) => [name, onOff(values[i])])),
  };
}

/** The guest control of a lab: NICs always, the machine when its guests are qemu's. */
export function labGuestControl(lab: Lab): GuestControl {
  const nics = LAB_GUESTS.map((guest) => ({
    node: guest,
    endpoint: lab.endpoints[guest],
    // A qemu guest's NIC is its eth0; a netns guest's the namespace's end of its veth.
    ifname: lab.qemu ? "eth0" : lab.topology.links[guest].b.ifname,
  }));
  if (!lab.qemu) return { nics };
  let state = lab.qemu;
  const qemu: QemuControl = {
    machine: () => machineOf(state),
    restart: async (machine) => {
      state = await restartGuests(lab.topology, state, machine);
      return Object.fromEntries(LAB_GUESTS.map((guest) => [guest, state.records[guest].bootMs]));
    },
    readBack: async () =>
      Object.fromEntries(
        await Promise.all(LAB_GUESTS.map(async (guest) => [guest, await readMachine(lab, guest, state)])),
      ),
    vhostUnusable: vhostSupport().reason ?? null,
  };
  return { nics, qemu };
}
