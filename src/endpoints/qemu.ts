// The qemu guest endpoint: a virtual machine of the qemu lab (or a user's), commands run through
// its control channel (guests/channel.ts) in the host's root filesystem shared over 9p, on the
// guest's kernel. Its processes are the guest's: they have no PID on this host.

import { readFile } from "node:fs/promises";
import { PassThrough } from "node:stream";
import type { HypervisorTasks } from "../analysis/cpu-components.js";
import { RunError } from "../errors.js";
import { type ControlSockets, GuestChannel } from "../guests/channel.js";
import { type QmpCommand, qmp, vcpuThreads } from "../guests/qmp.js";
import { CommandError, type CommandResult, type ExecOptions, type LongRunning } from "../util/process.js";
import type { Endpoint, EndpointRole } from "./endpoint.js";
import { localAgentCommand } from "./local.js";
import { shellJoin, shellQuote } from "./shell.js";

const DEFAULT_TIMEOUT_MS = 30_000;
const KILL_GRACE_MS = 2_000;

/** What the host knows about a running guest: where to reach qemu and the guest. */
export interface QemuGuestInfo {
  /** The guest's control channel: virtio-serial ports' unix sockets. */
  controlSockets: ControlSockets;
  /** QMP, for the vCPU threads (a libvirt domain's is libvirt's own). */
  qmpSocket?: string;
}

/** What ran an endpoint's guest, for the run's metadata (as the qemu lab records its own guests). */
export interface EndpointGuestRecord {
  accelerator: { accel: "kvm" | "tcg"; reason: string };
  qemuVersion: string;
  /** qemu's command line, from /proc. */
  argv: string[];
  /** The guest's kernel (`uname -r` inside it). */
  kernelRelease: string;
}

/** QMP's query-kvm and query-version replies → the record's accelerator and version. Pure. */
export function qemuFacts(
  kvm: { enabled?: boolean },
  version: { qemu?: { major: number; minor: number; micro: number }; package?: string },
): Pick<EndpointGuestRecord, "accelerator" | "qemuVersion"> {
  const v = version.qemu;
  return {
    accelerator: { accel: kvm.enabled ? "kvm" : "tcg", reason: "read from the guest's QMP (query-kvm)" },
    qemuVersion: v
      ? `QEMU ${v.major}.${v.minor}.${v.micro}${version.package ? ` (${version.package.trim()})` : ""}`
      : "unknown",
  };
}

export class QemuGuestEndpoint implements Endpoint {
  readonly kind: "qemu" | "libvirt" = "qemu";
  private readonly channel: GuestChannel;

  constructor(
    readonly name: string,
    readonly role: EndpointRole,
    readonly address: string,
    readonly guest: QemuGuestInfo,
  ) {
    this.channel = new GuestChannel(guest.controlSockets);
  }

  /** QMP commands' replies, in order (a libvirt domain's go through libvirt). */
  protected async qmpReplies(commands: QmpCommand[]): Promise<unknown[]> {
    if (!this.guest.qmpSocket) throw new RunError(`guest ${this.name}: no QMP socket known`);
    return qmp(this.guest.qmpSocket, commands);
  }

  /** The accelerator, qemu's version and command line, and the guest's kernel, read now. */
  async guestRecord(): Promise<EndpointGuestRecord> {
    const [pid] = (await this.hypervisorTasks()).qemuPids;
    const [kvm, version] = (await this.qmpReplies([
      { execute: "query-kvm" },
      { execute: "query-version" },
    ])) as [
      { enabled?: boolean },
      { qemu?: { major: number; minor: number; micro: number }; package?: string },
    ];
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8");
    const { stdout } = await this.exec(["uname", "-r"], { timeoutMs: 10_000 });
    return {
      ...qemuFacts(kvm, version),
      argv: cmdline.split("\0").filter((arg) => arg.length > 0),
      kernelRelease: stdout.trim(),
    };
  }

