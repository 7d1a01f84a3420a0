// The agent under hostile control traffic: 10 000+ random and mutated messages (fast-check), before
// and after authentication. It must never crash, never leave a message unanswered (hang), keep its
// sessions and memory bounded, and still serve a proper client afterwards; it binds only the
// address it is given, and its secret never appears on a command line.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import { test } from "node:test";
import fc from "fast-check";
import { Agent } from "../../src/drivers/builtin/agent.js";
import { AgentConnection } from "../../src/drivers/builtin/control-client.js";
import { MAX_SESSIONS } from "../../src/drivers/builtin/control-limits.js";
import { startAgent } from "../../src/drivers/builtin/driver.js";
import { proof } from "../../src/drivers/builtin/protocol.js";
import { LocalEndpoint } from "../../src/endpoints/local.js";

const TOKEN = "fuzzing-shared-secret-0123456789";
const AUTHENTICATED_CASES = 9000;
const UNAUTHENTICATED_CASES = 1500;
const ANSWER_MS = 5000;

/** A line-oriented client: send a line, await the next line or the connection's end. */
class RawClient {
  private buffered = "";
  private waiting: ((line: string | null) => void) | null = null;
  private ended = false;
  readonly lines: string[] = [];
  private constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk) => {
      this.buffered += chunk.toString();
      let newline = this.buffered.indexOf("\n");
      while (newline >= 0) {
        this.lines.push(this.buffered.slice(0, newline));
        this.buffered = this.buffered.slice(newline + 1);
        newline = this.buffered.indexOf("\n");
      }
      this.wake();
    });
    const end = () => {
      this.ended = true;
      this.wake();
    };
    socket.on("close", end);
    socket.on("error", end);
  }
  static async open(port: number): Promise<RawClient> {
    const socket = net.connect(port, "127.0.0.1");
    await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    return new RawClient(socket);
  }
  get alive(): boolean {
    return !this.ended;
  }
  private wake(): void {
    const waiting = this.waiting;
    if (!waiting) return;
    if (this.lines.length > 0) {
      this.waiting = null;
      waiting(this.lines.shift()!);
    } else if (this.ended) {
      this.waiting = null;
      waiting(null);
    }
  }
  /** The next line, or null when the connection ended; rejects after `ms` of silence (a hang). */
  next(ms = ANSWER_MS): Promise<string | null> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      this.waiting = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
      this.wake();
    });
  }
  /** Sends one line: newlines inside become spaces, and an empty line (which the protocol skips) one space. */
  sendLine(text: string): void {
    if (!this.socket.destroyed) this.socket.write(`${text.replaceAll("\n", " ") || " "}\n`);
  }
  close(): void {
    this.socket.destroy();
  }
}

async function authenticated(port: number): Promise<RawClient> {
  const client = await RawClient.open(port);
  const hello = JSON.parse((await client.next())!) as { nonce: string };
  client.sendLine(JSON.stringify({ auth: proof(TOKEN, hello.nonce) }));
  assert.deepEqual(JSON.parse((await client.next())!), { ok: true });
  return client;
}

const traffic = {
  protocol: "tcp",
  pattern: "rr",
  requestSize: 64,
  responseSize: 64,
  rate: "max",
  durationS: 0.05,
  warmupS: 0,
  driver: "builtin",
};
const VALID: Record<string, unknown>[] = [
  { op: "open", protocol: "tcp", pattern: "rr", requestSize: 64, responseSize: 64, rate: 0 },
  { op: "open", protocol: "udp", pattern: "paced", requestSize: 64, responseSize: 64, rate: 100 },
  { op: "mark", session: 1 },
  { op: "close", session: 1 },
  // A peer that refuses the connection: the drive fails at once.
  { op: "drive", target: { host: "127.0.0.1", port: 9, token: "x".repeat(20) }, traffic },
];

const hostile = fc.oneof(
  fc.string({ maxLength: 64 }),
  fc.constantFrom("-1", "1e309", "NaN", "Infinity", "-0", "9".repeat(400), "[]", "{}", "null", "true"),
  fc.constantFrom(2 ** 53, -(2 ** 53), 1e12, -1, 0, 0.5, 65536, 16 * 1024 * 1024 + 1),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.integer(), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.integer(), { maxKeys: 3 }),
  fc.constant({ __proto__: { op: "open" } }),
);

/** A valid request with one field replaced, removed or added, or a nested field mutated. */
const mutated = fc
  .tuple(
    fc.constantFrom(...VALID),
    fc.nat(),
    hostile,
    fc.constantFrom("replace", "delete", "add", "nested"),
    fc.nat(),
  )
  .map(([base, pick, value, how, id]) => {
    const message: Record<string, unknown> = { ...structuredClone(base), id };
    const keys = Object.keys(message);
    const key = keys[pick % keys.length]!;
    if (how === "replace") message[key] = value;
    else if (how === "delete") delete message[key];
    else if (how === "add") message[`x${pick % 5}`] = value;
    else if (message.traffic) message.traffic = { ...(message.traffic as object), [keys[pick % 4]!]: value };
    else message.target = value;
    return JSON.stringify(message);
  });

const line = fc.oneof(
  { weight: 6, arbitrary: mutated },
  { weight: 1, arbitrary: fc.json() },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((s) => s.replaceAll("\n", " ")) },
  { weight: 1, arbitrary: fc.constantFrom(...VALID).map((m) => JSON.stringify({ ...m, id: 7 })) },
);

function agentSessions(agent: Agent): number {
  return (agent as unknown as { sessions: Map<number, unknown> }).sessions.size;
}

