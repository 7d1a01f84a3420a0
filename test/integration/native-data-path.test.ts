// The built-in engine's native data path (native/wire.c) for real on loopback: built wherever a
// C compiler is, carrying rr and paced, its failures surfaced with their cause, its CPU counted
// as the generator's; and Node's data path still there when asked for.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { runBenchmark } from "../../src/api.js";
import type { Traffic } from "../../src/domain/traffic.js";
import { builtinDriver } from "../../src/drivers/builtin/driver.js";
import { DATA_PATH_ENV, untilEnded, WireClient, wireBinary } from "../../src/drivers/builtin/wire.js";
import { childrenOf } from "../helpers/cli.js";
import { loopbackPath } from "../helpers/paths.js";
import { trafficOf } from "../helpers/traffic.js";

const dir = mkdtempSync(join(tmpdir(), "vnb-native-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function hasCompiler(): boolean {
  try {
    execFileSync("cc", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

test("the native data path is built wherever a C compiler is", () => {
  if (!hasCompiler()) return;
  assert.ok(wireBinary(), "npm run build compiles native/wire.c into dist/native/vnb-wire");
});

async function trialsOn(dataPath: "native" | "node", traffics: Partial<Traffic>[]) {
  const saved = process.env[DATA_PATH_ENV];
  // The agents inherit the choice from this process's environment when they start.
  if (dataPath === "node") process.env[DATA_PATH_ENV] = "node";
  else delete process.env[DATA_PATH_ENV];
  const session = await builtinDriver.prepare(loopbackPath());
  try {
    const samples = [];
    for (const partial of traffics) samples.push((await session.runTrial(trafficOf(partial)))[0]!);
    return samples;
  } finally {
    await session.close();
    if (saved === undefined) delete process.env[DATA_PATH_ENV];
    else process.env[DATA_PATH_ENV] = saved;
  }
}

for (const dataPath of ["native", "node"] as const) {
  test(`${dataPath} data path: rr and paced say which carried them, and count what they carried`, {
    skip: dataPath === "native" && !wireBinary() && "the native data path is not built here",
  }, async () => {
    const [rr, paced] = await trialsOn(dataPath, [
      { protocol: "udp", pattern: "rr", requestSize: 32, responseSize: 200 },
      { protocol: "tcp", pattern: "paced", rate: 2000, requestSize: 100, responseSize: 100 },
    ]);
    assert.equal(rr!.dataPath, dataPath);
    assert.ok(rr!.messagesPerSecond > 500, `${rr!.messagesPerSecond} transactions/s`);
    assert.equal(rr!.bytesReceived, rr!.messagesReceived * 200);
    assert.ok(rr!.series && rr!.series.length >= 9, "a point per 100 ms of the measured second");
    const delivered = rr!.series!.reduce((sum, point) => sum + point.messagesPerSecond * point.intervalS, 0);
    assert.ok(
      Math.abs(delivered - rr!.messagesReceived) <= 0.02 * rr!.messagesReceived,
      `series holds ${delivered} of ${rr!.messagesReceived} transactions`,
    );
    assert.equal(paced!.dataPath, dataPath);
    // 1 s at 2000/s: what the socket took is the schedule, all of it answered.
    assert.ok(paced!.messagesSent >= 1980 && paced!.messagesSent <= 2000, `${paced!.messagesSent} sent`);
    assert.equal(paced!.messagesReceived, paced!.messagesSent);
    assert.ok(paced!.receiveLag && paced!.pathLatency && paced!.lateness, "tool delays measured");
    assert.ok(
      paced!.pathLatency.p50Us <= paced!.latencyUs!.p50 * 1.002,
      "the path's share ≤ what is reported",
    );
  });
}

test("a native client that cannot connect fails with the system's reason, not a hang", {
  skip: !wireBinary() && "the native data path is not built here",
}, async () => {
  // A port that was just free: nothing listens there.
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const args = ["rr", "tcp", "127.0.0.1", String(port), "64", "64", "0", "1000000000"];
  const client = new WireClient(wireBinary()!, args, () => {});
  await assert.rejects(
    untilEnded(client),
    /exit 2\): vnb-wire: connect to 127\.0\.0\.1 port \d+: Connection refused/,
  );
});

test("the native data path's CPU is the generator's: its processes are the agents' children", {
  skip: !wireBinary() && "the native data path is not built here",
}, async () => {
  const view = await runBenchmark({
    db: join(dir, "cpu.db"),
    setup: "loopback",
    protocol: "udp",
    pattern: "rr",
    size: "64",
    duration: "1",
    warmup: "0.3",
    trials: 1,
  });
  const trial = view.cells[0]!.trials[0]!;
  assert.equal(trial.samples[0]!.dataPath, "native");
  const cpu = trial.cpu!;
  // A closed loop keeps its two ends busy between them; the agents alone sit idle (≈ 0.01 CPUs).
  const generatorCpus = cpu.generatorSeconds / cpu.wallSeconds;
  assert.ok(
    generatorCpus > 0.2,
    `generator ${generatorCpus.toFixed(3)} CPUs of ${(cpu.perWallSecond ?? 0).toFixed(3)}`,
  );
});

test("one native process per role serves trial after trial: no trial waits for a process to start", {
  skip: !wireBinary() && "the native data path is not built here",
}, async () => {
  const session = await builtinDriver.prepare(loopbackPath());
  try {
    const agents = (session.generatorProcesses?.() ?? []).map(({ pid }) => pid);
    assert.equal(agents.length, 2, "a client agent and a server agent");
    const seen: string[] = [];
    for (const partial of [
      { protocol: "udp", pattern: "rr" },
      { protocol: "tcp", pattern: "rr" },
      { protocol: "udp", pattern: "paced", rate: 5000 },
    ] as const) {
      const [sample] = await session.runTrial(trafficOf({ ...partial, durationS: 0.2, warmupS: 0.05 }));
      assert.equal(sample!.dataPath, "native");
      assert.ok(sample!.messagesReceived > 100, `${sample!.messagesReceived} answered`);
      const children = await Promise.all(agents.map(childrenOf));
      seen.push(children.map((pids) => pids.join(" ")).join(" / "));
    }
    // Each agent has one data-path process, the same one for every trial.
    for (const children of seen) assert.match(children, /^\d+ \/ \d+$/);
    assert.deepEqual(new Set(seen).size, 1, `children after each trial: ${seen.join(", ")}`);
  } finally {
    await session.close();
  }
});

test("native paced over tcp: messages a full socket takes in part still arrive whole, each answered once", {
  skip: !wireBinary() && "the native data path is not built here",
}, async () => {
  // 1 MB messages offered at 5 GB/s: the sender falls behind, and its writes of every message
  // due fill the socket's buffer mid-message.
  const [paced] = await trialsOn("native", [
    {
      protocol: "tcp",
      pattern: "paced",
      rate: 5000,
      requestSize: 1 << 20,
      responseSize: 64,
      durationS: 0.3,
      warmupS: 0.05,
    },
  ]);
  assert.ok(
    paced!.warnings.some((warning) => /send buffer was full/.test(warning)),
    `the socket filled: ${paced!.warnings}`,
  );
  assert.ok(paced!.messagesSent > 50, `${paced!.messagesSent} sent`);
  assert.equal(paced!.messagesReceived, paced!.messagesSent, "every whole message answered");
  assert.equal(paced!.loss.duplicates, 0);
});
