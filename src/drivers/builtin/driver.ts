// The built-in driver: an agent started on the server endpoint, driven by this process.

import type { Sample } from "../../domain/sample.js";
import type { Traffic } from "../../domain/traffic.js";
import type { Endpoint } from "../../endpoints/endpoint.js";
import type { LongRunning } from "../../util/process.js";
import type { Driver, DriverSession, GeneratorProcess, TrafficPath, TrialOptions } from "../driver.js";
import { AgentConnection } from "./control-client.js";
import { HEADER_BYTES } from "./protocol.js";
import { UDP_RR_SEQ_BYTES } from "./rr.js";

// A guest under emulation starts node in a few seconds, more when the host is busy.
const AGENT_START_TIMEOUT_MS = 60_000;
const MAX_UDP_PAYLOAD = 65_507;

export interface AgentHandle {
  host: string;
  port: number;
  token: string;
  process: LongRunning;
  /** The agent process itself, by the PID it reported on the machine it runs on (an older agent reports none). */
  generator: GeneratorProcess | null;
}

/** Starts `vnetbench agent` on an endpoint and waits for the line that says where it listens. */
export async function startAgent(endpoint: Endpoint, listen: string): Promise<AgentHandle> {
  // Over ssh the remote command's stdin is not ours (it feeds the watchdog that ends the command
  // when the session closes), so there the agent is controlled over TCP and lives without --stdio.
  const stdio = endpoint.kind !== "ssh";
  const process = endpoint.start([
    ...endpoint.vnetbenchCommand(),
    "agent",
    "--listen",
    listen,
    "--port",
    "0",
    ...(stdio ? ["--stdio"] : []),
  ]);
  const stderr: string[] = [];
  process.stderr.on("data", (chunk: Buffer) => stderr.push(chunk.toString("utf8")));
  try {
    return await new Promise<AgentHandle>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`agent on ${endpoint.name} did not start within ${AGENT_START_TIMEOUT_MS} ms`)),
        AGENT_START_TIMEOUT_MS,
      );
      process.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        const why = stderr.join("").trim().split("\n").pop() ?? "";
        reject(new Error(`agent on ${endpoint.name} exited (${code ?? signal}) before listening: ${why}`));
      });
      let buffered = "";
      const onData = (chunk: Buffer) => {
        buffered += chunk.toString("utf8");
        const newline = buffered.indexOf("\n");
        if (newline < 0) return;
        // The agent says nothing more until asked; the control channel takes the stream from here.
        process.stdout.off("data", onData);
        process.stdout.pause();
        clearTimeout(timer);
        const line = buffered.slice(0, newline);
        try {
          const ready = JSON.parse(line) as { event: string; port: number; token: string; pid?: number };
          const generator = Number.isInteger(ready.pid) ? { endpoint, pid: ready.pid! } : null;
          resolve({ host: listen, port: ready.port, token: ready.token, process, generator });
        } catch {
          reject(new Error(`agent on ${endpoint.name} printed an unexpected line: ${line}`));
        }
      };
      process.stdout.on("data", onData);
    });
  } catch (error) {
    await process.stop();
    throw error;
  }
}

/** A control channel to a launched agent: its stdio where the endpoint passes stdin, else TCP. */
async function controlOf(endpoint: Endpoint, agent: AgentHandle): Promise<AgentConnection> {
  const { stdin, stdout } = agent.process;
  if (stdin) return AgentConnection.overStdio(stdin, stdout, `${endpoint.name} (stdio)`);
  return AgentConnection.connect(agent.host, agent.port, agent.token);
}

function deathOf(endpoint: Endpoint, agent: AgentHandle): Promise<never> {
  const death = agent.process.exited.then(({ code, signal }) => {
    throw new Error(`agent on ${endpoint.name} died mid-run (${signal ?? `exit ${code}`})`);
  });
  death.catch(() => {});
  return death;
}

