// The CPU monitor's own cost at 10 Hz and 100 Hz, as a fraction of one CPU (goal: < 1 % at 10 Hz).
// Run: node --import tsx bench/monitor-overhead.ts [seconds per rate, default 5]
// It monitors this host with a generator selection (this process's threads), as a trial would, and
// measures its own CPU with getrusage over the window; an idle window without the monitor is the reference.

import { readFileSync } from "node:fs";
import type { Endpoint } from "../src/endpoints/endpoint.js";
import { LocalEndpoint } from "../src/endpoints/local.js";
import { startCpuMonitor } from "../src/monitors/cpu-monitor.js";

const seconds = Number(process.argv[2] ?? 5);
const local = new LocalEndpoint();
// The same endpoint reading /proc synchronously: /proc files never block on a disk, and each async
// readFile costs several thread-pool round trips (wake-ups are dear on a VM). Shown for comparison.
const syncLocal: Endpoint = Object.assign(Object.create(local) as Endpoint, {
  readFile: async (path: string) => readFileSync(path, "utf8"),
});
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** CPU-seconds this process used over fn, per wall-second. */
async function ownCpu(fn: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  const before = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(before);
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  return (used.user + used.system) / 1e6 / wall;
}

const idle = await ownCpu(() => sleep(seconds * 1000));
console.log(`reference (no monitor): ${(idle * 100).toFixed(3)} % of one CPU`);
for (const [label, endpoint] of [
  ["LocalEndpoint", local],
  ["sync /proc reads", syncLocal],
] as const) {
  for (const threads of [false, true]) {
    for (const hz of [10, 100]) {
      let followed = 0;
      const fraction = await ownCpu(async () => {
        const monitor = await startCpuMonitor(endpoint, {
          intervalMs: 1000 / hz,
          generatorPids: threads ? [process.pid] : [],
        });
        await sleep(seconds * 1000);
        followed = (await monitor.stop()).generator?.threads.length ?? 0;
      });
      const overhead = fraction - idle;
      const goal = hz === 10 ? (overhead < 0.01 ? "  (under the 1 % goal)" : "  (OVER the 1 % goal)") : "";
      console.log(
        `${label}, ${hz} Hz, /proc/stat + ${followed} threads: ${(overhead * 100).toFixed(2)} % of one CPU${goal}`,
      );
    }
  }
}
