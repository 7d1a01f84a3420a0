// Drives burner.mjs — a process that counts its own CPU exactly (getrusage) — under the CPU
// monitor: the accuracy test's bounds and bench/cpu-accuracy.ts's figures both come from it.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Endpoint } from "../../src/endpoints/endpoint.js";
import { startCpuMonitor } from "../../src/monitors/cpu-monitor.js";
import type { CpuReport } from "../../src/monitors/cpu-report.js";

const BURNER = fileURLToPath(new URL("./burner.mjs", import.meta.url));

/** What the burner counted itself over its burn. */
export interface Burn {
  cpuSeconds: number;
  wallSeconds: number;
  cycles: number;
}

export interface BurnCase {
  name: string;
  busyUs: number;
  idleUs: number;
}

/** A steady loop, and duty cycles whose wake-ups /proc/stat's tick-sampled busy columns miss. */
export const BURN_CASES: BurnCase[] = [
  { name: "steady loop", busyUs: 1_000_000_000, idleUs: 0 },
  { name: "100 µs busy / 900 µs idle", busyUs: 100, idleUs: 900 },
  { name: "20 µs busy / 80 µs idle", busyUs: 20, idleUs: 80 },
  { name: "500 µs busy / 500 µs idle", busyUs: 500, idleUs: 500 },
];

export interface MonitoredBurn {
  burn: Burn;
  report: CpuReport;
  /** CPU-seconds the monitor attributed to the burner's threads (schedstat). */
  attributedSeconds: number;
  /**
   * The burner's own CPU-seconds from just before the monitor opened to just after it closed: with
   * the burn's, the bracket the attributed figure must fall in, whatever else the machine does.
   */
  enclosingSeconds: number;
}

/** Runs one burn of `durationMs` under a CPU monitor of `endpoint` that attributes the burner. */
export async function monitoredBurn(
  endpoint: Endpoint,
  { busyUs, idleUs }: BurnCase,
  durationMs: number,
): Promise<MonitoredBurn> {
  const child = spawn(process.execPath, [BURNER, String(busyUs), String(idleUs), String(durationMs)], {
    stdio: "pipe",
  });
  try {
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    assert.equal((await lines.next()).value, "ready", "burner did not start");
    const ask = async (request: string) => {
      child.stdin.write(`${request}\n`);
      return JSON.parse((await lines.next()).value as string) as Burn;
    };
    const before = await ask("mark");
    const monitor = await startCpuMonitor(endpoint, { processes: [{ name: "burner", pids: [child.pid!] }] });
    const burn = await ask("go");
    const report = await monitor.stop();
    const after = await ask("mark");
    return {
      burn,
      report,
      attributedSeconds: report.processes[0]!.seconds,
      enclosingSeconds: after.cpuSeconds - before.cpuSeconds,
    };
  } finally {
    child.stdin.end();
    const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
    if (child.exitCode === null) await once(child, "exit");
    clearTimeout(timer);
  }
}

export function pct(x: number): string {
  return `${x >= 0 ? "+" : ""}${(x * 100).toFixed(2)} %`;
}
