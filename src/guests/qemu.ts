// A qemu guest on a tap: its command line (pure), and starting, waiting for and stopping it.
// qemu runs inside the network namespace that holds its tap, daemonized with a pidfile; it is
// only ever killed by the PID of that pidfile, after checking the process is that qemu.

import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { QemuGuestInfo } from "../endpoints/qemu.js";
import { RunError } from "../errors.js";
import { CommandError, execCommand } from "../util/process.js";
import { CMDLINE, GUEST_READY } from "./init-script.js";

export const QEMU_BINARY = "qemu-system-x86_64";
export const CONTROL_PORTS = 8;
/** The virtio-net-pci device's id: its QOM path is /machine/peripheral/NIC_ID. */
export const NIC_ID = "nic0";
const BOOT_TIMEOUT_MS = 120_000;

/** Settings of a guest that need a restart to change (the hypervisor options). */
export interface GuestHardware {
  /** vhost-net for the tap: on only where /dev/vhost-net exists. */
  vhost: boolean;
  /** virtio-net queue pairs (a multi_queue tap when > 1). */
  queues: number;
  cpus: number;
  memoryMb: number;
  /** Extra virtio-net-pci properties, e.g. { mrg_rxbuf: "off", packed: "on" }. */
  deviceProperties: Record<string, string>;
  /** Guest MTU set at boot (else the kernel's default). */
  mtu?: number;
}

export const DEFAULT_HARDWARE: GuestHardware = {
  vhost: true,
  queues: 1,
  cpus: 1,
  memoryMb: 256,
  deviceProperties: {},
};

export interface GuestSpec {
  name: string;
  kernel: string;
  initrd: string;
  tap: string;
  mac: string;
  /** Address with prefix length, e.g. 10.213.1.11/24. */
  address: string;
  gateway: string;
  accel: "kvm" | "tcg";
  hardware: GuestHardware;
  runDir: string;
}

export interface Accelerator {
  accel: "kvm" | "tcg";
  reason: string;
}

/**
 * KVM only where the CPU shows vmx or svm: a paravirtual /dev/kvm without them hangs stock
 * kernels in their decompressor (GUESTLAB.md).
 */
export function chooseAccelerator(cpuinfo: string, kvmDevice: boolean): Accelerator {
  const flags = /^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.split(/\s+/) ?? [];
  const virt = flags.includes("vmx") || flags.includes("svm");
  if (virt && kvmDevice) return { accel: "kvm", reason: "/dev/kvm and vmx/svm present" };
  if (!kvmDevice) return { accel: "tcg", reason: "no /dev/kvm: software emulation (TCG)" };
  return { accel: "tcg", reason: "/dev/kvm without vmx/svm in /proc/cpuinfo: software emulation (TCG)" };
}

export function hostAccelerator(): Accelerator {
  return chooseAccelerator(readFileSync("/proc/cpuinfo", "utf8"), existsSync("/dev/kvm"));
}

/** Whether vhost-net can be used, and if not why. */
export function vhostSupport(vhostDevice = existsSync("/dev/vhost-net")): { ok: boolean; reason?: string } {
  return vhostDevice ? { ok: true } : { ok: false, reason: "no /dev/vhost-net on this host" };
}

export function guestFiles(runDir: string): QemuGuestInfo & {
  runDir: string;
  qmpSocket: string;
  controlSockets: string[];
  pidFile: string;
  console: string;
  argvFile: string;
} {
  return {
    runDir,
    qmpSocket: join(runDir, "qmp.sock"),
    controlSockets: Array.from({ length: CONTROL_PORTS }, (_, i) => join(runDir, `ctl${i}.sock`)),
    pidFile: join(runDir, "qemu.pid"),
    console: join(runDir, "console.log"),
    argvFile: join(runDir, "qemu.json"),
  };
}