export const builtinDriver: Driver = {
  name: "builtin",

  unsupported(traffic: Traffic): string | null {
    const { protocol, pattern } = traffic;
    if (protocol === "icmp") return "driver builtin sends tcp and udp only; icmp is the ping driver's";
    if (pattern === "flood") return "driver builtin has no flood pattern; flood ping is the ping driver's";
    if (pattern === "crr" && protocol !== "tcp")
      return "pattern crr (connect/request/response) exists for tcp only";
    if (pattern === "paced" && typeof traffic.rate !== "number") {
      return "pattern paced needs a numeric rate in messages/s";
    }
    if (protocol === "udp" && Math.max(traffic.requestSize, traffic.responseSize) > MAX_UDP_PAYLOAD) {
      return `a udp message carries at most ${MAX_UDP_PAYLOAD} bytes (got ${traffic.requestSize}/${traffic.responseSize})`;
    }
    if (
      protocol === "udp" &&
      pattern === "rr" &&
      Math.min(traffic.requestSize, traffic.responseSize) < UDP_RR_SEQ_BYTES
    ) {
      return `pattern udp rr carries a ${UDP_RR_SEQ_BYTES}-byte sequence number: sizes must be at least ${UDP_RR_SEQ_BYTES} bytes`;
    }
    const needsHeader = pattern === "paced" || (protocol === "udp" && pattern !== "rr");
    if (needsHeader && Math.min(traffic.requestSize, traffic.responseSize) < HEADER_BYTES) {
      return `pattern ${protocol} ${pattern} carries a sequence header: sizes must be at least ${HEADER_BYTES} bytes`;
    }
    return null;
  },

  async check(): Promise<void> {
    // The agent is vnetbench itself; starting it is the check.
  },

  // An agent on each end: the client's drives the traffic (forward), the server's answers it; for
  // a bidirectional trial the roles are also taken the other way round at the same time.
  async prepare(path: TrafficPath): Promise<DriverSession> {
    const started: AgentHandle[] = [];
    const connections: AgentConnection[] = [];
    const stopAll = async () => {
      for (const connection of connections) connection.close();
      await Promise.allSettled(started.map((agent) => agent.process.stop()));
    };
    try {
      // Two processes even on one endpoint, as netperf and sockperf have: each side its own event loop.
      const server = await startAgent(path.server, path.serverAddress);
      started.push(server);
      const clientAddress = path.clientAddress ?? path.client.address;
      const client = await startAgent(path.client, clientAddress);
      started.push(client);
      const clientControl = await controlOf(path.client, client);
      connections.push(clientControl);
      const serverControl = await controlOf(path.server, server);
      connections.push(serverControl);
      const deaths = Promise.race(
        started.map((agent, i) => deathOf(i === 0 ? path.server : path.client, agent)),
      );
      // Agents end when the session closes, perhaps before any trial raced against this.
      deaths.catch(() => {});
      const serverTarget = { host: path.serverAddress, port: server.port, token: server.token };
      const clientTarget = { host: clientAddress, port: client.port, token: client.token };
      return {
        async runTrial(traffic: Traffic, options: TrialOptions = {}): Promise<Sample[]> {
          const forward = clientControl.drive(serverTarget, traffic);
          const reverse =
            options.direction === "bidirectional"
              ? serverControl
                  .drive(clientTarget, traffic)
                  .then((sample): Sample => ({ ...sample, direction: "reverse" }))
              : null;
          let onAbort = () => {};
          const aborted = new Promise<never>((_, reject) => {
            onAbort = () => reject(new Error("trial aborted"));
            options.signal?.addEventListener("abort", onAbort, { once: true });
          });
          try {
            return await Promise.race([
              Promise.all(reverse ? [forward, reverse] : [forward]),
              deaths,
              aborted,
            ]);
          } finally {
            options.signal?.removeEventListener("abort", onAbort);
          }
        },
        generatorProcesses: () => started.flatMap((agent) => agent.generator ?? []),
        close: stopAll,
      };
    } catch (error) {
      await stopAll();
      throw error;
    }
  },
};
