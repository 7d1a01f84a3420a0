// The facts of every endpoint of a run — CPU, sockets/cores/threads, NUMA nodes, memory, NICs with
// driver, speed, MTU and offloads (ethtool), kernel and command line, qemu/libvirt versions,
// governor, sysctls — read on the endpoint itself, and the run's fingerprint hash.

import type { Endpoint } from "../endpoints/endpoint.js";
import {
  type EndpointFacts,
  fingerprintFacts,
  fingerprintHash,
  type NicFacts,
  parseColonLines,
  parseLscpu,
  parseOffloads,
  RECORDED_OFFLOADS,
  softwareFacts,
} from "./fingerprint-parse.js";

export const RECORDED_SYSCTLS = [
  "net.core.rmem_max",
  "net.core.wmem_max",
  "net.core.rmem_default",
  "net.core.wmem_default",
  "net.core.netdev_max_backlog",
  "net.core.busy_poll",
  "net.core.busy_read",
  "net.core.default_qdisc",
  "net.ipv4.tcp_rmem",
  "net.ipv4.tcp_wmem",
  "net.ipv4.tcp_congestion_control",
  "net.ipv4.tcp_timestamps",
  "kernel.numa_balancing",
  "kernel.sched_autogroup_enabled",
] as const;

const MAX_NICS = 32;
const TIMEOUT_MS = 10_000;

/** Facts read on one endpoint; what cannot be read is null, and why goes to `errors`. */
export async function endpointFacts(endpoint: Endpoint): Promise<EndpointFacts> {
  const errors: string[] = [];
  const attempt = async <T>(what: string, read: () => Promise<T>): Promise<T | null> => {
    try {
      return await read();
    } catch (error) {
      errors.push(`${what}: ${(error as Error).message.split("\n")[0]}`);
      return null;
    }
  };
  const quiet = async <T>(read: () => Promise<T>): Promise<T | null> => read().catch(() => null);
  const run = async (argv: string[]) => (await endpoint.exec(argv, { timeoutMs: TIMEOUT_MS })).stdout;
  const file = async (path: string) => (await endpoint.readFile(path)).trim();
  const number = (text: string | undefined) =>
    text === undefined || text === "" || Number.isNaN(Number(text)) ? null : Number(text);

  const lscpu = (await attempt("lscpu", async () => parseLscpu(await run(["lscpu", "-J"])))) ?? {};
  const meminfo = await attempt("meminfo", async () => parseColonLines(await file("/proc/meminfo")));
  const memKb = meminfo?.MemTotal ? Number.parseInt(meminfo.MemTotal, 10) : null;
  const sysctls: Record<string, string> = {};
  for (const name of RECORDED_SYSCTLS) {
    const value = await quiet(() => file(`/proc/sys/${name.replaceAll(".", "/")}`));
    if (value !== null) sysctls[name] = value.replace(/\s+/g, " ");
  }
  const arch = lscpu.Architecture ?? "x86_64";
  const firstLine = (text: string | null) => text?.trim().split("\n")[0] ?? null;
  return {
    endpoint: endpoint.name,
    role: endpoint.role,
    kind: endpoint.kind,
    hostname: await quiet(() => file("/proc/sys/kernel/hostname")),
    cpuModel: lscpu["Model name"] ?? null,
    cpus: number(lscpu["CPU(s)"]),
    sockets: number(lscpu["Socket(s)"]),
    coresPerSocket: number(lscpu["Core(s) per socket"]),
    threadsPerCore: number(lscpu["Thread(s) per core"]),
    numaNodes: number(lscpu["NUMA node(s)"]) ?? 1,
    memoryBytes: memKb === null ? null : memKb * 1024,
    kernel: await attempt(
      "kernel",
      async () => `${await file("/proc/sys/kernel/osrelease")} ${await file("/proc/sys/kernel/version")}`,
    ),
    cmdline: await attempt("cmdline", () => file("/proc/cmdline")),
    governor: await quiet(() => file("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")),
    qemu: firstLine(await quiet(() => run([`qemu-system-${arch}`, "--version"]))),
    libvirt: firstLine(await quiet(() => run(["virsh", "--version"]))),
    nics: (await attempt("nics", () => nicFacts(run, file))) ?? [],
    sysctls,
    errors,
  };
}

async function nicFacts(
  run: (argv: string[]) => Promise<string>,
  file: (path: string) => Promise<string>,
): Promise<NicFacts[]> {
  const links = (
    JSON.parse(await run(["ip", "-j", "link", "show"])) as Array<{
      ifname: string;
      mtu: number;
      link_type?: string;
    }>
  )
    .filter((link) => link.link_type !== "loopback")
    .slice(0, MAX_NICS);
  const nics: NicFacts[] = [];
  for (const link of links) {
    const info = parseColonLines((await run(["ethtool", "-i", link.ifname]).catch(() => "")) || "");
    const offloads = parseOffloads(await run(["ethtool", "-k", link.ifname]).catch(() => ""));
    const speed = Number(await file(`/sys/class/net/${link.ifname}/speed`).catch(() => ""));
    nics.push({
      name: link.ifname,
      driver: info.driver || null,
      busInfo: info["bus-info"] || null,
      // -1 or unreadable: the link reports no speed (virtual, or down).
      speedMbps: Number.isFinite(speed) && speed > 0 ? speed : null,
      mtu: link.mtu,
      offloads: Object.fromEntries(
        RECORDED_OFFLOADS.filter((name) => name in offloads).map((name) => [name, offloads[name]!]),
      ),
    });
  }
  return nics;
}

/** What a run records about where it ran: every endpoint's facts, and the fingerprint over them. */
export interface RunFingerprint {
  /** Hash of `fingerprintFacts`: equal for two runs on the same hardware. */
  fingerprint: string;
  fingerprintFacts: Array<Record<string, unknown>>;
  software: Record<string, unknown>;
  endpointFacts: EndpointFacts[];
}

export async function collectFingerprint(endpoints: readonly Endpoint[]): Promise<RunFingerprint> {
  const facts = await Promise.all(endpoints.map(endpointFacts));
  const hardware = fingerprintFacts(facts);
  return {
    fingerprint: fingerprintHash(hardware),
    fingerprintFacts: hardware,
    software: softwareFacts(facts),
    endpointFacts: facts,
  };
}
