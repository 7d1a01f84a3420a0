// The ssh endpoint against a real OpenSSH server on 127.0.0.1 with throw-away keys.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { builtinDriver } from "../../src/drivers/builtin/driver.js";
import { generatorPidsOn } from "../../src/drivers/driver.js";
import { LocalEndpoint, localVnetbenchCommand } from "../../src/endpoints/local.js";
import { SshConnectError, SshEndpoint } from "../../src/endpoints/ssh.js";
import { measureWithCpu } from "../../src/run/trial-cpu.js";
import { applyCpuOption, revertCpuState } from "../../src/setups/cpu.js";
import { allowedCpus } from "../../src/setups/cpu-tasks.js";
import { CommandError } from "../../src/util/process.js";
import { freePort, startSshd, type TestSshd } from "../helpers/sshd.js";
import { trafficOf } from "../helpers/traffic.js";

let sshd: TestSshd;
let endpoint: SshEndpoint;

before(async () => {
  sshd = await startSshd();
  endpoint = new SshEndpoint({
    name: "remote",
    role: "host",
    target: sshd.hostAlias,
    address: "127.0.0.1",
    configFile: sshd.configFile,
    connectTimeoutS: 3,
    remoteVnetbench: localVnetbenchCommand(),
  });
});

after(async () => {
  await sshd?.stop();
});

