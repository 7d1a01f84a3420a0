import assert from "node:assert/strict";
import { test } from "node:test";
import type { Sample } from "../../../src/domain/sample.js";
import type { Traffic } from "../../../src/domain/traffic.js";
import { LocalEndpoint } from "../../../src/endpoints/local.js";
import type { CpuMonitor } from "../../../src/monitors/cpu-monitor.js";
import type { CpuReport } from "../../../src/monitors/cpu-report.js";
import { measureWithCpu } from "../../../src/run/trial-cpu.js";

const traffic: Traffic = {
  protocol: "udp",
  pattern: "paced",
  requestSize: 64,
  responseSize: 64,
  rate: 1000,
  durationS: 1,
  warmupS: 0.2,
  driver: "builtin",
};

const seconds = () => performance.now() / 1000;

/** A host busy with one CPU while traffic flows (warm-up end to window end) and idle after it. */
function busyWhileTrafficFlows(trafficEndsAt: number) {
  return async (): Promise<CpuMonitor> => {
    const openedAt = seconds();
    return {
      async stop() {
        const wallSeconds = seconds() - openedAt;
        const hostSeconds = Math.max(0, Math.min(seconds(), trafficEndsAt) - openedAt);
        return {
          endpoint: "fake",
          wallSeconds,
          onlineCpus: 2,
          hostSeconds,
          perWallSecond: hostSeconds / wallSeconds,
          idleSeconds: 2 * wallSeconds - hostSeconds,
          iowaitSeconds: 0,
          byCategory: { user: hostSeconds, system: 0, irq: 0, softirq: 0, steal: 0, guest: 0 },
          perCpu: [],
          steal: { seconds: 0, fraction: 0, threshold: 0.01, flagged: false },
          stealFlagged: false,
          interrupts: { total: 0 },
          softirqs: {},
          processes: [],
          generator: null,
          generatorSeconds: 0,
          cycles: null,
          instructions: null,
          taskClockSeconds: null,
          effectiveMhz: null,
          perfNote: null,
          timeline: [],
          warnings: [],
        } as unknown as CpuReport;
      },
    };
  };
}

test("CPU is that of the measured window: an open-loop trial's drain does not dilute it", async () => {
  const startedAt = seconds();
  const trafficEndsAt = startedAt + traffic.warmupS + traffic.durationS;
  const drainS = 2;
  const sample = { durationS: traffic.durationS, messagesReceived: 1000 } as Sample;
  const result = await measureWithCpu(
    traffic,
    { host: new LocalEndpoint(), perf: false },
    () =>
      new Promise((resolve) =>
        setTimeout(() => resolve([sample]), (traffic.warmupS + traffic.durationS + drainS) * 1000),
      ),
    busyWhileTrafficFlows(trafficEndsAt),
  );
  assert.ok(result.cpu, result.cpuError);
  // Busy one CPU for the whole window: ≈ 1 CPU-second. Stopping after the drain read 1/3 of it.
  assert.ok(result.windowCpuSeconds! > 0.8, `window CPU ${result.windowCpuSeconds} CPU-s`);
  assert.ok(result.cpu.wallSeconds < traffic.durationS + 0.5, `monitor window ${result.cpu.wallSeconds} s`);
});
