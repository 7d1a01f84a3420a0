// The agent's control connections: authenticated, refused when the proof is wrong, clear errors
// when nothing or something else answers; and the built-in engine over an ssh endpoint, whose
// agent is controlled over TCP (ssh's stdin feeds the remote watchdog, not the agent).

import assert from "node:assert/strict";
import net from "node:net";
import { after, before, test } from "node:test";
import { Agent } from "../../src/drivers/builtin/agent.js";
import { AgentConnection } from "../../src/drivers/builtin/control-client.js";
import { builtinDriver } from "../../src/drivers/builtin/driver.js";
import { LocalEndpoint, localVnetbenchCommand } from "../../src/endpoints/local.js";
import { SshEndpoint } from "../../src/endpoints/ssh.js";
import { startSshd, type TestSshd } from "../helpers/sshd.js";

const TOKEN = "a-long-enough-shared-secret";
let agent: Agent;
let port: number;
let sshd: TestSshd;

before(async () => {
  agent = new Agent({ host: "127.0.0.1", port: 0, token: TOKEN });
  port = (await agent.listen()).port;
  sshd = await startSshd();
});
after(async () => {
  agent.close();
  await sshd?.stop();
});

test("a client that proves the token is served", async () => {
  const connection = await AgentConnection.connect("127.0.0.1", port, TOKEN);
  const { session } = await connection.open({
    protocol: "tcp",
    pattern: "rr",
    requestSize: 64,
    responseSize: 64,
    rate: 0,
  });
  const mark = await connection.mark(session);
  assert.equal(mark.bytes, 0);
  connection.close();
});

test("a wrong token is refused and the connection closed", async () => {
  await assert.rejects(
    AgentConnection.connect("127.0.0.1", port, "not-the-token-at-all"),
    /authentication failed/,
  );
});

test("a request before authenticating is not served", async () => {
  const socket = net.connect({ host: "127.0.0.1", port });
  const received: string[] = [];
  socket.on("data", (chunk) => received.push(chunk.toString()));
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.write(
    `${JSON.stringify({ id: 1, op: "open", protocol: "tcp", pattern: "rr", requestSize: 1, responseSize: 1, rate: 0 })}\n`,
  );
  await new Promise((resolve) => socket.once("close", resolve));
  const lines = received.join("").trim().split("\n");
  assert.match(lines[0]!, /"hello":"vnetbench-agent"/);
  assert.match(lines[1]!, /authentication failed/);
  assert.equal(lines.length, 2, "no session was opened");
});

test("an unreachable agent is a clear error, not a hang", async () => {
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const { port: closedPort } = closed.address() as net.AddressInfo;
  await new Promise((resolve) => closed.close(resolve));
  const started = Date.now();
  await assert.rejects(
    AgentConnection.connect("127.0.0.1", closedPort, TOKEN),
    /unreachable: connect ECONNREFUSED/,
  );
  assert.ok(Date.now() - started < 5_000);
});

test("something else on the port is not taken for an agent", async () => {
  const other = net.createServer((socket) => socket.end("SSH-2.0-OpenSSH_9.2\r\n"));
  await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
  const { port: otherPort } = other.address() as net.AddressInfo;
  await assert.rejects(AgentConnection.connect("127.0.0.1", otherPort, TOKEN), /not a vnetbench agent/);
  other.close();
});

test("the built-in engine with its client side on an ssh endpoint", async () => {
  const remote = new SshEndpoint({
    name: "remote",
    role: "ext",
    target: sshd.hostAlias,
    address: "127.0.0.1",
    configFile: sshd.configFile,
    connectTimeoutS: 5,
    remoteVnetbench: localVnetbenchCommand(),
  });
  const session = await builtinDriver.prepare({
    client: remote,
    server: new LocalEndpoint("local", "127.0.0.1", "host"),
    serverAddress: "127.0.0.1",
  });
  try {
    const [sample] = await session.runTrial({
      protocol: "tcp",
      pattern: "rr",
      requestSize: 64,
      responseSize: 64,
      rate: "max",
      durationS: 0.5,
      warmupS: 0.1,
      driver: "builtin",
    });
    assert.ok(sample!.messagesPerSecond > 100, `${sample!.messagesPerSecond} transactions/s`);
  } finally {
    await session.close();
  }
});