async function waitGone(pid: number, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (existsSync(`/proc/${pid}`)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

test("exec runs argv remotely exactly as given, however it is quoted", async () => {
  const argv = ["two words", "it's", '"dq"', "$HOME", "`id`", "a;b|c", "new\nline", "*", ""];
  const { stdout } = await endpoint.exec(["printf", "%s\\0", ...argv]);
  assert.deepEqual(stdout.split("\0").slice(0, -1), argv);
  const { stdout: echoed } = await endpoint.exec(["cat"], { input: "from stdin" });
  assert.equal(echoed, "from stdin");
});

test("a failing remote command is a CommandError; allowFailure gives its exit code", async () => {
  await assert.rejects(endpoint.exec(["sh", "-c", "echo nope >&2; exit 3"]), (error: unknown) => {
    assert.ok(error instanceof CommandError && !(error instanceof SshConnectError));
    assert.match(error.message, /nope/);
    return true;
  });
  assert.equal((await endpoint.exec(["sh", "-c", "exit 255"], { allowFailure: true })).code, 255);
});

test("readFile reads a file on the remote machine", async () => {
  const text = await endpoint.readFile("/proc/sys/kernel/ostype");
  assert.equal(text, "Linux\n");
});

test("start streams the remote process's output, and stop really ends it remotely", async () => {
  const remote = endpoint.start(["sh", "-c", "echo started; echo to-stderr >&2; exec sleep 60"]);
  const pid = await remote.remotePid;
  assert.ok(pid && existsSync(`/proc/${pid}`));
  let out = "";
  let err = "";
  remote.stdout.on("data", (chunk: Buffer) => {
    out += chunk;
  });
  remote.stderr.on("data", (chunk: Buffer) => {
    err += chunk;
  });
  while (!out.includes("started") || !err.includes("to-stderr")) await new Promise((r) => setTimeout(r, 20));
  assert.ok(!err.includes("vnetbench-remote-pid"), "the wrapper's PID line is not passed on");
  await remote.stop();
  assert.ok(await waitGone(pid));
});

test("a remote process that ignores SIGTERM is killed remotely after the grace period", async () => {
  const remote = endpoint.start(["sh", "-c", 'trap "" TERM; exec sleep 60']);
  const pid = (await remote.remotePid)!;
  const started = Date.now();
  await remote.stop(500);
  assert.ok(await waitGone(pid));
  assert.ok(Date.now() - started < 5000);
});

test("when the ssh session dies (vnetbench killed), the remote process ends too", async () => {
  const remote = endpoint.start(["sleep", "60"]);
  const pid = (await remote.remotePid)!;
  process.kill(remote.pid!, "SIGKILL");
  await remote.exited;
  assert.ok(await waitGone(pid), `remote sleep ${pid} still running after its session died`);
});

test("a port where nothing listens fails at once with a clear ssh error", async () => {
  const port = await freePort();
  const refused = new SshEndpoint({
    name: "down",
    role: "host",
    target: "127.0.0.1",
    address: "127.0.0.1",
    configFile: "/dev/null",
    sshOptions: { Port: String(port), UserKnownHostsFile: "/dev/null" },
    connectTimeoutS: 2,
  });
  const started = Date.now();
  await assert.rejects(refused.exec(["true"]), (error: unknown) => {
    assert.ok(error instanceof SshConnectError);
    assert.match(error.message, /ssh 127\.0\.0\.1 failed: .*Connection refused/);
    assert.match(error.message, /hint: check that `ssh 127\.0\.0\.1 true` works without a password prompt/);
    return true;
  });
  assert.ok(Date.now() - started < 3000);
});

test("a server that accepts but never answers fails within the connect timeout, no hang", async () => {
  const sockets: Socket[] = [];
  const silent = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  try {
    const port = (silent.address() as { port: number }).port;
    const mute = new SshEndpoint({
      name: "mute",
      role: "host",
      target: "127.0.0.1",
      address: "127.0.0.1",
      configFile: "/dev/null",
      sshOptions: { Port: String(port), UserKnownHostsFile: "/dev/null" },
      connectTimeoutS: 2,
    });
    const started = Date.now();
    await assert.rejects(mute.exec(["true"]), SshConnectError);
    assert.ok(Date.now() - started < 6000, `took ${Date.now() - started} ms`);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});

test("a key the server does not accept fails without prompting for a password", async () => {
  const stranger = new SshEndpoint({
    name: "stranger",
    role: "host",
    target: sshd.hostAlias,
    address: "127.0.0.1",
    configFile: sshd.configFile,
    sshOptions: { IdentityFile: "/dev/null", User: "nobody" },
    connectTimeoutS: 3,
  });
  await assert.rejects(stranger.exec(["true"], { timeoutMs: 10_000 }), /Permission denied/);
});

test("the built-in generator over ssh is the remote agent: the monitor of that machine gets its PID, and it is pinned there", async () => {
  const remote = endpoint;
  const local = new LocalEndpoint("local", "127.0.0.1", "host");
  const session = await builtinDriver.prepare({ client: remote, server: local, serverAddress: "127.0.0.1" });
  try {
    // The PID a monitor of the remote machine gets is the agent's own there, not the local ssh
    // client's (whose comm is "ssh"): read through the endpoint, as the monitor reads it.
    const generator = session.generatorProcesses!();
    const [pid, ...more] = generatorPidsOn(generator, remote);
    assert.ok(pid !== undefined && more.length === 0, JSON.stringify(generator.map((p) => p.pid)));
    assert.equal(await remote.readFile(`/proc/${pid}/comm`), "node\n");
    const argv = (await remote.readFile(`/proc/${pid}/cmdline`)).split("\0");
    assert.ok(argv.includes("agent") && argv.includes("--listen"), argv.join(" "));

    const option = {
      name: "pin-generator",
      apply: [],
      revert: [],
      pin: [{ generator: true as const, cpus: "0" }],
      irqAffinity: [],
    };
    const context = { endpointOf: (name?: string) => (name === "remote" ? remote : local), local, generator };
    const state = await applyCpuOption(option, context);
    try {
      const remotePins = state.pins.filter((p) => p.endpoint === "remote");
      assert.ok(remotePins.length > 0 && remotePins.every((p) => p.pid === pid), JSON.stringify(state.pins));
      for (const task of remotePins) {
        const status = await remote.readFile(`/proc/${pid}/task/${task.tid}/status`);
        assert.equal(allowedCpus(status), "0", `thread ${task.tid}`);
      }
      // The rest are the local agent's: no ssh process was pinned.
      const localAgent = generatorPidsOn(generator, local);
      assert.ok(state.pins.every((p) => p.endpoint === "remote" || localAgent.includes(p.pid)));
    } finally {
      await revertCpuState(state, context);
    }
    for (const task of state.pins.filter((p) => p.endpoint === "remote")) {
      const status: string | null = await remote
        .readFile(`/proc/${pid}/task/${task.tid}/status`)
        .catch(() => null);
      if (status) assert.equal(allowedCpus(status), task.previous, `thread ${task.tid} restored`);
    }
  } finally {
    await session.close();
  }
});

test("a trial across two machines counts both: the remote one's monitor reads it over ssh, and byHost adds up", async () => {
  const local = new LocalEndpoint("local", "127.0.0.1", "host");
  const session = await builtinDriver.prepare({
    client: endpoint,
    server: local,
    serverAddress: "127.0.0.1",
  });
  const traffic = trafficOf({ durationS: 1.5, warmupS: 0.3 });
  try {
    const measured = await measureWithCpu(
      traffic,
      {
        host: local,
        hosts: [
          { name: "host1", endpoint: local, namespaces: [] },
          { name: "host2", endpoint, namespaces: [] },
        ],
        generator: session.generatorProcesses!(),
      },
      () => session.runTrial(traffic),
    );
    const cpu = measured.cpu;
    assert.ok(cpu, measured.cpuError);
    const { host1, host2 } = cpu.byHost ?? {};
    // Both "machines" are this one here: each monitor sees the whole machine busy with the traffic.
    assert.ok(host1 && host1.seconds > 0 && host2 && host2.seconds > 0, JSON.stringify(cpu.byHost));
    assert.ok(Math.abs(cpu.hostSeconds - host1.seconds - host2.seconds) < 1e-6);
    assert.ok(measured.serviceDemand?.byHost?.host2, JSON.stringify(measured.serviceDemand));
  } finally {
    await session.close();
  }
});

test("readFiles reads several files in one command; one that cannot be read is null", async () => {
  const [stat, missing, version] = await endpoint.readFiles([
    "/proc/self/stat",
    "/proc/999999999/task/1/schedstat",
    "/proc/version",
  ]);
  assert.match(stat ?? "", /^\d+ \(cat\) /);
  assert.equal(missing, null);
  assert.match(version ?? "", /^Linux version /);
});
