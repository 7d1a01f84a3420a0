// The ssh endpoint: a remote machine reached with the user's own OpenSSH client, config, keys
// and ProxyJump. BatchMode means a missing key fails at once instead of prompting mid-run.

import { spawn } from "node:child_process";
import { Transform } from "node:stream";
import { InputError, RunError } from "../errors.js";
import {
  CommandError,
  type CommandResult,
  type ExecOptions,
  execCommand,
  type LongRunning,
} from "../util/process.js";
import type { Endpoint, EndpointRole } from "./endpoint.js";
import { shellJoin, shellQuote } from "./shell.js";

export interface SshEndpointOptions {
  name: string;
  role: EndpointRole;
  /** ssh destination: `user@host`, `host`, or a Host alias of the user's ssh config. */
  target: string;
  /** The address other endpoints send traffic to, to reach this one. */
  address: string;
  /** Extra OpenSSH options passed as `-o Key=Value`, e.g. { Port: "2222", ProxyJump: "bastion" }. */
  sshOptions?: Readonly<Record<string, string>>;
  /** An ssh_config file to use instead of the user's own (`ssh -F`). */
  configFile?: string;
  /** Seconds to wait for the TCP connection and the SSH banner (default 10). */
  connectTimeoutS?: number;
  /** argv that runs vnetbench on the remote machine (default `vnetbench`, found on its PATH). */
  remoteVnetbench?: readonly string[];
}

/** ssh itself failed (unreachable, refused, authentication, host key): not the remote command. */
export class SshConnectError extends RunError {
  override name = "SshConnectError";
}

/** A remote process started over ssh; remotePid is its PID on the remote machine once known. */
export interface SshProcess extends LongRunning {
  readonly remotePid: Promise<number | undefined>;
}

const PID_MARKER = "vnetbench-remote-pid ";
const KILL_GRACE_MS = 2_000;
// ssh exits 255 both for its own failures and when the remote command does: these lines are ssh's.
const SSH_FAILURE =
  /^(ssh: |kex_exchange_identification|Connection (closed|timed out|refused|reset)|Permission denied|Host key verification failed|banner exchange|Bad owner|no argument after keyword|command-line line)/m;

// sshd refuses connections beyond MaxStartups (10 by default) still authenticating: a CPU monitor
// reading every thread of a process at once would open dozens. Commands queue per target instead.
const MAX_CONCURRENT_EXECS = 6;
const slots = new Map<string, { active: number; waiting: Array<() => void> }>();

async function acquireSlot(target: string): Promise<() => void> {
  const entry = slots.get(target) ?? { active: 0, waiting: [] };
  slots.set(target, entry);
  if (entry.active >= MAX_CONCURRENT_EXECS) await new Promise<void>((resolve) => entry.waiting.push(resolve));
  else entry.active++;
  return () => {
    const next = entry.waiting.shift();
    if (next) next();
    else entry.active--;
  };
}

const live = new Set<ReturnType<typeof spawn>>();
let exitHookInstalled = false;

// Killing the local ssh closes the session, and the remote watchdog (see start) then ends the command.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
}

export class SshEndpoint implements Endpoint {
  readonly kind = "ssh" as const;
  readonly name: string;
  readonly role: EndpointRole;
  readonly address: string;
  readonly target: string;

  constructor(private readonly options: SshEndpointOptions) {
    if (options.target === "" || options.target.startsWith("-")) {
      throw new InputError(`endpoint ${options.name}: ssh target "${options.target}" is not a destination`);
    }
    this.name = options.name;
    this.role = options.role;
    this.address = options.address;
    this.target = options.target;
  }

  /** The local argv that runs a remote command line on the target. */
  sshArgv(remoteCommand: string): string[] {
    const timeout = this.options.connectTimeoutS ?? 10;
    const argv = ["ssh", "-o", "BatchMode=yes", "-o", `ConnectTimeout=${timeout}`];
    // Notices a dead peer during long runs instead of waiting for TCP to give up.
    argv.push("-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3");
    if (this.options.configFile) argv.push("-F", this.options.configFile);
    for (const [key, value] of Object.entries(this.options.sshOptions ?? {}))
      argv.push("-o", `${key}=${value}`);
    argv.push("--", this.target, remoteCommand);
    return argv;
  }

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<CommandResult> {
    const sshArgv = this.sshArgv(shellJoin(argv));
    let result: CommandResult;
    const release = await acquireSlot(this.target);
    try {
      result = await execCommand(sshArgv, { ...options, allowFailure: true });
    } catch (error) {
      // A timeout (or ssh missing): name the target, the message already names the command.
      if (error instanceof CommandError) throw new RunError(`on ${this.target}: ${error.message}`);
      throw error;
    } finally {
      release();
    }
    this.throwIfSshFailed(result);
    if (result.code !== 0 && !options.allowFailure) {
      const detail = result.stderr.trim().split("\n").slice(-3).join(" | ") || `exit ${result.code}`;
      throw new CommandError(`on ${this.target}: ${shellJoin(argv)} failed: ${detail}`, argv, result);
    }
    return result;
  }

