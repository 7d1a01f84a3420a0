// Datagrams the kernel dropped at a receiving socket (its buffer full, a bad checksum) are not
// the path's loss: they are read from the namespace's /proc/net/snmp before and after a trial and
// reported apart (summary.loss.socketDrops).

import { readFile, readlink } from "node:fs/promises";

export interface NetCounters {
  /** The network namespace these counters belong to (two agents in one namespace count once). */
  namespace: string;
  /** Udp and Udp6 InErrors (which include RcvbufErrors) summed. */
  udpInErrors: number;
  /** This agent process's CPU time (all its threads) and the monotonic clock, to tell a saturated generator. */
  cpuUs: number;
  atNs: number;
}

/** Sum of the InErrors columns of the Udp: lines of /proc/net/snmp and Udp6InErrors of snmp6. */
export function parseUdpInErrors(snmp: string, snmp6 = ""): number {
  let total = 0;
  const lines = snmp.split("\n");
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i]!.startsWith("Udp: ") || !lines[i + 1]!.startsWith("Udp: ")) continue;
    const names = lines[i]!.trim().split(/\s+/);
    const values = lines[i + 1]!.trim().split(/\s+/);
    const column = names.indexOf("InErrors");
    if (column > 0) total += Number(values[column] ?? 0);
    break;
  }
  const v6 = /^Udp6InErrors\s+(\d+)/m.exec(snmp6);
  if (v6) total += Number(v6[1]);
  return total;
}

export async function readNetCounters(): Promise<NetCounters> {
  const [namespace, snmp, snmp6] = await Promise.all([
    readlink("/proc/self/ns/net").catch(() => "unknown"),
    readFile("/proc/net/snmp", "utf8").catch(() => ""),
    readFile("/proc/net/snmp6", "utf8").catch(() => ""),
  ]);
  const { user, system } = process.cpuUsage();
  return {
    namespace,
    udpInErrors: parseUdpInErrors(snmp, snmp6),
    cpuUs: user + system,
    atNs: Number(process.hrtime.bigint()),
  };
}

/** An agent busier than this share of one CPU over a trial was the limit, not the path. */
export const SATURATED_CPU_SHARE = 0.95;

/** The share of one CPU an agent used between two readings (its threads summed). */
export function cpuShareBetween(before: NetCounters, after: NetCounters): number {
  const wallUs = (after.atNs - before.atNs) / 1000;
  return wallUs > 0 ? (after.cpuUs - before.cpuUs) / wallUs : 0;
}

/** Drops over a trial on both ends; one namespace holding both ends is counted once. */
export function socketDropsBetween(
  client: [NetCounters, NetCounters],
  server: [NetCounters, NetCounters] | null,
): number {
  const delta = ([before, after]: [NetCounters, NetCounters]) =>
    Math.max(0, after.udpInErrors - before.udpInErrors);
  const own = delta(client);
  if (!server || server[0].namespace === client[0].namespace) return own;
  return own + delta(server);
}
