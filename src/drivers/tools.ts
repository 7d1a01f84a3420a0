// The field's own tools as drivers (ping, sockperf, iperf3, netperf): the registry the runner picks
// them from, and the lifecycle helpers they share — find the binary, start a server on a free
// port, run a client with a timeout, and a blank Sample to fill.

import { createInterface } from "node:readline";
import type { Sample } from "../domain/sample.js";
import { lossOf } from "../domain/sample.js";
import type { DriverName } from "../domain/traffic.js";
import type { Endpoint } from "../endpoints/endpoint.js";
import { onThisMachine } from "../endpoints/machine.js";
import { RunError } from "../errors.js";
import type { LongRunning } from "../util/process.js";
import type { GeneratorProcess, TrafficPath, TrialOptions } from "./driver.js";

/** How to find one tool binary on an endpoint and read its version. */
export interface BinarySpec {
  tool: DriverName;
  binary: string;
  versionArgs: string[];
  /** First capture group: the version, e.g. `3.12`. */
  version: RegExp;
  /** Oldest version that works, compared numerically part by part. */
  minimum?: string;
  /** How to get it, shown when missing. */
  install: string;
}

/** Finds the binary on the endpoint and returns its version; fails with what is missing and how to get it. */
export async function checkBinary(endpoint: Endpoint, spec: BinarySpec): Promise<string> {
  const where = `${spec.tool}: \`${spec.binary}\` on endpoint ${endpoint.name}`;
  let output: string;
  try {
    const result = await endpoint.exec([spec.binary, ...spec.versionArgs], {
      allowFailure: true,
      timeoutMs: 10_000,
    });
    output = `${result.stdout}\n${result.stderr}`;
  } catch (error) {
    throw new RunError(`${where} cannot be run (${(error as Error).message}); ${spec.install}`);
  }
  const version = spec.version.exec(output)?.[1];
  if (!version) {
    const got = output.trim().split("\n")[0] ?? "";
    throw new RunError(
      `${where}: expected a version matching ${spec.version} from ${spec.binary} ${spec.versionArgs.join(" ")}, got "${got}"; ${spec.install}`,
    );
  }
  if (spec.minimum && compareVersions(version, spec.minimum) < 0) {
    throw new RunError(`${where} is version ${version}, expected ${spec.minimum} or newer; ${spec.install}`);
  }
  return version;
}

/** Checks the client's and the server's binaries (once when both are the same endpoint). */
export async function checkPath(
  path: TrafficPath,
  client: BinarySpec,
  server: BinarySpec | null,
): Promise<void> {
  await checkBinary(path.client, client);
  if (server && (server.binary !== client.binary || path.server !== path.client)) {
    await checkBinary(path.server, server);
  }
}

/** Numeric part-by-part comparison of dotted versions (`3.7` < `3.12`). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((part) => Number.parseInt(part, 10) || 0);
  const pb = b.split(/[.-]/).map((part) => Number.parseInt(part, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/** How a tool's server is started and how to tell it listens. */
export interface ServerSpec {
  tool: DriverName;
  argv(port: number): string[];
  /** Output (stdout or stderr) that says the server listens. */
  ready: RegExp;
  /** Output that says the port is taken: try another one. */
  inUse: RegExp;
}

export interface StartedServer {
  port: number;
  process: LongRunning;
}

const PORT_ATTEMPTS = 5;
const READY_TIMEOUT_MS = 5_000;

/** A random port below Linux's ephemeral range (32768+), so client sockets do not take it first. */
export function randomServerPort(): number {
  return 20_000 + Math.floor(Math.random() * 12_000);
}

/** Starts the server on a free port, trying another port when the chosen one is in use. */
export async function startServer(endpoint: Endpoint, spec: ServerSpec): Promise<StartedServer> {
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    const port = randomServerPort();
    const process = endpoint.start(spec.argv(port));
    const outcome = await waitForServer(process, spec);
    if (outcome.state === "ready") return { port, process };
    await process.stop();
    if (outcome.state !== "in-use") {
      throw new RunError(
        `${spec.tool}: server on endpoint ${endpoint.name} did not start (${outcome.state}): ${tail(outcome.output)}`,
      );
    }
  }
  throw new RunError(
    `${spec.tool}: no free port for the server on endpoint ${endpoint.name} after ${PORT_ATTEMPTS} attempts`,
  );
}

