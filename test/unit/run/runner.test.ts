// The runner's handling of failures, flags and interrupts, on a real store, with drivers whose
// behaviour each test scripts (the real drivers are exercised in test/integration).

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { type Cell, cellKey } from "../../../src/domain/cell.js";
import type { Sample } from "../../../src/domain/sample.js";
import { DEFAULT_SETUP } from "../../../src/domain/setup.js";
import type { DriverName, Traffic } from "../../../src/domain/traffic.js";
import type { Driver } from "../../../src/drivers/driver.js";
import { LocalEndpoint } from "../../../src/endpoints/local.js";
import { InterruptedError, RunError } from "../../../src/errors.js";
import { runCap } from "../../../src/run/max-time.js";
import { createRun, executeRun, type RunEvent } from "../../../src/run/runner.js";
import { Store } from "../../../src/storage/store.js";
import { sampleOf, TRAFFIC } from "../report/run-fixture.js";

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "vnb-runner-"));
  store = new Store(join(dir, "runs.db"));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function cell(traffic: Partial<Traffic>): Cell {
  const t = { ...TRAFFIC, ...traffic };
  return { key: cellKey(DEFAULT_SETUP, t), setup: DEFAULT_SETUP, traffic: t };
}

/** A driver whose trials return what `trial` gives for the cell's request size and trial count. */
function scripted(trial: (traffic: Traffic, n: number) => Promise<Sample[]>, checkError?: string): Driver {
  let n = 0;
  return {
    name: "builtin",
    unsupported: () => null,
    async check() {
      if (checkError) throw new RunError(checkError);
    },
    async prepare() {
      return { runTrial: (traffic) => trial(traffic, ++n), close: async () => {} };
    },
  };
}

const local = new LocalEndpoint();
const path = async () => ({ client: local, server: local, serverAddress: "127.0.0.1" });
const good = async () => [sampleOf({ latencyUs: 50 })];

function start(cells: Cell[], trials = 2) {
  return createRun(store, { cells, trials, label: "", tester: "t", command: [], metadata: {} }).id;
}

test("a failing cell is stored failed with its reason and the run goes on; --resume retries only it", async () => {
  const cells = [cell({ requestSize: 64 }), cell({ requestSize: 128 }), cell({ requestSize: 256 })];
  const id = start(cells);
  const events: RunEvent[] = [];
  const driver = scripted(async (traffic) => {
    if (traffic.requestSize === 128) throw new RunError("agent vanished: connection reset");
    if (traffic.requestSize === 256)
      return [{ ...(await good())[0]!, messagesReceived: 0, bytesReceived: 0 }];
    return good();
  });
  const status = await executeRun(id, {
    store,
    driverFor: () => driver,
    pathFor: path,
    onEvent: (e) => events.push(e),
  });
  assert.equal(status, "completed");
  const run = store.getRun(id);
  assert.equal(run.results.length, 6);
  const errors = run.results.filter((t) => t.status === "failed").map((t) => t.error);
  assert.deepEqual(errors, [
    "agent vanished: connection reset",
    "agent vanished: connection reset",
    "the driver returned samples with nothing delivered (0 messages, 0 bytes)",
    "the driver returned samples with nothing delivered (0 messages, 0 bytes)",
  ]);
  assert.ok(events.some((e) => e.type === "warning" && /4 trial\(s\) failed.*--resume/.test(e.message)));

  const ran: number[] = [];
  await executeRun(id, {
    store,
    driverFor: () =>
      scripted(async (traffic) => {
        ran.push(traffic.requestSize);
        return good();
      }),
    pathFor: path,
  });
  assert.deepEqual(
    ran.sort((a, b) => a - b),
    [128, 128, 256, 256],
  );
  assert.ok(store.getRun(id).results.every((t) => t.status === "completed"));
});

test("--fail-fast stops at the first failed trial", async () => {
  const id = start([cell({ requestSize: 64 }), cell({ requestSize: 128 })]);
  const driver = scripted(async () => {
    throw new RunError("iperf3: exited 1");
  });
  await assert.rejects(
    executeRun(id, { store, driverFor: () => driver, pathFor: path, failFast: true }),
    /cell 1 .* trial 1: iperf3: exited 1/,
  );
  assert.equal(store.getRun(id).results.length, 1);
  assert.equal(store.getRun(id).status, "failed");
});

test("a run whose trials all failed is a failed run (exit 3)", async () => {
  const id = start([cell({})], 3);
  const driver = scripted(async () => []);
  await assert.rejects(
    executeRun(id, { store, driverFor: () => driver, pathFor: path }),
    (error: Error) => error instanceof RunError && /every trial failed \(3\).*no samples/.test(error.message),
  );
  assert.equal(store.getRun(id).status, "failed");
});

