// The native data path's processes (native/wire.c): found beside the build, started with argument
// arrays, each given one command at a time over stdin and kept for the next; their records are
// read as they come.

import { existsSync } from "node:fs";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type LongRunning, startProcess } from "../../util/process.js";
import type { AgentConnection } from "./control-client.js";
import { abortable } from "./trial.js";
import { RecordKind, RecordReader, type WireRecord } from "./wire-records.js";

/** Where `npm run build` puts the compiled data path, from the package's root. */
export const WIRE_BINARY = join("dist", "native", "vnb-wire");
/** Set to "node" to run the data path in Node even where the native one is built. */
export const DATA_PATH_ENV = "VNETBENCH_DATA_PATH";

let located: string | null | undefined;

function packageRoot(): string | null {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

/** The native data path's binary, or null when it is not built (or not wanted): Node's then serves. */
export function wireBinary(): string | null {
  if (process.env[DATA_PATH_ENV] === "node") return null;
  if (located === undefined) {
    const root = packageRoot();
    const binary = root ? join(root, WIRE_BINARY) : null;
    located = binary && existsSync(binary) ? binary : null;
  }
  return located;
}

/** Idle processes end after this long without work. */
const IDLE_MS = 30_000;
/** What a command's words may hold: numbers, protocol names and numeric addresses, no separators. */
const COMMAND_WORD = /^[\w.:%-]+$/;

function errnoName(code: number): string {
  return Object.entries(constants.errno).find(([, value]) => value === code)?.[0] ?? `errno ${code}`;
}

function stderrOf(child: LongRunning): () => string {
  let text = "";
  child.stderr.on("data", (chunk: Buffer) => {
    text = (text + chunk.toString("utf8")).slice(-2000);
  });
  return () => text.trim().split("\n").pop() ?? "";
}

/**
 * One data-path process, which runs one command (a flow, or a server) at a time and stays for the
 * next: a trial does not wait for a process to start, and the threads that did a trial's work are
 * still in /proc when its CPU monitor stops.
 */
class WireWorker {
  /** Exited, killed, or asked to end: never given work again. */
  retired = false;
  private readonly child: LongRunning;
  private readonly lastError: () => string;
  private command: {
    onRecord(record: WireRecord): void;
    ended(errno: number): void;
    failed(error: Error): void;
  } | null = null;

  constructor(binary: string) {
    this.child = startProcess([binary]);
    this.lastError = stderrOf(this.child);
    const reader = new RecordReader();
    this.child.stdout.on("data", (chunk: Buffer) =>
      reader.push(chunk, (record) => {
        const command = this.command;
        if (record.kind !== RecordKind.end) return command?.onRecord(record);
        this.command = null;
        command?.ended(record.seq);
      }),
    );
    this.child.exited.then(({ code, signal }) => {
      this.retired = true;
      idle.delete(this);
      const command = this.command;
      this.command = null;
      command?.failed(new Error(`the data path exited (${signal ?? `exit ${code}`}): ${this.lastError()}`));
    });
  }

  /** Runs a command line; settles at its end record with the errno it ended on (0: none). */
  run(line: string, onRecord: (record: WireRecord) => void): Promise<number> {
    return new Promise((ended, failed) => {
      this.command = { onRecord, ended, failed };
      this.child.stdin?.write(`${line}\n`);
    });
  }

  /** A line for the running command (a server's "close"). */
  tell(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  kill(): Promise<void> {
    this.retired = true;
    return this.child.stop(0);
  }

  /** Ends it once its running command (if any) is done: stdin's end is its last command. */
  retire(): void {
    this.retired = true;
    this.child.stdin?.end();
  }
}

/** A command's line: its words, each checked to hold no separator. */
function commandLine(words: readonly string[]): string {
  const odd = words.find((word) => !COMMAND_WORD.test(word));
  if (odd !== undefined) throw new Error(`the data path cannot be given "${odd}"`);
  return words.join(" ");
}

const idle = new Set<WireWorker>();
const busy = new Set<WireWorker>();
let idleTimer: NodeJS.Timeout | null = null;

function acquire(binary: string): WireWorker {
  const [worker] = idle;
  if (worker) idle.delete(worker);
  const chosen = worker ?? new WireWorker(binary);
  busy.add(chosen);
  return chosen;
}

function giveBack(worker: WireWorker): void {
  busy.delete(worker);
  if (worker.retired) return;
  idle.add(worker);
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = setTimeout(endIdle, IDLE_MS);
  idleTimer.unref();
}

function endIdle(): void {
  for (const worker of idle) worker.retire();
  idle.clear();
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = null;
}

/** Ends the idle processes now, and the busy ones when their command is done (the agent is closing). */
export function releaseWorkers(): void {
  for (const worker of busy) worker.retire();
  endIdle();
}

/** One flow's client side in the native data path, its records handed over as they come. */
export class WireClient {
  /** Settles at the end record: with null, or the name of the socket error that ended the flow early. */
  readonly ended: Promise<string | null>;
  private readonly worker: WireWorker;

  constructor(binary: string, args: string[], onRecord: (record: WireRecord) => void) {
    const line = commandLine(args);
    const worker = acquire(binary);
    this.worker = worker;
    this.ended = worker.run(line, onRecord).then(
      (errno) => {
        giveBack(worker);
        return errno === 0 ? null : errnoName(errno);
      },
      (error: Error) => {
        giveBack(worker);
        throw error;
      },
    );
    this.ended.catch(() => {});
  }

  /** Ends it now (an aborted trial). */
  kill(): Promise<void> {
    return this.worker.kill();
  }
}

/**
 * Waits for the flow's end, then closes its data session; an abort kills it, and a socket error
 * that ended the flow is the trial's error.
 */
export async function finishFlow(
  client: WireClient,
  ctx: { agent: AgentConnection; signal?: AbortSignal },
  session: number,
): Promise<void> {
  try {
    const failed = await untilEnded(client, ctx.signal);
    if (failed) throw new Error(`data connection lost mid-trial: ${failed}`);
  } finally {
    await ctx.agent.closeSession(session).catch(() => {});
  }
}

/** Waits for the client's end; an abort kills it and rejects with the abort's reason. */
export function untilEnded(client: WireClient, signal?: AbortSignal): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const unlisten = abortable(signal, (reason) => {
      client.kill();
      reject(reason);
    });
    client.ended.then(
      (failed) => {
        unlisten();
        resolve(failed);
      },
      (error: Error) => {
        unlisten();
        reject(error);
      },
    );
  });
}

/** A data session's server side in the native data path: echoes each request's first `header` bytes. */
export async function startWireServer(
  binary: string,
  protocol: "tcp" | "udp",
  host: string,
  sizes: { requestSize: number; responseSize: number; header: number },
): Promise<{ port: number; close(): void }> {
  const { requestSize, responseSize, header } = sizes;
  const line = commandLine([
    "serve",
    protocol,
    host,
    String(requestSize),
    String(responseSize),
    String(header),
  ]);
  const worker = acquire(binary);
  let listening = (_port: number) => {};
  const bound = new Promise<number>((resolve) => {
    listening = resolve;
  });
  const ended = worker.run(line, (record) => {
    if (record.kind === RecordKind.listening) listening(record.seq);
  });
  ended.then(
    () => giveBack(worker),
    () => giveBack(worker),
  );
  const port = await Promise.race([
    bound,
    ended.then(() => {
      throw new Error("the data path's server ended before it listened");
    }),
  ]);
  let closed = false;
  return {
    port,
    close() {
      if (closed) return;
      closed = true;
      worker.tell("close");
    },
  };
}
