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

/**
 * Host-level error allowed per case, [below, above]. Below, 3 % everywhere: that is where tick
 * accounting fails (−28 to −45 % on bursty load). Above, sleeping and waking costs the host CPU
 * that no process is charged for (timer interrupts, idle entry and exit: 1–25 µs per wake-up on this
 * nested VM), so duty cycles with 2 000–10 000 wake-ups a second read up to ~10 % over the burner's
 * own CPU (measured on a quiet machine: 100/900 −0.3 to +9.5 %, 20/80 +1.6 to +3.4 %); that is the
 * host's real cost, not an error of the monitor.
 */
const cases = [
  { name: "steady loop", busyUs: 1_000_000_000, idleUs: 0, bounds: [TOLERANCE, TOLERANCE] },
  { name: "100 µs busy / 900 µs idle", busyUs: 100, idleUs: 900, bounds: [TOLERANCE, 0.12] },
  { name: "20 µs busy / 80 µs idle", busyUs: 20, idleUs: 80, bounds: [TOLERANCE, 0.12] },
  { name: "500 µs busy / 500 µs idle", busyUs: 500, idleUs: 500, bounds: [TOLERANCE, TOLERANCE] },
];

interface Measurement {
  burn: Burn;
  attributedError: number;
  /** Host CPU-seconds over the burn minus the machine's background. */
  hostSeconds: number;
  /** Whether the background around the burn was quiet and steady enough to subtract. */
  quiet: boolean;
  diagnostic: string;
}

async function measure(busyUs: number, idleUs: number): Promise<Measurement> {
  const burner = await startBurner(busyUs, idleUs);
  try {
    const before = await backgroundRate();
    const monitor = await startCpuMonitor(endpoint, { processes: [{ name: "burner", pids: [burner.pid] }] });
    const burn = await burner.burn();
    const report: CpuReport = await monitor.stop();
    const after = await backgroundRate();
    const attributed = report.processes[0]!.seconds;
    const attributedError = attributed / burn.cpuSeconds - 1;
    const background = ((before + after) / 2) * report.wallSeconds;
    return {
      burn,
      attributedError,
      hostSeconds: report.hostSeconds - background,
      quiet: Math.max(before, after) <= QUIET_CPUS,
      diagnostic:
        `busy ${busyUs} µs / idle ${idleUs} µs: true ${burn.cpuSeconds.toFixed(4)} s in ${burn.cycles} cycles; ` +
        `attributed ${attributed.toFixed(4)} s (${pct(attributedError)}); host ${report.hostSeconds.toFixed(4)} s − ` +
        `background ${background.toFixed(4)} s (${before.toFixed(3)}/${after.toFixed(3)} CPUs) = ${pct(report.hostSeconds / burn.cpuSeconds - 1 - background / burn.cpuSeconds)}; wall ${report.wallSeconds.toFixed(3)} s`,
    };
  } finally {
    await burner.close();
  }
}

const hostError = (m: Measurement) => m.hostSeconds / m.burn.cpuSeconds - 1;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

for (const c of cases) {
  test(`CPU accuracy, ${c.name}`, async (t) => {
    const first = await measure(c.busyUs, c.idleUs);
    t.diagnostic(first.diagnostic);

    await t.test("attributed CPU-seconds (schedstat) within 3 %", () => {
      assert.ok(
        Math.abs(first.attributedError) <= TOLERANCE,
        `attributed off by ${pct(first.attributedError)}`,
      );
    });

    const [below, above] = c.bounds;
    const within = (error: number) => error >= -below! && error <= above!;
    const bounds = `within −${(below! * 100).toFixed(0)} % / +${(above! * 100).toFixed(0)} %`;
    await t.test(`host CPU-seconds (wall × CPUs − Δidle) ${bounds} of what was burnt`, async (st) => {
      // Other processes' load comes in bursts the before/after background cannot see: a case that
      // is off is measured twice more and judged on the median of the quiet tries.
      const tries = [first];
      if (!first.quiet || !within(hostError(first))) {
        for (let i = 0; i < 2; i++) {
          const again = await measure(c.busyUs, c.idleUs);
          st.diagnostic(again.diagnostic);
          tries.push(again);
        }
      }
      const quiet = tries.filter((attempt) => attempt.quiet);
      if (quiet.length === 0) {
        st.skip(`the machine's background (others' load) was above ${QUIET_CPUS} CPUs in 3 tries`);
        return;
      }
      const error = median(quiet.map(hostError));
      assert.ok(within(error), `host-level off by ${pct(error)} (median of ${quiet.length} quiet tries)`);
    });
  });
}

function pct(x: number): string {
  return `${x >= 0 ? "+" : ""}${(x * 100).toFixed(2)} %`;
}