test("cells a driver cannot run are refused before the first trial and stored failed, without running", async () => {
  const cells = [cell({ requestSize: 64 }), cell({ requestSize: 128, driver: "iperf3" })];
  const id = start(cells, 1);
  const order: string[] = [];
  const drivers: Record<string, Driver> = {
    builtin: scripted(async () => {
      order.push("builtin trial");
      return good();
    }),
    iperf3: scripted(async () => {
      order.push("iperf3 trial");
      return good();
    }, "iperf3: `iperf3` not found on endpoint local"),
  };
  const events: RunEvent[] = [];
  await executeRun(id, {
    store,
    driverFor: (name: DriverName) => drivers[name]!,
    pathFor: path,
    onEvent: (e) => events.push(e),
  });
  const warning = events.findIndex((e) => e.type === "warning" && /cannot run/.test(e.message));
  const firstTrial = events.findIndex((e) => e.type === "trial-start");
  assert.ok(warning >= 0 && warning < firstTrial, "refused before the first trial");
  assert.deepEqual(order, ["builtin trial"]);
  const failed = store.getRun(id).results.find((t) => t.status === "failed");
  assert.match(failed?.error ?? "", /^cannot run: iperf3: `iperf3` not found/);
});

test("a cell the capability check refuses never reaches its driver", async () => {
  const id = start([cell({ requestSize: 64 }), cell({ requestSize: 128 })], 1);
  const ran: number[] = [];
  await executeRun(id, {
    store,
    driverFor: () =>
      scripted(async (t) => {
        ran.push(t.requestSize);
        return good();
      }),
    pathFor: path,
    cellUnsupported: (c) =>
      c.traffic.requestSize === 128 ? "iperf3 cannot do tcp/maerts bidirectional" : null,
  });
  assert.deepEqual(ran, [64]);
  assert.match(store.getRun(id).results[1]!.error ?? "", /cannot run: iperf3 cannot do/);
});

test("a flagged trial is stored completed with its flag", async () => {
  const id = start([cell({})], 1);
  const limited = async () => [{ ...sampleOf({ latencyUs: 50 }), generatorLimited: true }];
  await executeRun(id, { store, driverFor: () => scripted(limited), pathFor: path });
  const [trial] = store.getRun(id).results;
  assert.equal(trial!.status, "completed");
  assert.deepEqual(
    trial!.flags?.map((f) => f.reason),
    ["generator-limited"],
  );
});

test("an interrupt ends the run interrupted, keeps the finished trials and drops the aborted one", async () => {
  const id = start([cell({})], 3);
  const controller = new AbortController();
  const driver = scripted(async (_, n) => {
    if (n === 2) {
      controller.abort();
      throw new RunError("trial aborted");
    }
    return good();
  });
  await assert.rejects(
    executeRun(id, { store, driverFor: () => driver, pathFor: path, signal: controller.signal }),
    (error: Error) =>
      error instanceof InterruptedError &&
      error.message === `interrupted — resume with \`vnetbench run --resume ${id}\``,
  );
  const run = store.getRun(id);
  assert.equal(run.status, "interrupted");
  assert.deepEqual(
    run.results.map((t) => `${t.trial} ${t.status}`),
    ["1 completed"],
  );
});

test("--max-time: no trial starts that would end after the cap; the run is cut short, resumable", async () => {
  const id = start([cell({ requestSize: 64 }), cell({ requestSize: 128 })], 2);
  const events: RunEvent[] = [];
  let ran = 0;
  const driver = scripted(async () => {
    ran++;
    return good();
  });
  // The cap leaves room for nothing: a trial is expected to take its duration (1 s) and more.
  const cap = runCap(0.5, performance.now());
  const status = await executeRun(id, {
    store,
    driverFor: () => driver,
    pathFor: path,
    cap,
    onEvent: (e) => events.push(e),
  });
  assert.equal(status, "cut-short");
  assert.equal(ran, 0);
  const run = store.getRun(id);
  assert.equal(run.status, "cut-short");
  assert.deepEqual(run.metadata.cutShort, { maxTimeS: 0.5, at: run.finishedAt, trialsLeft: 4 });
  assert.ok(
    events.some(
      (e) => e.type === "warning" && /--max-time 0.5 s reached: .*4 trial\(s\) left/.test(e.message),
    ),
  );

  // Resumed without a cap, it completes and no longer reads cut short.
  assert.equal(await executeRun(id, { store, driverFor: () => driver, pathFor: path }), "completed");
  const resumed = store.getRun(id);
  assert.equal(resumed.results.filter((t) => t.status === "completed").length, 4);
  assert.equal(resumed.metadata.cutShort, null);
});

test("--max-time: a trial still running at the cap is stopped (even if its driver ignores the signal) and not stored", async () => {
  const id = start([cell({ durationS: 0.05, warmupS: 0 })], 3);
  const seen: Array<boolean | undefined> = [];
  const driver: Driver = {
    name: "builtin",
    unsupported: () => null,
    async check() {},
    async prepare() {
      let n = 0;
      return {
        async runTrial(_traffic, options) {
          n++;
          if (n === 1) return good();
          // The second trial hangs past the cap; it records whether it was told to stop.
          options?.signal?.addEventListener("abort", () => seen.push(true), { once: true });
          return new Promise<Sample[]>(() => {});
        },
        close: async () => {},
      };
    },
  };
  const cap = runCap(3, performance.now());
  const status = await executeRun(id, { store, driverFor: () => driver, pathFor: path, cap });
  assert.equal(status, "cut-short");
  assert.deepEqual(seen, [true], "the hanging trial's driver was told to stop");
  const run = store.getRun(id);
  assert.deepEqual(
    run.results.map((t) => `${t.trial} ${t.status}`),
    ["1 completed"],
    "the stopped trial is not stored: the resume runs it",
  );
  assert.equal((run.metadata.cutShort as { trialsLeft: number }).trialsLeft, 2);
});
