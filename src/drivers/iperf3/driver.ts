// The iperf3 driver: `iperf3 --server` on the server endpoint, `iperf3 --client --json` on the client.

import { flowsOf, type Traffic } from "../../domain/traffic.js";
import { RunError } from "../../errors.js";
import type { Driver, DriverSession, GeneratorProcess, TrafficPath, TrialOptions } from "../driver.js";
import {
  type BinarySpec,
  checkPath,
  delay,
  localProcess,
  runTool,
  startServer,
  wholeSeconds,
} from "../tools.js";
import { iperf3ClientArgv, iperf3ServerArgv, iperf3Unsupported } from "./argv.js";
import { iperf3Samples, parseIperf3 } from "./parse.js";

export const IPERF3_BINARY: BinarySpec = {
  tool: "iperf3",
  binary: "iperf3",
  versionArgs: ["--version"],
  version: /iperf (\d+\.\d+)/,
  // --bidir and the JSON fields we read.
  minimum: "3.7",
  install: "install iperf3 (apt-get install iperf3)",
};

// A control connection reset or a server still busy with the last test: worth one more try.
const TRANSIENT = /reset|busy/i;
const RETRY_DELAY_MS = 1_000;

export function iperf3Driver(): Driver {
  return {
    name: "iperf3",
    unsupported: iperf3Unsupported,
    async check(path: TrafficPath) {
      await checkPath(path, IPERF3_BINARY, IPERF3_BINARY);
    },
    async prepare(path: TrafficPath): Promise<DriverSession> {
      const server = await startServer(path.server, {
        tool: "iperf3",
        argv: iperf3ServerArgv,
        ready: /Server listening on \d+/,
        inUse: /Address already in use/,
      });
      const processes = new Set<GeneratorProcess>();
      return {
        async runTrial(traffic: Traffic, trial: TrialOptions = {}) {
          const argv = iperf3ClientArgv(traffic, path.serverAddress, server.port, {
            parallel: flowsOf(traffic),
            bidirectional: trial.direction === "bidirectional",
          });
          const run = () => runClient(path, argv, traffic, processes, trial.signal);
          try {
            return await run();
          } catch (error) {
            if (!(error instanceof RunError) || !TRANSIENT.test(error.message) || trial.signal?.aborted)
              throw error;
            await delay(RETRY_DELAY_MS);
            return run();
          }
        },
        generatorProcesses: () => [localProcess(path.server, server.process) ?? [], ...processes].flat(),
        async close() {
          await server.process.stop();
        },
      };
    },
  };
}

async function runClient(
  path: TrafficPath,
  argv: string[],
  traffic: Traffic,
  processes: Set<GeneratorProcess>,
  signal?: AbortSignal,
) {
  const seconds = wholeSeconds(traffic.durationS) + (traffic.warmupS > 0 ? wholeSeconds(traffic.warmupS) : 0);
  const run = await runTool(path.client, argv, {
    tool: "iperf3",
    timeoutMs: (seconds + 20) * 1000,
    signal,
    processes,
  });
  // iperf3 prints its JSON, `error` included, even when it exits 1.
  return iperf3Samples(parseIperf3(run.stdout || run.stderr));
}
