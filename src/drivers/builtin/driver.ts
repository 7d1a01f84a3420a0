// The built-in driver: an agent started on the server endpoint, driven by this process.

import { createInterface } from "node:readline";
import type { Sample } from "../../domain/sample.js";
import type { Traffic } from "../../domain/traffic.js";
import type { Endpoint } from "../../endpoints/endpoint.js";
import type { LongRunning } from "../../util/process.js";
import type { Driver, DriverSession, TrafficPath } from "../driver.js";
import { AgentConnection } from "./control-client.js";
import { runTcpCrr } from "./crr.js";
import { runPaced } from "./paced.js";
import { HEADER_BYTES } from "./protocol.js";
import { runTcpRr, runUdpRr } from "./rr.js";
import { runTcpMaerts, runTcpStream, runUdpMaerts, runUdpStream } from "./stream.js";
import type { PatternContext } from "./trial.js";

const AGENT_START_TIMEOUT_MS = 15_000;

export interface AgentHandle {
  host: string;
  port: number;
  token: string;
  process: LongRunning;
}

/** Starts `vnetbench agent` on an endpoint and waits for the line that says where it listens. */
export async function startAgent(endpoint: Endpoint, listen: string): Promise<AgentHandle> {
  const process = endpoint.start([
    ...endpoint.vnetbenchCommand(),
    "agent",
    "--listen",
    listen,
    "--port",
    "0",
    "--exit-with-stdin",
  ]);
  const stderr: string[] = [];
  process.stderr.on("data", (chunk: Buffer) => stderr.push(chunk.toString("utf8")));
  const lines = createInterface({ input: process.stdout });
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
      lines.once("line", (line) => {
        clearTimeout(timer);
        try {
          const ready = JSON.parse(line) as { event: string; port: number; token: string };
          resolve({ host: listen, port: ready.port, token: ready.token, process });
        } catch {
          reject(new Error(`agent on ${endpoint.name} printed an unexpected line: ${line}`));
        }
      });
    });
  } catch (error) {
    await process.stop();
    throw error;
  } finally {
    lines.close();
  }
}

export function runPattern(ctx: PatternContext): Promise<Sample> {
  const { protocol, pattern } = ctx.traffic;
  if (pattern === "paced") return runPaced(ctx);
  if (protocol === "tcp") {
    if (pattern === "rr") return runTcpRr(ctx);
    if (pattern === "crr") return runTcpCrr(ctx);
    if (pattern === "stream") return runTcpStream(ctx);
    if (pattern === "maerts") return runTcpMaerts(ctx);
  }
  if (protocol === "udp") {
    if (pattern === "rr") return runUdpRr(ctx);
    if (pattern === "stream") return runUdpStream(ctx);
    if (pattern === "maerts") return runUdpMaerts(ctx);
  }
  return Promise.reject(new Error(`builtin driver cannot run ${protocol} ${pattern}`));
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
    const needsHeader = pattern === "paced" || (protocol === "udp" && pattern !== "rr");
    if (needsHeader && Math.min(traffic.requestSize, traffic.responseSize) < HEADER_BYTES) {
      return `pattern ${protocol} ${pattern} carries a sequence header: sizes must be at least ${HEADER_BYTES} bytes`;
    }
    return null;
  },

  async check(): Promise<void> {
    // The agent is vnetbench itself; starting it is the check.
  },

  async prepare(path: TrafficPath): Promise<DriverSession> {
    const agent = await startAgent(path.server, path.serverAddress);
    let connection: AgentConnection;
    try {
      connection = await AgentConnection.connect(agent.host, agent.port, agent.token);
    } catch (error) {
      await agent.process.stop();
      throw error;
    }
    const agentExit = agent.process.exited.then(({ code, signal }) => {
      throw new Error(`agent on ${path.server.name} died mid-run (${signal ?? `exit ${code}`})`);
    });
    agentExit.catch(() => {});
    return {
      async runTrial(traffic: Traffic, signal?: AbortSignal): Promise<Sample[]> {
        const sample = await Promise.race([
          runPattern({ agent: connection, host: path.serverAddress, traffic, signal }),
          agentExit,
        ]);
        return [sample];
      },
      async close(): Promise<void> {
        connection.close();
        await agent.process.stop();
      },
    };
  },
};
