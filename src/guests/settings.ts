// Guest and hypervisor options that change something: the qemu settings a hypervisor option asks
// for (they need a guest restart), the in-guest NIC settings a guest option asks for (MTU, ethtool
// offloads and channels), and the parsers of what is read back. Pure.

import type { GuestHardware } from "./qemu.js";

/** qemu settings of a hypervisor option; absent fields keep the lab's own. */
export interface QemuSettings {
  vhost?: boolean;
  queues?: number;
  cpus?: number;
  memoryMb?: number;
  accel?: "kvm" | "tcg";
  /** virtio-net-pci properties, e.g. { mrg_rxbuf: "off" }. */
  device?: Record<string, string>;
}

/** In-guest settings of a guest option, on each guest's network interface. */
export interface NicSettings {
  mtu?: number;
  /** ethtool -K feature → on (true) or off. */
  offloads?: Record<string, boolean>;
  /** ethtool -L combined. */
  channels?: number;
}

/** A guest's qemu as asked for: the lab's hardware with the option's settings over it. */
export interface GuestMachine {
  hardware: GuestHardware;
  accel: "kvm" | "tcg";
}

export function machineWith(base: GuestMachine, settings: QemuSettings | undefined): GuestMachine {
  if (!settings) return base;
  const { accel, device, ...rest } = settings;
  return {
    accel: accel ?? base.accel,
    hardware: {
      ...base.hardware,
      ...rest,
      deviceProperties: { ...base.hardware.deviceProperties, ...device },
    },
  };
}

/** A guest's qemu as read back: from QMP, the host's threads and the guest's driver. */
export interface MachineReadBack {
  pid: number;
  accel: "kvm" | "tcg";
  vcpus: number;
  /** Queue pairs the guest's driver sees on the device (ethtool -l's maximum). */
  queues?: number;
  /** Whether vhost worker threads serve this qemu. */
  vhost: boolean;
  /** virtio-net-pci properties, as QMP qom-get reads them. */
  device: Record<string, string>;
}

/** Where a machine read back differs from the one asked for: "field: asked X, reads Y". */
export function machineMismatches(
  asked: GuestMachine,
  seen: MachineReadBack,
  vhostUsable: boolean,
): string[] {
  const out: string[] = [];
  const check = (field: string, want: unknown, got: unknown) => {
    if (got !== undefined && want !== got) out.push(`${field}: asked ${want}, reads ${got}`);
  };
  check("accel", asked.accel, seen.accel);
  check("cpus", asked.hardware.cpus, seen.vcpus);
  check("queues", asked.hardware.queues, seen.queues);
  check("vhost", asked.hardware.vhost && vhostUsable, seen.vhost);
  for (const [name, value] of Object.entries(asked.hardware.deviceProperties))
    check(name, value, seen.device[name] ?? "(none)");
  return out;
}

/** A qemu or ethtool property's text: booleans as on/off. */
export function onOff(value: unknown): string {
  return typeof value === "boolean" ? (value ? "on" : "off") : String(value);
}

/** Whether two machines start the same qemu (so no restart is needed between them). */
export function sameQemuMachine(a: GuestMachine, b: GuestMachine, vhostUsable: boolean): boolean {
  const key = (m: GuestMachine) =>
    JSON.stringify([
      m.accel,
      m.hardware.vhost && vhostUsable,
      m.hardware.queues,
      m.hardware.cpus,
      m.hardware.memoryMb,
      m.hardware.mtu ?? null,
      Object.entries(m.hardware.deviceProperties).sort(([x], [y]) => x.localeCompare(y)),
    ]);
  return key(a) === key(b);
}