  private throwIfSshFailed(result: CommandResult): void {
    if (result.code !== 255 || !SSH_FAILURE.test(result.stderr)) return;
    const detail = result.stderr.trim().split("\n").slice(-2).join(" | ");
    throw new SshConnectError(
      `ssh ${this.target} failed: ${detail} (hint: check that \`ssh ${this.target} true\` works without a password prompt)`,
    );
  }

  /**
   * Starts argv remotely. The remote wrapper prints the command's PID on stderr (filtered out of the
   * stream) and runs a watchdog that sends the command SIGTERM when the session's stdin closes —
   * on stop(), or when this process dies and ssh with it. stop() escalates to a remote SIGKILL.
   */
  start(argv: readonly string[]): SshProcess {
    const inner = `echo "${PID_MARKER}$$" >&2; exec "$@"`;
    // Background jobs of a non-interactive sh read /dev/null, so the session's stdin goes to the
    // watchdog on fd 3.
    const outer = [
      "exec 3<&0;",
      `sh -c ${shellQuote(inner)} vnetbench-cmd "$@" 3<&- &`,
      "pid=$!;",
      '(cat <&3; kill -TERM "$pid" 2>/dev/null) >/dev/null 2>&1 &',
      "exec 3<&-;",
      'wait "$pid"',
    ].join(" ");
    const remote = `sh -c ${shellQuote(outer)} vnetbench-wrap ${shellJoin(argv)}`;
    const [file, ...args] = this.sshArgv(remote);
    installExitHook();
    const child = spawn(file!, args, { stdio: ["pipe", "pipe", "pipe"] });
    live.add(child);
    child.stdin.on("error", () => {});

    let resolvePid: (pid: number | undefined) => void = () => {};
    const remotePid = new Promise<number | undefined>((resolve) => {
      resolvePid = resolve;
    });
    const stderr = pidFilter(resolvePid);
    child.stderr.pipe(stderr);

    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on("error", () => {
        live.delete(child);
        resolvePid(undefined);
        resolve({ code: null, signal: null });
      });
      child.on("exit", (code, signal) => {
        live.delete(child);
        resolvePid(undefined);
        resolve({ code, signal });
      });
    });

    const stop = async (graceMs = KILL_GRACE_MS): Promise<void> => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.stdin.end();
      const timer = setTimeout(async () => {
        const pid = await remotePid;
        if (pid !== undefined) {
          await this.exec(["kill", "-KILL", String(pid)], { allowFailure: true, timeoutMs: graceMs }).catch(
            () => {},
          );
        }
        child.kill("SIGKILL");
      }, graceMs);
      await exited;
      clearTimeout(timer);
    };

    return { pid: child.pid, stdout: child.stdout, stderr, exited, remotePid, stop };
  }

  async readFile(path: string): Promise<string> {
    return (await this.exec(["cat", "--", path], { timeoutMs: 15_000 })).stdout;
  }

  async readFiles(paths: readonly string[]): Promise<Array<string | null>> {
    if (paths.length === 0) return [];
    // Each file, then NUL; a file that cannot be read (a thread that ended) prints \001 instead.
    const script = `for f; do cat -- "$f" 2>/dev/null || printf '\\001'; printf '\\000'; done`;
    const { stdout } = await this.exec(["sh", "-c", script, "sh", ...paths], { timeoutMs: 15_000 });
    return splitFileContents(stdout, paths.length);
  }

  vnetbenchCommand(): string[] {
    return [...(this.options.remoteVnetbench ?? ["vnetbench"])];
  }
}

/** Splits `readFiles`' output: NUL after each file, \001 for one that could not be read. Pure. */
export function splitFileContents(stdout: string, count: number): Array<string | null> {
  const parts = stdout.split("\0");
  if (parts.length !== count + 1) throw new Error(`expected ${count} files, read ${parts.length - 1}`);
  return parts.slice(0, count).map((text) => (text.endsWith("\u0001") ? null : text));
}

// Passes stderr through, minus the wrapper's PID line (ssh's own warnings may come before it).
function pidFilter(onPid: (pid: number | undefined) => void): Transform {
  let found = false;
  let pending = "";
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (found) return callback(null, chunk);
      pending += chunk.toString("utf8");
      let newline = pending.indexOf("\n");
      while (!found && newline >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line.startsWith(PID_MARKER)) {
          found = true;
          onPid(Number(line.slice(PID_MARKER.length)));
        } else {
          this.push(`${line}\n`);
        }
        newline = pending.indexOf("\n");
      }
      if (found && pending) {
        this.push(pending);
        pending = "";
      }
      callback();
    },
    flush(callback) {
      callback(null, pending || undefined);
    },
  });
}
