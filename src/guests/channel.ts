// The host end of a guest's control channel: a pool of virtio-serial ports (unix sockets of qemu),
// one command per port at a time. A port stays connected while used and a little after, then lets
// go (qemu takes one client per port, and other vnetbench processes may want it).

import { createConnection, type Socket } from "node:net";
import { PassThrough, Writable } from "node:stream";
import { RunError } from "../errors.js";
import { type ChannelMode, newNonce, ReplyParser, requestLine } from "./channel-protocol.js";

const IDLE_CLOSE_MS = 2_000;

export interface GuestCommand {
  /** The command's PID inside the guest, once it started. */
  readonly pid: Promise<number>;
  readonly stdout: PassThrough;
  /** The command's stderr, delivered when it ends. */
  readonly stderr: PassThrough;
  /** Writes to the command's stdin (mode s only). */
  readonly stdin?: Writable;
  /** The exit code, or null when the channel broke first. */
  readonly exited: Promise<number | null>;
}

class Port {
  private socket: Socket | null = null;
  private idle: NodeJS.Timeout | null = null;
  private onData: ((chunk: Buffer) => void) | null = null;
  private onBreak: ((error: Error) => void) | null = null;

  constructor(readonly path: string) {}

  private connect(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    return new Promise((resolve, reject) => {
      const socket = createConnection(this.path);
      socket.once("connect", () => {
        this.socket = socket;
        resolve(socket);
      });
      socket.on("data", (chunk: Buffer) => this.onData?.(chunk));
      socket.on("error", (error) => {
        if (this.socket !== socket) reject(new RunError(`guest control port ${this.path}: ${error.message}`));
        this.onBreak?.(error);
      });
      socket.on("close", () => {
        if (this.socket === socket) this.socket = null;
        this.onBreak?.(new Error("closed"));
      });
    });
  }

  async run(mode: ChannelMode, shellLine: string, release: () => void): Promise<GuestCommand> {
    if (this.idle) clearTimeout(this.idle);
    const socket = await this.connect();
    const nonce = newNonce();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let resolvePid: (pid: number) => void = () => {};
    let rejectPid: (error: Error) => void = () => {};
    const pid = new Promise<number>((resolve, reject) => {
      resolvePid = resolve;
      rejectPid = reject;
    });
    pid.catch(() => {});
    const exited = new Promise<number | null>((resolve) => {
      const finish = (code: number | null, err?: Buffer) => {
        this.onData = null;
        this.onBreak = null;
        if (err?.length) stderr.write(err);
        stdout.end();
        stderr.end();
        rejectPid(new RunError(`guest command ended before it started: ${shellLine}`));
        resolve(code);
        this.idle = setTimeout(() => {
          this.socket?.end();
          this.socket = null;
        }, IDLE_CLOSE_MS);
        this.idle.unref();
        release();
      };
      const parser = new ReplyParser(nonce, {
        pid: resolvePid,
        stdout: (chunk) => stdout.write(Buffer.from(chunk)),
        end: (code, err) => finish(code, err),
      });
      this.onData = (chunk) => parser.push(chunk);
      this.onBreak = () => finish(null);
    });
    socket.write(requestLine(nonce, mode, shellLine));
    const stdin =
      mode === "s"
        ? new Writable({
            write(chunk, _encoding, callback) {
              if (socket.destroyed) callback();
              else socket.write(chunk, () => callback());
            },
          })
        : undefined;
    return { pid, stdout, stderr, stdin, exited };
  }
}

/** A guest's control sockets, or how to find them when first needed (a libvirt domain's XML). */
export type ControlSockets = readonly string[] | (() => Promise<readonly string[]>);

/** The ports of one guest: a command waits for a free port. */
export class GuestChannel {
  private free: Port[] = [];
  private found: Promise<void> | null;
  private readonly waiting: ((port: Port) => void)[] = [];

  constructor(sockets: ControlSockets) {
    if (typeof sockets === "function") {
      this.found = null;
      this.find = sockets;
    } else {
      this.free = sockets.map((path) => new Port(path));
      this.found = Promise.resolve();
    }
  }

  private readonly find: () => Promise<readonly string[]> = async () => [];

  private async acquire(): Promise<Port> {
    // Found once; a failure (domain not running) is retried by the next command.
    this.found ??= this.find().then(
      (paths) => {
        this.free = paths.map((path) => new Port(path));
      },
      (error: Error) => {
        this.found = null;
        throw error;
      },
    );
    await this.found;
    const port = this.free.shift();
    if (port) return Promise.resolve(port);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(port: Port): void {
    const next = this.waiting.shift();
    if (next) next(port);
    else this.free.push(port);
  }

  /** Runs a POSIX shell line in the guest (mode s: the port is its stdin). */
  async run(shellLine: string, mode: ChannelMode = "x"): Promise<GuestCommand> {
    const port = await this.acquire();
    try {
      return await port.run(mode, shellLine, () => this.release(port));
    } catch (error) {
      this.release(port);
      throw error;
    }
  }
}