/** A stable key of the settings, so cells needing the same qemu can be grouped. */
export function settingsKey(settings: QemuSettings | undefined): string {
  if (!settings) return "";
  const { device, ...rest } = settings;
  const sorted = Object.entries(rest).sort(([a], [b]) => a.localeCompare(b));
  const props = Object.entries(device ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([sorted, props]);
}

/** Why a hypervisor option's qemu settings cannot be had on this host, or null. */
export function whyQemuUnsupported(
  settings: QemuSettings,
  host: { vhost: { ok: boolean; reason?: string }; kvm: { accel: "kvm" | "tcg"; reason: string } },
): string | null {
  if (settings.vhost === true && !host.vhost.ok) return `vhost: ${host.vhost.reason}`;
  if (settings.accel === "kvm" && host.kvm.accel !== "kvm") return `accel kvm: ${host.kvm.reason}`;
  return null;
}

/** `ethtool -k IF` → feature → on. Fixed features ("[fixed]") are kept: they read back too. */
export function parseEthtoolFeatures(text: string): Record<string, boolean> {
  const features: Record<string, boolean> = {};
  for (const line of text.split("\n")) {
    const match = /^\s*([a-z][\w-]*):\s+(on|off)\b/.exec(line);
    if (match) features[match[1]!] = match[2] === "on";
  }
  return features;
}

/** `ethtool -l IF` → the combined channels: the device's maximum and what the driver uses now. */
export function parseEthtoolChannels(text: string): { max?: number; current?: number } {
  const section = (title: RegExp) => {
    const start = text.search(title);
    if (start < 0) return undefined;
    const match = /Combined:\s+(\d+)/.exec(text.slice(start));
    return match ? Number(match[1]) : undefined;
  };
  return { max: section(/Pre-set maximums/), current: section(/Current hardware settings/) };
}

// ethtool -K takes short names (tso) and prints long ones (tcp-segmentation-offload).
const FEATURE_NAMES: Record<string, string> = {
  tso: "tcp-segmentation-offload",
  gso: "generic-segmentation-offload",
  gro: "generic-receive-offload",
  lro: "large-receive-offload",
  sg: "scatter-gather",
  rx: "rx-checksumming",
  tx: "tx-checksumming",
  rxvlan: "rx-vlan-offload",
  txvlan: "tx-vlan-offload",
  ufo: "udp-fragmentation-offload",
  ntuple: "ntuple-filters",
  rxhash: "receive-hashing",
};

/** The name `ethtool -k` prints for a feature given to `ethtool -K`. */
function featureName(name: string): string {
  return FEATURE_NAMES[name] ?? name;
}

/** The commands that put NIC settings in place on an interface, in order. */
export function nicCommands(ifname: string, settings: NicSettings): string[][] {
  const commands: string[][] = [];
  if (settings.mtu !== undefined)
    commands.push(["ip", "link", "set", "dev", ifname, "mtu", String(settings.mtu)]);
  const offloads = Object.entries(settings.offloads ?? {});
  if (offloads.length > 0)
    commands.push(["ethtool", "-K", ifname, ...offloads.flatMap(([name, on]) => [name, onOff(on)])]);
  if (settings.channels !== undefined)
    commands.push(["ethtool", "-L", ifname, "combined", String(settings.channels)]);
  return commands;
}

/** What NIC settings read back as: the fields asked for, from sysfs and ethtool output. */
export function nicReadBack(
  asked: NicSettings,
  seen: { mtu: string; features?: string; channels?: string },
): NicSettings {
  const result: NicSettings = {};
  if (asked.mtu !== undefined) result.mtu = Number(seen.mtu.trim());
  if (asked.offloads) {
    const features = parseEthtoolFeatures(seen.features ?? "");
    result.offloads = Object.fromEntries(
      Object.keys(asked.offloads).map((name) => [name, features[featureName(name)] ?? false]),
    );
  }
  if (asked.channels !== undefined) {
    const current = parseEthtoolChannels(seen.channels ?? "").current;
    if (current !== undefined) result.channels = current;
  }
  return result;
}

/** The asked-for settings that did not read back as asked: "field: asked X, reads Y". */
export function nicMismatches(asked: NicSettings, read: NicSettings): string[] {
  const out: string[] = [];
  if (asked.mtu !== undefined && read.mtu !== asked.mtu)
    out.push(`mtu: asked ${asked.mtu}, reads ${read.mtu}`);
  for (const [name, on] of Object.entries(asked.offloads ?? {}))
    if (read.offloads?.[name] !== on)
      out.push(`offload ${name}: asked ${onOff(on)}, reads ${onOff(Boolean(read.offloads?.[name]))}`);
  if (asked.channels !== undefined && read.channels !== asked.channels)
    out.push(`channels: asked ${asked.channels}, reads ${read.channels}`);
  return out;
}
