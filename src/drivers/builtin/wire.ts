// The native data path's processes (native/wire.c): found beside the build, started with argument
// arrays, their records read as they come. A finished process stays, idle, until the next one
// starts or a while has passed: its threads' CPU time is still in /proc when the trial's CPU
// monitor stops and counts it as the generator's.

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
/** A finished process is released after this long even if no other starts. */
const LINGER_MS = 30_000;

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

const lingering = new Set<LongRunning>();
let lingerTimer: NodeJS.Timeout | null = null;

/** Ends every finished process now (the agent is closing). */
export function releaseLingering(): void {
  for (const finished of lingering) finished.stdin?.end();
  lingering.clear();
  if (lingerTimer) clearTimeout(lingerTimer);
  lingerTimer = null;
}

function linger(finished: LongRunning): void {
  lingering.add(finished);
  lingerTimer ??= setTimeout(releaseLingering, LINGER_MS);
  lingerTimer.unref();
}

function start(argv: string[]): LongRunning {
  releaseLingering();
  return startProcess(argv);
}

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

/** One flow's client side in the native data path, its records handed over as they come. */
export class WireClient {
  /** Settles at the end record: with null, or the name of the socket error that ended the flow early. */
  readonly ended: Promise<string | null>;
  private readonly child: LongRunning;

  constructor(binary: string, args: string[], onRecord: (record: WireRecord) => void) {
    this.child = start([binary, ...args]);
    const lastError = stderrOf(this.child);
    const reader = new RecordReader();
    this.ended = new Promise((resolve, reject) => {
      let ended = false;
      this.child.stdout.on("data", (chunk: Buffer) =>
        reader.push(chunk, (record) => {
          if (record.kind !== RecordKind.end) return onRecord(record);
          ended = true;
          resolve(record.seq === 0 ? null : errnoName(record.seq));
        }),
      );
      this.child.exited.then(({ code, signal }) => {
        if (!ended) reject(new Error(`the data path exited (${signal ?? `exit ${code}`}): ${lastError()}`));
      });
    });
    this.ended.catch(() => {});
  }

  /** Ends it now (an aborted trial). */
  kill(): Promise<void> {
    return this.child.stop(0);
  }

  /** Its work is done: it waits, idle, to be released. */
  keep(): void {
    linger(this.child);
  }
}

/**
 * Waits for the flow's end, then leaves its process to linger and closes its data session; an
 * abort kills it, and a socket error that ended the flow is the trial's error.
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
    client.keep();
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
  const child = start([
    binary,
    "serve",
    protocol,
    host,
    String(sizes.requestSize),
    String(sizes.responseSize),
    String(sizes.header),
  ]);
  const lastError = stderrOf(child);
  const port = await new Promise<number>((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer) => {
      text += chunk.toString("utf8");
      if (!text.includes("\n")) return;
      child.stdout.off("data", onData);
      const port = Number(text.trim());
      if (Number.isInteger(port) && port > 0) resolve(port);
      else reject(new Error(`the data path's server printed "${text.trim()}" instead of its port`));
    };
    child.stdout.on("data", onData);
    child.exited.then(({ code, signal }) =>
      reject(new Error(`the data path's server exited (${signal ?? `exit ${code}`}): ${lastError()}`)),
    );
  });
  return {
    port,
    close() {
      child.stdin?.write("close\n");
      linger(child);
    },
  };
}
