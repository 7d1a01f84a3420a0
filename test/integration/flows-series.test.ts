// Parallel flows and the time series inside a trial, on loopback with real agents and iperf3:
// per-flow figures beside the total, and a stall that shows in the series instead of being
// averaged away.

import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { runBenchmark } from "../../src/api.js";
import type { Sample } from "../../src/domain/sample.js";
import { builtinDriver } from "../../src/drivers/builtin/driver.js";
import { LocalEndpoint } from "../../src/endpoints/local.js";
import { measureWithCpu } from "../../src/run/trial-cpu.js";
import { resolveNetworkSetup } from "../../src/setups/network.js";
import { trafficOf } from "../helpers/traffic.js";

const dir = mkdtempSync(join(tmpdir(), "vnb-flows-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const sum = (flows: NonNullable<Sample["flows"]>, field: (f: (typeof flows)[number]) => number) =>
  flows.reduce((total, flow) => total + field(flow), 0);

function checkFlows(sample: Sample, flows: number): void {
  const perFlow = sample.flows;
  assert.ok(perFlow, "per-flow figures kept");
  assert.equal(perFlow.length, flows);
  assert.deepEqual(
    perFlow.map((f) => f.flow),
    Array.from({ length: flows }, (_, i) => i + 1),
  );
  // Every flow carried traffic at the same time as the others, and the total is their sum.
  for (const flow of perFlow)
    assert.ok(flow.bytesReceived > 0 && flow.throughputMbps > 0, `flow ${flow.flow}`);
  const bytes = sum(perFlow, (f) => f.bytesReceived);
  assert.ok(
    Math.abs(bytes - sample.bytesReceived) <= 0.001 * sample.bytesReceived,
    `${bytes} vs ${sample.bytesReceived}`,
  );
  const mbps = sum(perFlow, (f) => f.throughputMbps);
  assert.ok(
    Math.abs(mbps - sample.throughputMbps) <= 0.01 * sample.throughputMbps,
    `${mbps} vs ${sample.throughputMbps}`,
  );
  // The total's rate agrees with its own bytes over its window (not only with the flows' sum).
  const fromBytes = (sample.bytesReceived * 8) / sample.durationS / 1e6;
  assert.ok(
    Math.abs(fromBytes - sample.throughputMbps) <= 0.1 * fromBytes,
    `${fromBytes} vs ${sample.throughputMbps}`,
  );
}

test("4 built-in stream flows and 4 iperf3 streams (-P 4): per-flow and total figures", async () => {
  const view = await runBenchmark({
    db: join(dir, "flows.db"),
    setup: "loopback",
    driver: "builtin,iperf3",
    pattern: "stream",
    size: "16k",
    flows: "1,4",
    duration: "1",
    warmup: "0.2",
    trials: 1,
  });
  assert.equal(view.status, "completed");
  const cell = (driver: string, flows: number) =>
    view.cells.find((c) => c.traffic.driver === driver && (c.traffic.flows ?? 1) === flows)!;
  const builtin4 = cell("builtin", 4).trials[0]!.samples[0]!;
  checkFlows(builtin4, 4);
  assert.match(cell("builtin", 4).key, / flows=4$/);
  assert.doesNotMatch(cell("builtin", 1).key, /flows/, "a one-flow cell keeps its old key");
  assert.equal(cell("builtin", 1).trials[0]!.samples[0]!.flows, undefined);
  assert.ok((builtin4.series?.length ?? 0) >= 5, `${builtin4.series?.length} series points`);
  // iperf3 is asked for 4 streams (-P 4) and reports each.
  checkFlows(cell("iperf3", 4).trials[0]!.samples[0]!, 4);
});

/** A process's children now, from /proc (what `pgrep -P` reads). */
function childrenOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
    readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").split(" ").filter(Boolean).map(Number),
  );
}

test("a stall in the middle of a trial shows as a dip in its series, in traffic and generator CPU", async () => {
  const path = resolveNetworkSetup("loopback");
  const session = await builtinDriver.prepare(path);
  const traffic = trafficOf({ durationS: 3, warmupS: 0.3 });
  const [server] = session.generatorProcesses!().map((p) => p.pid);
  assert.ok(server, "the server agent's pid");
  // 1.2 s into the window the server agent is stopped for 0.7 s, with its children (the native
  // data path answers in one): nothing is answered meanwhile.
  let stopped: number[] = [server];
  const signal = (name: NodeJS.Signals) => {
    for (const pid of stopped) {
      try {
        process.kill(pid, name);
      } catch {
        // gone already
      }
    }
  };
  const stop = setTimeout(() => {
    stopped = [server, ...childrenOf(server)];
    signal("SIGSTOP");
  }, 1500);
  const resume = setTimeout(() => signal("SIGCONT"), 2200);
  try {
    const measured = await measureWithCpu(
      traffic,
      { host: new LocalEndpoint(), generator: session.generatorProcesses!() },
      () => session.runTrial(traffic),
    );
    const sample = measured.samples[0]!;
    const series = sample.series!;
    assert.ok(series.length >= 20, `${series.length} points of 100 ms in 3 s`);
    const rates = series.map((p) => p.messagesPerSecond);
    const typical = [...rates].sort((a, b) => a - b)[Math.floor(rates.length / 2)]!;
    assert.ok(typical > 0);
    // At least 0.3 s in a row with (almost) nothing answered, and traffic both before and after.
    let run = 0;
    let longest = 0;
    for (const p of series) {
      run = p.messagesPerSecond < 0.05 * typical ? run + p.intervalS : 0;
      longest = Math.max(longest, run);
    }
    assert.ok(
      longest >= 0.3,
      `longest dip ${longest.toFixed(2)} s; series ${rates.map((r) => r.toFixed(0)).join(" ")}`,
    );
    assert.ok(
      series.some((p) => p.tS < 1 && p.messagesPerSecond > 0.5 * typical),
      "traffic before the stall",
    );
    assert.ok(
      series.some((p) => p.tS > 2.2 && p.messagesPerSecond > 0.5 * typical),
      "traffic after it",
    );
    // The trial's totals average the stall away; its histogram keeps the one long wait.
    assert.ok(sample.latencyUs!.max > 400_000, `max ${sample.latencyUs!.max} µs`);
    const cpu = measured.cpuSeries!;
    assert.ok(cpu.length >= 20, `${cpu.length} CPU points`);
    const generator = cpu.map((p) => p.generatorCpus);
    const busy = [...generator].sort((a, b) => a - b)[Math.floor(generator.length / 2)]!;
    assert.ok(
      Math.min(...generator) < 0.3 * busy,
      `generator CPUs ${generator.map((g) => g.toFixed(2)).join(" ")}`,
    );
  } finally {
    clearTimeout(stop);
    clearTimeout(resume);
    signal("SIGCONT");
    await session.close();
  }
});