test(`fuzz: ${AUTHENTICATED_CASES + UNAUTHENTICATED_CASES} random and mutated control messages`, {
  timeout: 600_000,
}, async () => {
  const agent = new Agent({ host: "127.0.0.1", port: 0, token: TOKEN });
  const { port } = await agent.listen();
  try {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
    const heapBefore = process.memoryUsage().heapUsed;

    // Before authentication: whatever is sent, the answer is a refusal or the connection's end.
    const preAuth = fc.sample(
      fc.oneof(
        line,
        fc.string({ minLength: 4097, maxLength: 9000 }),
        fc.constant(`{"auth":"${"0".repeat(64)}"}`),
      ),
      { numRuns: UNAUTHENTICATED_CASES, seed },
    );
    for (const text of preAuth) {
      const client = await RawClient.open(port);
      await client.next(); // hello
      client.sendLine(text);
      const answer = await client.next();
      assert.ok(
        answer === null || JSON.parse(answer).ok === false,
        `pre-auth ${text.slice(0, 80)} → ${answer}`,
      );
      client.close();
    }

    let client = await authenticated(port);
    let answered = 0;
    let dropped = 0;
    const cases = fc.sample(line, { numRuns: AUTHENTICATED_CASES, seed: seed + 1 });
    for (const [i, text] of cases.entries()) {
      if (!client.alive) client = await authenticated(port);
      client.sendLine(text);
      const answer = await client.next().catch((error: Error) => {
        throw new Error(`case ${i} (seed ${seed}): ${text.slice(0, 200)}: ${error.message}`);
      });
      if (answer === null) dropped++;
      else {
        const response = JSON.parse(answer) as { ok: boolean; id?: number };
        assert.equal(typeof response.ok, "boolean");
        answered++;
      }
      assert.ok(agentSessions(agent) <= MAX_SESSIONS, "sessions bounded");
      // Every 1000 cases, a fresh connection: what the old one opened is closed with it.
      if (i % 1000 === 999) {
        client.close();
        client = await authenticated(port);
      }
    }
    client.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(agentSessions(agent), 0, "a connection's sessions end with it");
    console.log(
      `fuzz seed ${seed}: ${preAuth.length} unauthenticated + ${cases.length} authenticated cases; ` +
        `${answered} answered, ${dropped} dropped the connection`,
    );
    assert.ok(answered > cases.length / 2, "most cases are answered, not dropped");

    // Still serving a proper client; memory did not grow without bound.
    const proper = await AgentConnection.connect("127.0.0.1", port, TOKEN);
    const { session } = await proper.open({
      protocol: "tcp",
      pattern: "rr",
      requestSize: 64,
      responseSize: 64,
      rate: 0,
    });
    assert.equal((await proper.mark(session)).bytes, 0);
    proper.close();
    global.gc?.();
    const grown = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(grown < 64 * 1024 * 1024, `heap grew ${Math.round(grown / 1e6)} MB`);
  } finally {
    agent.close();
  }
});

test("a line without end before authentication is cut at 4 KiB, not buffered", async () => {
  const agent = new Agent({ host: "127.0.0.1", port: 0, token: TOKEN });
  const { port } = await agent.listen();
  try {
    const client = await RawClient.open(port);
    await client.next();
    client.sendLine("x".repeat(64 * 1024));
    assert.equal(await client.next(), null, "connection closed");
  } finally {
    agent.close();
  }
});

/** Local addresses of listening TCP and bound UDP sockets in this network namespace, by port. */
function boundAddresses(ports: number[]): string[] {
  const found: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/udp"]) {
    for (const row of readFileSync(file, "utf8").trim().split("\n").slice(1)) {
      const [, local] = row.trim().split(/\s+/);
      const [hex, portHex] = local!.split(":");
      if (!ports.includes(Number.parseInt(portHex!, 16))) continue;
      const address = Buffer.from(hex!, "hex").reverse().join(".");
      found.push(address);
    }
  }
  return found;
}

test("the agent and its data listeners bind only the address they are given", async () => {
  const agent = new Agent({ host: "127.0.0.3", port: 0, token: TOKEN });
  const { port } = await agent.listen();
  try {
    const connection = await AgentConnection.connect("127.0.0.3", port, TOKEN);
    const tcp = await connection.open({
      protocol: "tcp",
      pattern: "rr",
      requestSize: 64,
      responseSize: 64,
      rate: 0,
    });
    const udp = await connection.open({
      protocol: "udp",
      pattern: "rr",
      requestSize: 64,
      responseSize: 64,
      rate: 0,
    });
    const addresses = boundAddresses([port, tcp.port, udp.port]);
    // Listeners, and the control connection's own end: all on the given address.
    assert.ok(addresses.length >= 3, JSON.stringify(addresses));
    assert.deepEqual([...new Set(addresses)], ["127.0.0.3"]);
    await assert.rejects(AgentConnection.connect("127.0.0.1", port, TOKEN));
    connection.close();
  } finally {
    agent.close();
  }
});

test("the secret never appears on any command line", async () => {
  const handle = await startAgent(new LocalEndpoint(), "127.0.0.1");
  try {
    assert.ok(handle.token.length >= 16);
    const leaks: string[] = [];
    for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
      let cmdline = "";
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      } catch {
        continue; // exited meanwhile
      }
      if (cmdline.includes(handle.token)) leaks.push(`${pid}: ${cmdline.replaceAll("\0", " ")}`);
    }
    assert.deepEqual(leaks, []);
  } finally {
    await handle.process.stop();
  }
});