/** The qemu command line of a guest; vhost is asked for only when `vhostUsable`. */
export function qemuArgv(spec: GuestSpec, vhostUsable: boolean): string[] {
  const files = guestFiles(spec.runDir);
  const hw = spec.hardware;
  const append = [
    "console=ttyS0",
    "panic=-1",
    "quiet",
    `${CMDLINE.address}=${spec.address}`,
    `${CMDLINE.gateway}=${spec.gateway}`,
    ...(hw.mtu ? [`${CMDLINE.mtu}=${hw.mtu}`] : []),
  ].join(" ");
  const netdev = [
    "tap",
    "id=net0",
    `ifname=${spec.tap}`,
    "script=no",
    "downscript=no",
    `vhost=${hw.vhost && vhostUsable ? "on" : "off"}`,
    ...(hw.queues > 1 ? [`queues=${hw.queues}`] : []),
  ].join(",");
  const device = [
    "virtio-net-pci",
    `id=${NIC_ID}`,
    "netdev=net0",
    `mac=${spec.mac}`,
    ...(hw.queues > 1 ? ["mq=on", `vectors=${2 * hw.queues + 2}`] : []),
    ...Object.entries(hw.deviceProperties).map(([key, value]) => `${key}=${value}`),
  ].join(",");
  const argv = [
    QEMU_BINARY,
    "-name",
    `${spec.name},debug-threads=on`,
    "-accel",
    spec.accel,
    ...(spec.accel === "kvm" ? ["-cpu", "host"] : []),
    "-m",
    String(hw.memoryMb),
    "-smp",
    String(hw.cpus),
    "-nodefaults",
    "-display",
    "none",
    "-no-reboot",
    "-kernel",
    spec.kernel,
    "-initrd",
    spec.initrd,
    "-append",
    append,
    "-netdev",
    netdev,
    "-device",
    device,
    "-virtfs",
    "local,path=/,mount_tag=hostroot,security_model=none,readonly=on",
    "-device",
    "virtio-serial-pci,id=vser",
  ];
  files.controlSockets.forEach((path, i) => {
    argv.push("-chardev", `socket,id=ctl${i},path=${path},server=on,wait=off`);
    argv.push("-device", `virtserialport,bus=vser.0,chardev=ctl${i},name=vnb.${i}`);
  });
  argv.push("-chardev", `file,id=con,path=${files.console}`, "-serial", "chardev:con");
  argv.push("-qmp", `unix:${files.qmpSocket},server=on,wait=off`);
  argv.push("-daemonize", "-pidfile", files.pidFile);
  return argv;
}

/** A locally administered MAC from the guest's address, so it is stable across restarts. */
export function guestMac(address: string): string {
  const octets = address.split("/")[0]!.split(".").map(Number);
  return ["52", "54", ...octets.map((o) => o.toString(16).padStart(2, "0"))].join(":");
}

export interface StartedGuest {
  pid: number;
  argv: string[];
  bootMs: number;
  kernelRelease?: string;
}

/** Tail of a guest's console, for errors. */
export async function consoleTail(runDir: string, lines = 15): Promise<string> {
  const text = await readFile(guestFiles(runDir).console, "utf8").catch(() => "");
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** The qemu process of a pidfile, only when it is still that qemu (a PID can be reused). */
export function guestPid(runDir: string): number | undefined {
  const files = guestFiles(runDir);
  try {
    const pid = Number(readFileSync(files.pidFile, "utf8").trim());
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes(QEMU_BINARY) && cmdline.includes(files.pidFile) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Starts qemu in the namespace and waits for the guest's ready line on its console. */
export async function startGuest(
  spec: GuestSpec,
  namespace: string,
  timeoutMs = BOOT_TIMEOUT_MS,
): Promise<StartedGuest> {
  await rm(spec.runDir, { recursive: true, force: true });
  await mkdir(spec.runDir, { recursive: true });
  const files = guestFiles(spec.runDir);
  const argv = qemuArgv(spec, vhostSupport().ok);
  await writeFile(files.argvFile, `${JSON.stringify({ argv, spec }, null, 2)}\n`);
  const began = Date.now();
  try {
    await execCommand(["ip", "netns", "exec", namespace, ...argv], { timeoutMs: 30_000 });
  } catch (error) {
    const detail = error instanceof CommandError ? error.message : String(error);
    throw new RunError(`guest ${spec.name}: qemu did not start: ${detail}`);
  }
  const pid = guestPid(spec.runDir);
  for (;;) {
    const console = await readFile(files.console, "utf8").catch(() => "");
    const ready = new RegExp(`^${GUEST_READY} (\\S+)`, "m").exec(console);
    if (ready) return { pid: pid ?? 0, argv, bootMs: Date.now() - began, kernelRelease: ready[1] };
    const alive = guestPid(spec.runDir) !== undefined;
    if (!alive || Date.now() - began > timeoutMs) {
      await stopGuest(spec.runDir);
      const why = alive ? `did not boot within ${timeoutMs / 1000} s` : "qemu exited during boot";
      throw new RunError(`guest ${spec.name} ${why}; console tail:\n${await consoleTail(spec.runDir)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Ends a guest's qemu by its pidfile (SIGTERM, then SIGKILL); true when one was running. */
export async function stopGuest(runDir: string): Promise<boolean> {
  const pid = guestPid(runDir);
  if (pid === undefined) return false;
  process.kill(pid, "SIGTERM");
  for (let waited = 0; waited < 5_000; waited += 100) {
    if (guestPid(runDir) === undefined) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (guestPid(runDir) !== undefined) process.kill(pid, "SIGKILL");
  return true;
}
