// The netperf driver: `netserver -D` on the server endpoint, an omni test from the client.

import type { Traffic } from "../../domain/traffic.js";
import { RunError } from "../../errors.js";
import type { Driver, DriverSession, GeneratorProcess, TrafficPath, TrialOptions } from "../driver.js";
import {
  type BinarySpec,
  checkBinary,
  localProcess,
  oneWayOnly,
  runTool,
  startServer,
  tail,
  wholeSeconds,
} from "../tools.js";
import { netperfArgv, netperfUnsupported, netserverArgv } from "./argv.js";
import { parseNetperf } from "./parse.js";
import { netperfSample } from "./sample.js";

const NETPERF_INSTALL =
  "netperf is not in Debian main: build netperf 2.7 from source (https://github.com/HewlettPackard/netperf: " +
  "./autogen.sh && ./configure && make) and put `netperf` and `netserver` on PATH";

export const NETPERF_BINARY: BinarySpec = {
  tool: "netperf",
  binary: "netperf",
  versionArgs: ["-V"],
  version: /Netperf version ([\d.]+)/,
  // Omni output selectors with latency percentiles.
  minimum: "2.6",
  install: NETPERF_INSTALL,
};

export const NETSERVER_BINARY: BinarySpec = { ...NETPERF_BINARY, binary: "netserver" };

export function netperfDriver(): Driver {
  return {
    name: "netperf",
    unsupported: netperfUnsupported,
    async check(path: TrafficPath) {
      await checkBinary(path.client, NETPERF_BINARY);
      await checkBinary(path.server, NETSERVER_BINARY);
    },
    async prepare(path: TrafficPath): Promise<DriverSession> {
      const server = await startServer(path.server, {
        tool: "netperf",
        argv: netserverArgv,
        ready: /Starting netserver/,
        inUse: /Address already in use|bind/i,
      });
      const processes = new Set<GeneratorProcess>();
      return {
        async runTrial(traffic: Traffic, options: TrialOptions = {}) {
          oneWayOnly("netperf", options);
          const run = (durationS: number) =>
            runNetperf(path, traffic, server.port, durationS, processes, options.signal);
          if (traffic.warmupS > 0) await run(traffic.warmupS);
          return [await run(traffic.durationS)];
        },
        generatorProcesses: () => [localProcess(path.server, server.process) ?? [], ...processes].flat(),
        async close() {
          await server.process.stop();
        },
      };
    },
  };
}

async function runNetperf(
  path: TrafficPath,
  traffic: Traffic,
  port: number,
  durationS: number,
  processes: Set<GeneratorProcess>,
  signal?: AbortSignal,
) {
  const argv = netperfArgv(traffic, path.serverAddress, port, durationS);
  const run = await runTool(path.client, argv, {
    tool: "netperf",
    timeoutMs: (wholeSeconds(durationS) + 30) * 1000,
    signal,
    processes,
  });
  // The failure text of a non-zero exit is more precise than "no selectors".
  const output = parseNetperf(`${run.stdout}\n${run.stderr}`);
  if (run.code !== 0)
    throw new RunError(`netperf: ${argv.join(" ")} exited ${run.code ?? run.signal}: ${tail(run.stderr)}`);
  return netperfSample(output, traffic, durationS);
}
