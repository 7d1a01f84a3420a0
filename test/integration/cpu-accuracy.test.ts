// Accuracy of the CPU monitor against a burner that counts its own CPU exactly (getrusage), for a
// steady loop and bursty duty cycles, the load /proc/stat's busy columns under-report.
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { LocalEndpoint } from "../../src/endpoints/local.js";
import { startCpuMonitor } from "../../src/monitors/cpu-monitor.js";
import type { CpuReport } from "../../src/monitors/cpu-report.js";

const BURNER = fileURLToPath(new URL("../helpers/burner.mjs", import.meta.url));
const BURN_MS = 2000;
const BACKGROUND_MS = 500;
const TOLERANCE = 0.03;
// Host-level figures need a quiet machine: the background is measured beside the burn, not during it.
const QUIET_CPUS = 0.25;

const endpoint = new LocalEndpoint();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Burn {
  cpuSeconds: number;
  wallSeconds: number;
  cycles: number;
}

/** A burner waiting for its go; stopped whatever happens. */
async function startBurner(busyUs: number, idleUs: number) {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [BURNER, String(busyUs), String(idleUs), String(BURN_MS)],
    { stdio: "pipe" },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  assert.equal(first.value, "ready", "burner did not start");
  return {
    pid: child.pid!,
    async burn(): Promise<Burn> {
      child.stdin.write("go\n");
      return JSON.parse((await lines.next()).value as string) as Burn;
    },
    async close() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
      if (child.exitCode === null) await once(child, "exit");
      clearTimeout(timer);
    },
  };
}

/** Host CPU-seconds per wall-second with nothing of ours running. */
async function backgroundRate(): Promise<number> {
  const monitor = await startCpuMonitor(endpoint);
  await sleep(BACKGROUND_MS);
  const report = await monitor.stop();
  return report.hostSeconds / report.wallSeconds;
}

const cases = [
  { name: "steady loop", busyUs: 1_000_000_000, idleUs: 0 },
  { name: "100 µs busy / 900 µs idle", busyUs: 100, idleUs: 900 },
  { name: "20 µs busy / 80 µs idle", busyUs: 20, idleUs: 80 },
  { name: "500 µs busy / 500 µs idle", busyUs: 500, idleUs: 500 },
];

for (const c of cases) {
  test(`CPU accuracy, ${c.name}`, async (t) => {
    const burner = await startBurner(c.busyUs, c.idleUs);
    let burn: Burn;
    let report: CpuReport;
    let before: number;
    let after: number;
    try {
      before = await backgroundRate();
      const monitor = await startCpuMonitor(endpoint, {
        processes: [{ name: "burner", pids: [burner.pid] }],
      });
      burn = await burner.burn();
      report = await monitor.stop();
      after = await backgroundRate();
    } finally {
      await burner.close();
    }
    const attributed = report.processes[0]!.seconds;
    const attributedError = attributed / burn.cpuSeconds - 1;
    const background = ((before + after) / 2) * report.wallSeconds;
    const hostError = (report.hostSeconds - background) / burn.cpuSeconds - 1;
    // What the tick-sampled busy columns alone would say, for the record.
    const ticksError = (report.byCategory.user + report.byCategory.system - background) / burn.cpuSeconds - 1;
    t.diagnostic(
      `true ${burn.cpuSeconds.toFixed(4)} s; attributed ${attributed.toFixed(4)} s (${pct(attributedError)}); ` +
        `host ${report.hostSeconds.toFixed(4)} s − background ${background.toFixed(4)} s ` +
        `(${before.toFixed(3)}/${after.toFixed(3)} CPUs) = ${pct(hostError)} (busy ticks: ${pct(ticksError)}); ` +
        `wall ${report.wallSeconds.toFixed(3)} s`,
    );

    await t.test("attributed CPU-seconds (schedstat) within 3 %", () => {
      assert.ok(Math.abs(attributedError) <= TOLERANCE, `attributed off by ${pct(attributedError)}`);
    });

    await t.test("host CPU-seconds (wall × CPUs − Δidle) minus background within 3 %", (st) => {
      const unsteady = Math.abs(before - after) * report.wallSeconds;
      if (Math.max(before, after) > QUIET_CPUS || unsteady > (TOLERANCE / 2) * burn.cpuSeconds) {
        st.skip(
          `background ${before.toFixed(3)} → ${after.toFixed(3)} CPUs (others' load on this machine) is too busy ` +
            "or unsteady to subtract",
        );
        return;
      }
      assert.ok(Math.abs(hostError) <= TOLERANCE, `host-level off by ${pct(hostError)}`);
    });
  });
}

function pct(x: number): string {
  return `${x >= 0 ? "+" : ""}${(x * 100).toFixed(2)} %`;
}
