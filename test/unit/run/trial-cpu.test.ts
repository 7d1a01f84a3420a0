import assert from "node:assert/strict";
import { test } from "node:test";
import type { Sample } from "../../../src/domain/sample.js";
import type { Traffic } from "../../../src/domain/traffic.js";
import type { Endpoint } from "../../../src/endpoints/endpoint.js";
import { LocalEndpoint } from "../../../src/endpoints/local.js";
import type { CpuMonitor, CpuMonitorOptions } from "../../../src/monitors/cpu-monitor.js";
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

/**
 * A machine busy with `cpusBusy(endpoint)` CPUs (default one) while traffic flows (warm-up end to
 * window end) and idle after it; `opened` hears which machine each monitor was opened on, and with
 * which generator PIDs.
 */
function busyWhileTrafficFlows(
  trafficEndsAt: number,
  cpusBusy: (endpoint: Endpoint) => number = () => 1,
  opened: (endpoint: Endpoint, generatorPids: number[]) => void = () => {},
) {
  return async (endpoint: Endpoint, options: CpuMonitorOptions = {}): Promise<CpuMonitor> => {
    const openedAt = seconds();
    opened(endpoint, options.generatorPids ?? []);
    return {
      async stop() {
        const wallSeconds = seconds() - openedAt;
        const hostSeconds = cpusBusy(endpoint) * Math.max(0, Math.min(seconds(), trafficEndsAt) - openedAt);
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

test("a path across two machines: each is monitored over the window, byHost has both and they add up", async () => {
  const startedAt = seconds();
  const trafficEndsAt = startedAt + traffic.warmupS + traffic.durationS;
  const local = new LocalEndpoint("local", "127.0.0.1", "host");
  // Another machine, reached over ssh: its PIDs are its own.
  const hv2 = {
    kind: "ssh",
    name: "hv2",
    role: "host",
    address: "10.9.0.2",
    target: "root@hv2",
  } as unknown as Endpoint;
  const monitored: Array<{ endpoint: string; generatorPids: number[] }> = [];
  const sample = { durationS: traffic.durationS, messagesReceived: 1000 } as Sample;
  const result = await measureWithCpu(
    traffic,
    {
      host: local,
      perf: false,
      hosts: [
        { name: "host1", endpoint: local, namespaces: [] },
        { name: "host2", endpoint: hv2, namespaces: [] },
      ],
      generator: [
        { endpoint: local, pid: 17 },
        { endpoint: hv2, pid: 4242 },
      ],
    },
    () =>
      new Promise((resolve) =>
        setTimeout(() => resolve([sample]), (traffic.warmupS + traffic.durationS) * 1000),
      ),
    busyWhileTrafficFlows(
      trafficEndsAt,
      (endpoint) => (endpoint === hv2 ? 0.5 : 1),
      (endpoint, generatorPids) => monitored.push({ endpoint: endpoint.name, generatorPids }),
    ),
  );
  assert.ok(result.cpu, result.cpuError);
  assert.deepEqual(
    monitored.sort((a, b) => a.endpoint.localeCompare(b.endpoint)),
    [
      { endpoint: "hv2", generatorPids: [4242] },
      { endpoint: "local", generatorPids: [17] },
    ],
  );
  const { host1, host2 } = result.cpu.byHost ?? {};
  assert.ok(host1 && host2, JSON.stringify(result.cpu.byHost));
  assert.ok(
    Math.abs(host2.seconds / host1.seconds - 0.5) < 0.1,
    `host2 ${host2.seconds} vs host1 ${host1.seconds}`,
  );
  assert.ok(Math.abs(result.cpu.hostSeconds - (host1.seconds + host2.seconds)) < 1e-9);
  assert.equal(result.cpu.onlineCpus, 4);
  assert.ok(!result.cpu.warnings.some((w) => /not be monitored/.test(w)), result.cpu.warnings.join("; "));
  // Service demand counts both machines: 1.5 CPU busy over the window for 1000 transactions.
  const perTransaction = result.serviceDemand!.usPerTransaction!;
  assert.ok(perTransaction > 1200 && perTransaction < 1600, `${perTransaction} µs/tr`);
  assert.ok(result.serviceDemand!.byHost?.host2, JSON.stringify(result.serviceDemand));
});
