// The qemu side of a lab: g1, g2 (host1's bridge) and g3 (host2's) as virtual machines on taps.
// What a lab started is written under its state directory (lab.json, one run directory per guest
// with qemu's pidfile), so `lab down` in another process — or after a crash — finds and ends it.

import { existsSync, readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { HypervisorTasks } from "../analysis/cpu-components.js";
import { QemuGuestEndpoint } from "../endpoints/qemu.js";
import { InputError } from "../errors.js";
import { buildImage, type GuestImage } from "../guests/image.js";
import {
  type Accelerator,
  DEFAULT_HARDWARE,
  type GuestHardware,
  guestFiles,
  guestMac,
  guestPid,
  hostAccelerator,
  QEMU_BINARY,
  startGuest,
  stopGuest,
  vhostSupport,
} from "../guests/qemu.js";
import { vcpuThreads } from "../guests/qmp.js";
import { execCommand } from "../util/process.js";
import type { LabTopology } from "./topology.js";

export const GUEST_KINDS = ["netns", "qemu"] as const;
export type GuestKind = (typeof GUEST_KINDS)[number];

export function parseGuestKind(value: string | undefined, where = "--guests"): GuestKind | undefined {
  if (value === undefined) return undefined;
  if (!(GUEST_KINDS as readonly string[]).includes(value))
    throw new InputError(`${where}: '${value}' is not one of ${GUEST_KINDS.join(", ")}`);
  return value as GuestKind;
}
export const LAB_GUESTS = ["g1", "g2", "g3"] as const;
export type LabGuest = (typeof LAB_GUESTS)[number];

export interface QemuLabOptions {
  /** The user's own kernel and initrd instead of `image build`'s. */
  kernel?: string;
  initrd?: string;
  hardware?: Partial<GuestHardware>;
  /** The accelerator instead of the host's choice (a hypervisor option's). */
  accel?: "kvm" | "tcg";
  bootTimeoutMs?: number;
}

/** What a qemu lab records about each guest, for the run's metadata. */
export interface GuestRecord {
  node: LabGuest;
  pid: number;
  bootMs: number;
  accelerator: Accelerator;
  qemuVersion: string;
  argv: string[];
  kernel: string;
  kernelRelease?: string;
  initrd: string;
  hardware: GuestHardware;
  /** Hardware asked for that this host cannot give, with the reason (vhost here). */
  skipped: { option: string; reason: string }[];
}

export interface QemuLabState {
  guests: "qemu";
  image: GuestImage;
  records: Record<LabGuest, GuestRecord>;
}

export function labStateDir(name: string): string {
  return join(process.env.VNETBENCH_RUN_DIR ?? "/run/vnetbench", "labs", name);
}

export function guestRunDir(name: string, guest: LabGuest): string {
  return join(labStateDir(name), guest);
}

export function isGuestNode(node: string): node is LabGuest {
  return (LAB_GUESTS as readonly string[]).includes(node);
}

export function readQemuLabState(name: string): QemuLabState | undefined {
  const file = join(labStateDir(name), "lab.json");
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as QemuLabState;
}

async function writeState(name: string, state: QemuLabState): Promise<void> {
  await mkdir(labStateDir(name), { recursive: true });
  await writeFile(join(labStateDir(name), "lab.json"), `${JSON.stringify(state, null, 2)}\n`);
}

export function validateHardware(hardware: Partial<GuestHardware>): GuestHardware {
  const merged = { ...DEFAULT_HARDWARE, ...hardware };
  const whole = (field: string, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max)
      throw new InputError(`guest ${field}: ${value} is not a whole number from ${min} to ${max}`);
  };
  whole("queues", merged.queues, 1, 8);
  whole("cpus", merged.cpus, 1, 8);
  whole("memoryMb", merged.memoryMb, 128, 16384);
  if (merged.mtu !== undefined) whole("mtu", merged.mtu, 68, 65535);
  for (const [key, value] of Object.entries(merged.deviceProperties)) {
    if (!/^[\w-]+$/.test(key) || !/^[\w.-]+$/.test(value))
      throw new InputError(`virtio-net-pci property ${key}=${value}: expected a name and a plain value`);
  }
  return merged;
}

async function resolveImage(options: QemuLabOptions): Promise<GuestImage> {
  if (options.kernel || options.initrd) {
    if (!options.kernel || !options.initrd)
      throw new InputError("a guest's own image needs both --kernel and --initrd");
    for (const file of [options.kernel, options.initrd])
      if (!existsSync(file)) throw new InputError(`guest image file ${file} does not exist`);
    return { kernel: options.kernel, initrd: options.initrd, source: { kind: "user" } };
  }
  return buildImage();
}

export async function qemuVersion(): Promise<string> {
  const { stdout } = await execCommand([QEMU_BINARY, "--version"], { timeoutMs: 10_000 }).catch(() => {
    throw new InputError(
      `${QEMU_BINARY} is not installed: apt-get install qemu-system-x86 (or run the lab with --guests netns)`,
    );
  });
  return stdout.split("\n")[0]!.trim();
}

/** The commands that put a tap for each guest on its host's bridge. */
export function tapCommands(topology: LabTopology, queues: number): string[][] {
  return LAB_GUESTS.flatMap((guest) => {
    const { a } = topology.links[guest];
    const ns = topology.namespaces[a.node];
    return [
      [
        "ip",
        "-n",
        ns,
        "tuntap",
        "add",
        "dev",
        a.ifname,
        "mode",
        "tap",
        ...(queues > 1 ? ["multi_queue"] : []),
      ],
      ["ip", "-n", ns, "link", "set", a.ifname, "master", a.bridge!],
      ["ip", "-n", ns, "link", "set", a.ifname, "up"],
    ];
  });
}

