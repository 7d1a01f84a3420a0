// The ping driver: ICMP echo from the client endpoint to the server's address. No server to
// start — the server endpoint's kernel answers.

import type { Traffic } from "../../domain/traffic.js";
import { RunError } from "../../errors.js";
import type { Driver, DriverSession, GeneratorProcess, TrafficPath, TrialOptions } from "../driver.js";
import { type BinarySpec, checkBinary, oneWayOnly, runTool, tail } from "../tools.js";
import { PING_LINGER_S, pingArgv, pingUnsupported } from "./argv.js";
import { PingParser } from "./parse.js";
import { pingSample } from "./sample.js";

export const PING_BINARY: BinarySpec = {
  tool: "ping",
  binary: "ping",
  versionArgs: ["-V"],
  version: /iputils[- ]s?(\d+)/,
  install: "install iputils-ping (apt-get install iputils-ping); busybox ping lacks -A and -w",
};

export function pingDriver(): Driver {
  return {
    name: "ping",
    unsupported: pingUnsupported,
    async check(path: TrafficPath) {
      await checkBinary(path.client, PING_BINARY);
    },
    async prepare(path: TrafficPath): Promise<DriverSession> {
      const processes = new Set<GeneratorProcess>();
      return {
        async runTrial(traffic: Traffic, options: TrialOptions = {}) {
          oneWayOnly("ping", options);
          if (traffic.warmupS > 0) await runPing(path, traffic, traffic.warmupS, processes, options.signal);
          return [await runPing(path, traffic, traffic.durationS, processes, options.signal)];
        },
        generatorProcesses: () => [...processes],
        async close() {},
      };
    },
  };
}

async function runPing(
  path: TrafficPath,
  traffic: Traffic,
  durationS: number,
  processes: Set<GeneratorProcess>,
  signal?: AbortSignal,
) {
  const argv = pingArgv(traffic, path.serverAddress, durationS);
  const parser = new PingParser();
  const run = await runTool(path.client, argv, {
    tool: "ping",
    timeoutMs: (durationS + PING_LINGER_S + 10) * 1000,
    signal,
    processes,
    onLine: (line) => parser.push(line),
  });
  for (const line of run.stderr.split("\n")) parser.push(line);
  const result = parser.result();
  // Exit 1 means some probes went unanswered (loss, reported in the Sample); 2 is an error.
  if (run.code !== 0 && run.code !== 1) {
    throw new RunError(`ping: ${argv.join(" ")} exited ${run.code ?? run.signal}: ${tail(run.stderr)}`);
  }
  return pingSample(result, traffic, durationS);
}
