// Child processes: argument arrays only (never a shell string), a timeout on everything,
// SIGTERM then SIGKILL, and no child outliving a crashed parent when it can be helped.

import { type ChildProcess, spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";

export interface CommandResult {
  stdout: string;
  stderr: string;
  /** Exit code, or null when ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ExecOptions {
  timeoutMs?: number;
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolve with the result even when the exit code is non-zero. */
  allowFailure?: boolean;
}

export class CommandError extends Error {
  constructor(
    message: string,
    readonly argv: readonly string[],
    readonly result?: CommandResult,
  ) {
    super(message);
    this.name = "CommandError";
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;
const KILL_GRACE_MS = 2_000;

/** Shows an argv the way a user would type it, for error messages only. */
export function describeArgv(argv: readonly string[]): string {
  return argv
    .map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`))
    .join(" ");
}

/** Runs argv to completion; rejects on spawn failure, timeout, or (unless allowed) non-zero exit. */
export function execCommand(argv: readonly string[], options: ExecOptions = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new CommandError("empty command", argv));
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      terminate(child);
    }, timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new CommandError(`cannot run ${describeArgv(argv)}: ${error.message}`, argv));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const result: CommandResult = {
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        code,
        signal,
      };
      if (timedOut) {
        reject(new CommandError(`${describeArgv(argv)} timed out after ${timeoutMs} ms`, argv, result));
      } else if (code !== 0 && !options.allowFailure) {
        const detail = result.stderr.trim().split("\n").slice(-3).join(" | ") || `exit ${code ?? signal}`;
        reject(new CommandError(`${describeArgv(argv)} failed: ${detail}`, argv, result));
      } else {
        resolve(result);
      }
    });
  });
}

/** A long-lived child (an agent, a tool's server) with a stop that always ends it. */
export interface LongRunning {
  readonly pid: number | undefined;
  /** The process's own stdin, where the endpoint passes it through (not over ssh, whose stdin feeds a watchdog). */
  readonly stdin?: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Settles when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after a grace period; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

// Children started with startProcess are killed when this process exits, even on an uncaught error.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of running) child.kill("SIGKILL");
  });
}

export function startProcess(argv: readonly string[], env?: NodeJS.ProcessEnv): LongRunning {
  const [file, ...args] = argv;
  if (!file) throw new CommandError("empty command", argv);
  installExitHook();
  // stdin stays an open pipe: a child that watches it (the agent) sees EOF when we die, even by SIGKILL.
  const child = spawn(file, args, { env: env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
  child.stdin?.on("error", () => {});
  running.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("error", () => {
      running.delete(child);
      resolve({ code: null, signal: null });
    });
    child.on("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  return {
    pid: child.pid,
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    exited,
    async stop(graceMs = KILL_GRACE_MS) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

function terminate(child: ChildProcess): void {
  child.kill("SIGTERM");
  setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }, KILL_GRACE_MS).unref();
}