  /** The guest's qemu process (the vCPU threads' thread group) and vCPU threads, from QMP. */
  async hypervisorTasks(): Promise<HypervisorTasks> {
    if (!this.guest.qmpSocket) throw new RunError(`guest ${this.name}: no QMP socket known`);
    const vcpuTids = (await vcpuThreads(this.guest.qmpSocket)).map((thread) => thread.threadId);
    return { qemuPids: [await qemuPidOf(vcpuTids)], vcpuTids };
  }

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<CommandResult> {
    const line =
      options.input === undefined
        ? `exec ${shellJoin(argv)}`
        : `printf %s ${shellQuote(options.input)} | ${shellJoin(argv)}`;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // Waiting for a free control port counts towards the timeout; a command started after it is ended.
    const starting = this.channel.run(line);
    let waited: NodeJS.Timeout | undefined;
    const command = await Promise.race([
      starting,
      new Promise<never>((_, reject) => {
        waited = setTimeout(() => {
          starting.then((late) => this.kill(late.pid, "KILL")).catch(() => {});
          reject(
            new CommandError(
              `on guest ${this.name}: ${shellJoin(argv)}: no free control port within ${timeoutMs} ms`,
              argv,
            ),
          );
        }, timeoutMs);
      }),
    ]).finally(() => clearTimeout(waited));
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    command.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    command.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void this.kill(command.pid, "KILL");
    }, timeoutMs);
    const code = await command.exited;
    clearTimeout(timer);
    await new Promise((resolve) => setImmediate(resolve));
    const result: CommandResult = {
      stdout: Buffer.concat(stdout).toString("utf8"),
      stderr: Buffer.concat(stderr).toString("utf8"),
      code,
      signal: null,
    };
    const where = `on guest ${this.name}: ${shellJoin(argv)}`;
    if (timedOut) throw new CommandError(`${where} timed out after ${timeoutMs} ms`, argv, result);
    if (code === null) throw new CommandError(`${where}: the control channel broke`, argv, result);
    if (code !== 0 && !options.allowFailure) {
      const detail = result.stderr.trim().split("\n").slice(-3).join(" | ") || `exit ${code}`;
      throw new CommandError(`${where} failed: ${detail}`, argv, result);
    }
    return result;
  }

  private async kill(pid: Promise<number>, signal: "TERM" | "KILL"): Promise<void> {
    const target = await pid.catch(() => undefined);
    if (target === undefined) return;
    await this.exec(["kill", `-${signal}`, String(target)], { allowFailure: true, timeoutMs: 10_000 }).catch(
      () => {},
    );
  }

  start(argv: readonly string[]): LongRunning {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const stdin = new PassThrough();
    const started = this.channel.run(`exec ${shellJoin(argv)}`, "s");
    let ended = false;
    const exited = started.then(
      async (command) => {
        command.stdout.pipe(stdout);
        command.stderr.pipe(stderr);
        if (command.stdin) stdin.pipe(command.stdin);
        const code = await command.exited;
        ended = true;
        return { code, signal: null };
      },
      (error: Error) => {
        ended = true;
        stderr.end(`${error.message}\n`);
        stdout.end();
        return { code: null, signal: null };
      },
    );
    const pid = started.then((command) => command.pid);
    pid.catch(() => {});
    return {
      pid: undefined,
      stdin,
      stdout,
      stderr,
      exited,
      stop: async (graceMs = KILL_GRACE_MS) => {
        if (ended) return;
        const guestPid = pid.then((p) => p);
        await this.kill(guestPid, "TERM");
        const timer = setTimeout(() => void this.kill(guestPid, "KILL"), graceMs);
        await exited;
        clearTimeout(timer);
      },
    };
  }

  async readFile(path: string): Promise<string> {
    return (await this.exec(["cat", "--", path], { timeoutMs: 15_000 })).stdout;
  }

  // The host's node and build, seen through 9p; only the agent's modules are loaded.
  vnetbenchCommand(): string[] {
    return localAgentCommand();
  }
}

/** The qemu process a thread belongs to (its thread group), from /proc/TID/status. Pure. */
export function threadGroup(status: string): number | null {
  const tgid = /^Tgid:\s*(\d+)/m.exec(status)?.[1];
  return tgid === undefined ? null : Number(tgid);
}

/** The qemu process of vCPU threads of this machine. */
export async function qemuPidOf(tids: readonly number[]): Promise<number> {
  const tid = tids[0];
  if (tid === undefined) throw new RunError("the guest has no vCPU thread");
  const pid = threadGroup(await readFile(`/proc/${tid}/status`, "utf8").catch(() => ""));
  if (pid === null)
    throw new RunError(`vCPU thread ${tid} is not a thread of this machine (is the hypervisor remote?)`);
  return pid;
}