/**
 * Emulated (TCG) vCPUs beyond twice the host's CPUs starve one another while the guests boot: the
 * guest kernels' timers and RCU stall past the boot deadline. Such guests boot one at a time.
 */
function bootsOneAtATime(accel: string, vcpusPerGuest: number): boolean {
  return accel !== "kvm" && LAB_GUESTS.length * vcpusPerGuest > 2 * availableParallelism();
}

/** Runs `each` over the items, all at once or one after another. */
async function forEach<T, R>(
  items: readonly T[],
  oneAtATime: boolean,
  each: (item: T) => Promise<R>,
): Promise<R[]> {
  if (!oneAtATime) return Promise.all(items.map(each));
  const results: R[] = [];
  for (const item of items) results.push(await each(item));
  return results;
}

/** Boots the three guests on their taps (in parallel unless they would starve); each one that fails names itself. */
export async function bootGuests(
  topology: LabTopology,
  options: QemuLabOptions,
  image?: GuestImage,
): Promise<QemuLabState> {
  const hardware = validateHardware(options.hardware ?? {});
  const version = await qemuVersion();
  const resolved = image ?? (await resolveImage(options));
  const host = hostAccelerator();
  const accelerator: Accelerator =
    options.accel === undefined || options.accel === host.accel
      ? host
      : { accel: options.accel, reason: "asked for by a hypervisor option" };
  const vhost = vhostSupport();
  const records = await forEach(
    LAB_GUESTS,
    bootsOneAtATime(accelerator.accel, hardware.cpus),
    async (guest): Promise<GuestRecord> => {
      const { a, b } = topology.links[guest];
      const runDir = guestRunDir(topology.name, guest);
      const started = await startGuest(
        {
          name: guest,
          kernel: resolved.kernel,
          initrd: resolved.initrd,
          tap: a.ifname,
          mac: guestMac(b.address!),
          address: b.address!,
          gateway: topology.bridges.find((bridge) => bridge.node === a.node)!.address.split("/")[0]!,
          accel: accelerator.accel,
          hardware,
          runDir,
        },
        topology.namespaces[a.node],
        options.bootTimeoutMs,
      );
      return {
        node: guest,
        pid: started.pid,
        bootMs: started.bootMs,
        accelerator,
        qemuVersion: version,
        argv: started.argv,
        kernel: resolved.kernel,
        kernelRelease: started.kernelRelease,
        initrd: resolved.initrd,
        hardware,
        skipped: hardware.vhost && !vhost.ok ? [{ option: "vhost", reason: vhost.reason! }] : [],
      };
    },
  );
  const state: QemuLabState = {
    guests: "qemu",
    image: resolved,
    records: Object.fromEntries(records.map((r) => [r.node, r])) as Record<LabGuest, GuestRecord>,
  };
  await writeState(topology.name, state);
  return state;
}

/**
 * Restarts every guest of a running lab with other hardware or accelerator (a hypervisor option's);
 * the taps are recreated when multi-queue is switched on or off (a tap's queue mode is fixed).
 */
export async function restartGuests(
  topology: LabTopology,
  state: QemuLabState,
  machine: { hardware: GuestHardware; accel: "kvm" | "tcg" },
  bootTimeoutMs?: number,
): Promise<QemuLabState> {
  const hardware = validateHardware(machine.hardware);
  for (const guest of LAB_GUESTS) await stopGuest(guestRunDir(topology.name, guest));
  const before = state.records.g1.hardware.queues > 1;
  if (before !== hardware.queues > 1) {
    for (const guest of LAB_GUESTS) {
      const { a } = topology.links[guest];
      await execCommand(["ip", "-n", topology.namespaces[a.node], "link", "del", a.ifname], {
        timeoutMs: 15_000,
      });
    }
    for (const argv of tapCommands(topology, hardware.queues)) await execCommand(argv, { timeoutMs: 15_000 });
  }
  return bootGuests(topology, { hardware, accel: machine.accel, bootTimeoutMs }, state.image);
}

/** Ends every guest qemu of the lab (by pidfile) and removes its state. */
export async function stopGuests(name: string): Promise<string[]> {
  const stopped: string[] = [];
  for (const guest of LAB_GUESTS) {
    if (await stopGuest(guestRunDir(name, guest))) stopped.push(`qemu ${guest}`);
  }
  await rm(labStateDir(name), { recursive: true, force: true });
  return stopped;
}

export function guestEndpoints(topology: LabTopology): Record<LabGuest, QemuGuestEndpoint> {
  return Object.fromEntries(
    LAB_GUESTS.map((guest) => [
      guest,
      new QemuGuestEndpoint(
        guest,
        "guest",
        topology.addresses[guest],
        guestFiles(guestRunDir(topology.name, guest)),
      ),
    ]),
  ) as Record<LabGuest, QemuGuestEndpoint>;
}

/** The lab's qemu processes (pidfiles) and their vCPU threads (QMP). */
export async function labHypervisorTasks(name: string): Promise<HypervisorTasks> {
  const qemuPids: number[] = [];
  const vcpuTids: number[] = [];
  for (const guest of LAB_GUESTS) {
    const runDir = guestRunDir(name, guest);
    const pid = guestPid(runDir);
    if (pid === undefined) continue;
    qemuPids.push(pid);
    for (const thread of await vcpuThreads(guestFiles(runDir).qmpSocket)) vcpuTids.push(thread.threadId);
  }
  return { qemuPids, vcpuTids };
}

/** Problems of a qemu lab's guests: a qemu that is not running. */
export function guestProblems(name: string): string[] {
  return LAB_GUESTS.filter((guest) => guestPid(guestRunDir(name, guest)) === undefined).map(
    (guest) => `guest ${guest}'s qemu is not running`,
  );
}
