// What splits one machine's CPU over the path's hosts on it (a netns lab's host1 and host2): the
// processes in each host's namespaces, followed by the CPU monitor, and the packets its
// namespaces' interfaces handled over the window.

import type { HostMeasure } from "../analysis/cpu-hosts.js";
import type { PathHost } from "../drivers/driver.js";
import type { Endpoint } from "../endpoints/endpoint.js";
import type { CpuReport } from "./cpu-report.js";
import type { ProcessSelector } from "./processes.js";

/** The CPU monitor's process selection of a host's processes. */
export const hostGroup = (host: string): string => `host:${host}`;

/** Packets received plus sent on every interface of a /proc/net/dev but loopback's. Pure. */
export function parseNetDevPackets(text: string): number {
  let packets = 0;
  for (const line of text.split("\n")) {
    const match = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!match || match[1] === "lo") continue;
    const fields = match[2]!.trim().split(/\s+/).map(Number);
    packets += (fields[1] ?? 0) + (fields[9] ?? 0);
  }
  return packets;
}

export interface HostShareWindow {
  /** Selections for the CPU monitor: each host's processes, as they were when the window opened. */
  selectors: ProcessSelector[];
  /** Reads the packet counters again; with the monitor's report, each host's measure. */
  close(report: CpuReport): Promise<HostMeasure[]>;
}

/** Lists each host's processes and reads its packet counters, through `machine` (this one). */
export async function openHostShare(machine: Endpoint, hosts: readonly PathHost[]): Promise<HostShareWindow> {
  const packets = () => Promise.all(hosts.map((host) => namespacesPackets(machine, host.namespaces)));
  const [pids, before] = await Promise.all([
    Promise.all(hosts.map((host) => namespacesPids(machine, host.namespaces))),
    packets(),
  ]);
  return {
    selectors: hosts.map((host, i) => ({ name: hostGroup(host.name), pids: pids[i]! })),
    async close(report) {
      const after = await packets();
      return hosts.map((host, i) => ({
        name: host.name,
        processSeconds: report.processes.find((p) => p.name === hostGroup(host.name))?.seconds ?? 0,
        packets: Math.max(0, after[i]! - before[i]!),
      }));
    },
  };
}

async function namespacesPids(machine: Endpoint, namespaces: readonly string[]): Promise<number[]> {
  const lists = await Promise.all(
    namespaces.map((ns) => machine.exec(["ip", "netns", "pids", ns], { timeoutMs: 10_000 })),
  );
  return lists.flatMap((list) => list.stdout.split(/\s+/).filter(Boolean).map(Number));
}

async function namespacesPackets(machine: Endpoint, namespaces: readonly string[]): Promise<number> {
  const texts = await Promise.all(
    namespaces.map((ns) =>
      machine.exec(["ip", "netns", "exec", ns, "cat", "/proc/net/dev"], { timeoutMs: 10_000 }),
    ),
  );
  return texts.reduce((sum, text) => sum + parseNetDevPackets(text.stdout), 0);
}
