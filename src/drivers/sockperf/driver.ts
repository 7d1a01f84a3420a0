// The sockperf driver: a UDP and a TCP sockperf server on the server endpoint, the client on the
// client endpoint, per-message RTTs from --full-log.

import { randomBytes } from "node:crypto";
import type { Traffic } from "../../domain/traffic.js";
import type { Endpoint } from "../../endpoints/endpoint.js";
import type { Driver, DriverSession, GeneratorProcess, TrafficPath, TrialOptions } from "../driver.js";
import {
  type BinarySpec,
  checkPath,
  localProcess,
  oneWayOnly,
  runTool,
  type StartedServer,
  startServer,
  wholeSeconds,
} from "../tools.js";
import { sockperfClientArgv, sockperfServerArgv, sockperfUnsupported } from "./argv.js";
import { parseSockperf, parseSockperfFullLog } from "./parse.js";
import { sockperfLatencySample, sockperfThroughputSample } from "./sample.js";

export const SOCKPERF_BINARY: BinarySpec = {
  tool: "sockperf",
  binary: "sockperf",
  versionArgs: ["--version"],
  version: /version ([\d.]+)/,
  minimum: "3.5",
  install: "install sockperf (apt-get install sockperf, or build https://github.com/Mellanox/sockperf)",
};

export function sockperfDriver(): Driver {
  return {
    name: "sockperf",
    unsupported: sockperfUnsupported,
    async check(path: TrafficPath) {
      await checkPath(path, SOCKPERF_BINARY, SOCKPERF_BINARY);
    },
    async prepare(path: TrafficPath): Promise<DriverSession> {
      const servers: Partial<Record<"tcp" | "udp", StartedServer>> = {};
      const close = async () => {
        await Promise.all(Object.values(servers).map((server) => server.process.stop()));
      };
      try {
        for (const protocol of ["udp", "tcp"] as const) {
          servers[protocol] = await startServer(path.server, {
            tool: "sockperf",
            argv: (port) => sockperfServerArgv(protocol, path.serverAddress, port),
            ready: /using \S+ to block on socket/,
            inUse: /Address already in use/,
          });
        }
      } catch (error) {
        await close();
        throw error;
      }
      const processes = new Set<GeneratorProcess>();
      return {
        async runTrial(traffic: Traffic, options: TrialOptions = {}) {
          oneWayOnly("sockperf", options);
          const port = servers[traffic.protocol as "tcp" | "udp"]!.port;
          const run = (durationS: number, measured: boolean) =>
            runClient(path, traffic, port, durationS, measured, processes, options.signal);
          if (traffic.warmupS > 0) await run(traffic.warmupS, false);
          return [await run(traffic.durationS, true)];
        },
        generatorProcesses: () => [
          ...Object.values(servers).flatMap((server) => localProcess(path.server, server.process) ?? []),
          ...processes,
        ],
        close,
      };
    },
  };
}

async function runClient(
  path: TrafficPath,
  traffic: Traffic,
  port: number,
  durationS: number,
  measured: boolean,
  processes: Set<GeneratorProcess>,
  signal?: AbortSignal,
) {
  const latency = traffic.pattern !== "stream";
  const logPath =
    measured && latency ? `/tmp/vnetbench-sockperf-${randomBytes(6).toString("hex")}.csv` : null;
  const argv = sockperfClientArgv(traffic, path.serverAddress, port, durationS, logPath);
  try {
    const run = await runTool(path.client, argv, {
      tool: "sockperf",
      timeoutMs: (wholeSeconds(durationS) + 15) * 1000,
      signal,
      processes,
    });
    const summary = parseSockperf(`${run.stdout}\n${run.stderr}`);
    if (!latency) return sockperfThroughputSample(summary, traffic);
    const log = parseSockperfFullLog(logPath ? await readLog(path.client, logPath) : "");
    return sockperfLatencySample(summary, log, traffic);
  } finally {
    if (logPath) await path.client.exec(["rm", "-f", logPath], { allowFailure: true });
  }
}

async function readLog(endpoint: Endpoint, logPath: string): Promise<string> {
  try {
    return await endpoint.readFile(logPath);
  } catch {
    // No log when sockperf failed before the test: its output says why.
    return "";
  }
}