type ServerOutcome = { state: "ready" | "in-use" | "exited" | "timed out"; output: string };

function waitForServer(process: LongRunning, spec: ServerSpec): Promise<ServerOutcome> {
  return new Promise((resolve) => {
    let output = "";
    let settled = false;
    const settle = (state: ServerOutcome["state"]) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      process.stdout.off("data", onData);
      process.stderr.off("data", onData);
      // Keep draining so a chatty server never blocks on a full pipe.
      process.stdout.resume();
      process.stderr.resume();
      resolve({ state, output });
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (spec.inUse.test(output)) settle("in-use");
      else if (spec.ready.test(output)) settle("ready");
    };
    const timer = setTimeout(() => settle("timed out"), READY_TIMEOUT_MS);
    process.stdout.on("data", onData);
    process.stderr.on("data", onData);
    // The last output can arrive just after the exit event.
    void process.exited.then(() =>
      setTimeout(() => settle(spec.inUse.test(output) ? "in-use" : "exited"), 50),
    );
  });
}

export interface ToolRun {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunToolOptions {
  tool: DriverName;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Streams stdout line by line instead of keeping it (for tools that print a line per message). */
  onLine?: (line: string) => void;
  /** Holds the client's process while it runs, when it runs on this machine (see `localProcess`). */
  processes?: Set<GeneratorProcess>;
}

/** Runs a client to completion on the endpoint; a timeout or an abort stops it by its handle. */
export async function runTool(endpoint: Endpoint, argv: string[], options: RunToolOptions): Promise<ToolRun> {
  if (options.signal?.aborted) throw new RunError(`${options.tool}: trial aborted before it started`);
  const process = endpoint.start(argv);
  const tracked = localProcess(endpoint, process);
  if (tracked !== null) options.processes?.add(tracked);
  const stdout: string[] = [];
  const stderr: Buffer[] = [];
  process.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
  const lines = createInterface({ input: process.stdout, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on("line", (line) => (options.onLine ? options.onLine(line) : stdout.push(line)));
  const linesDone = new Promise<void>((resolve) => lines.once("close", resolve));
  let stoppedBecause: string | null = null;
  const stop = (why: string) => {
    stoppedBecause ??= why;
    void process.stop();
  };
  const timer = setTimeout(() => stop(`timed out after ${options.timeoutMs} ms`), options.timeoutMs);
  const onAbort = () => stop("aborted");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const { code, signal } = await process.exited;
  await linesDone;
  clearTimeout(timer);
  options.signal?.removeEventListener("abort", onAbort);
  if (tracked !== null) options.processes?.delete(tracked);
  if (stoppedBecause) throw new RunError(`${options.tool}: ${argv.join(" ")} ${stoppedBecause}`);
  return { stdout: stdout.join("\n"), stderr: Buffer.concat(stderr).toString("utf8"), code, signal };
}

/**
 * The process as a generator process when it runs on this machine (local or netns endpoint), else
 * null: a local PID of a remote tool is its ssh client's, not the tool's.
 */
export function localProcess(endpoint: Endpoint, process: LongRunning): GeneratorProcess | null {
  return onThisMachine(endpoint) && process.pid !== undefined ? { endpoint, pid: process.pid } : null;
}

/** Refuses a bidirectional trial for a tool that runs one direction at a time. */
export function oneWayOnly(tool: DriverName, options: TrialOptions): void {
  if (options.direction === "bidirectional") {
    throw new RunError(
      `${tool}: driver ${tool} cannot run bidirectional traffic; use iperf3 or the builtin driver`,
    );
  }
}

/** The last lines of a tool's output, for error messages. */
export function tail(output: string, lines = 3): string {
  return output.trim().split("\n").slice(-lines).join(" | ") || "(no output)";
}

/** Tools take whole seconds: the nearest, at least `min`. */
export function wholeSeconds(seconds: number, min = 1): number {
  return Math.max(min, Math.round(seconds));
}

/** A Sample with nothing measured yet, for a parser to fill. */
export function blankSample(driver: DriverName): Sample {
  return {
    driver,
    direction: "forward",
    durationS: 0,
    messagesSent: 0,
    messagesReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    messagesPerSecond: 0,
    throughputMbps: 0,
    latencyUs: null,
    histogram: null,
    loss: lossOf(0, 0),
    lateness: null,
    generatorLimited: false,
    warnings: [],
  };
}

/** Waits, for retries. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
