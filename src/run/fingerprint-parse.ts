// Pure parsers of the tools and files a machine's facts come from (lscpu -J, ethtool, ip -j link,
// /proc/meminfo), and the fingerprint: a hash of what must be equal for two runs to be comparable.

import { createHash } from "node:crypto";

/** `lscpu -J` → field (without its colon) → value. */
export function parseLscpu(json: string): Record<string, string> {
  const parsed = JSON.parse(json) as { lscpu?: Array<{ field: string; data: string | null }> };
  return Object.fromEntries(
    (parsed.lscpu ?? []).map((entry) => [entry.field.replace(/:$/, ""), entry.data ?? ""]),
  );
}

/** "key: value" lines (ethtool -i, /proc/meminfo) → key → value. */
export function parseColonLines(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^([^:\t][^:]*):\s*(.*)$/.exec(line);
    if (match) result[match[1]!.trim()] = match[2]!.trim();
  }
  return result;
}

/** `ethtool -k IF` → feature → "on"/"off" (fixed features keep their "[fixed]" mark out). */
export function parseOffloads(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const line of text.split("\n").slice(1)) {
    const match = /^\s*([\w-]+):\s*(on|off)/.exec(line);
    if (match) result[match[1]!] = match[2]!;
  }
  return result;
}

/** Offloads that change what a packet costs: the ones worth recording. */
export const RECORDED_OFFLOADS = [
  "rx-checksumming",
  "tx-checksumming",
  "scatter-gather",
  "tcp-segmentation-offload",
  "generic-segmentation-offload",
  "generic-receive-offload",
  "large-receive-offload",
  "rx-gro-hw",
  "rx-vlan-offload",
  "tx-vlan-offload",
  "receive-hashing",
] as const;

export interface NicFacts {
  name: string;
  driver: string | null;
  /** PCI (or other bus) address; empty for virtual interfaces (veth, bridge, tap). */
  busInfo: string | null;
  speedMbps: number | null;
  mtu: number;
  offloads: Record<string, string>;
}

export interface EndpointFacts {
  endpoint: string;
  role: string;
  kind: string;
  hostname: string | null;
  cpuModel: string | null;
  cpus: number | null;
  sockets: number | null;
  coresPerSocket: number | null;
  threadsPerCore: number | null;
  numaNodes: number | null;
  memoryBytes: number | null;
  kernel: string | null;
  cmdline: string | null;
  governor: string | null;
  qemu: string | null;
  libvirt: string | null;
  nics: NicFacts[];
  sysctls: Record<string, string>;
  /** Facts that could not be read, with why. */
  errors: string[];
}

/** The hardware facts two comparable runs share, per endpoint role: CPU, memory, NUMA, physical NICs, governor. */
export function fingerprintFacts(endpoints: readonly EndpointFacts[]): Array<Record<string, unknown>> {
  return [...endpoints]
    .sort((a, b) => `${a.role}/${a.endpoint}`.localeCompare(`${b.role}/${b.endpoint}`))
    .map((e) => ({
      role: e.role,
      cpuModel: e.cpuModel,
      cpus: e.cpus,
      sockets: e.sockets,
      coresPerSocket: e.coresPerSocket,
      threadsPerCore: e.threadsPerCore,
      numaNodes: e.numaNodes,
      // Whole GiB: the kernel's own reservations move MemTotal by a few MB between boots.
      memoryGiB: e.memoryBytes === null ? null : Math.round(e.memoryBytes / 2 ** 30),
      governor: e.governor,
      nics: e.nics
        .filter((nic) => nic.busInfo)
        .map((nic) => ({ driver: nic.driver, speedMbps: nic.speedMbps }))
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    }));
}

/** sha256 of the fingerprint facts, first 16 hex digits. */
export function fingerprintHash(facts: unknown): string {
  return createHash("sha256").update(JSON.stringify(facts)).digest("hex").slice(0, 16);
}

/** Software facts a candidate may change on purpose (kernel, qemu, sysctls): shown when they differ, never blocking. */
export function softwareFacts(endpoints: readonly EndpointFacts[]): Record<string, unknown> {
  return Object.fromEntries(
    endpoints.map((e) => [
      e.endpoint,
      {
        kernel: e.kernel,
        cmdline: e.cmdline,
        qemu: e.qemu,
        libvirt: e.libvirt,
        sysctls: e.sysctls,
        nics: Object.fromEntries(e.nics.map((nic) => [nic.name, { mtu: nic.mtu, offloads: nic.offloads }])),
      },
    ]),
  );
}
