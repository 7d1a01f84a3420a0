// The client end of an agent's control connection.

import net from "node:net";
import type { Readable, Writable } from "node:stream";
import type { Sample } from "../../domain/sample.js";
import type { Traffic } from "../../domain/traffic.js";
import type { AgentAddress, OpenRequest } from "./protocol.js";
import { type ControlResponse, type Mark, onLines, proof, sendLine } from "./protocol.js";
import type { NetCounters } from "./socket-drops.js";

const CONNECT_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;
/** Beyond a trial's own time, how long a drive may take (connecting, the drain, counters). */
export const DRIVE_SLACK_MS = 30_000;

interface Pending {
  resolve(response: ControlResponse & { ok: true }): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class AgentConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedError: Error | null = null;

  private constructor(
    input: Readable,
    private readonly output: Writable,
    private readonly end: () => void,
    readonly description: string,
  ) {
    onLines(input, (line) => this.receive(line));
    input.on("close", () => this.failAll(new Error(`agent ${description} closed the control connection`)));
    input.on("end", () => this.failAll(new Error(`agent ${description} closed the control connection`)));
    input.on("error", (error) => this.failAll(new Error(`agent ${description}: ${error.message}`)));
    // A write the agent's end no longer takes (EPIPE, ECONNRESET): the agent is gone, say so.
    output.on("error", (error: NodeJS.ErrnoException) =>
      this.failAll(
        new Error(
          error.code === "EPIPE" || error.code === "ECONNRESET"
            ? `agent ${description} closed the control connection (${error.message})`
            : `agent ${description}: ${error.message}`,
        ),
      ),
    );
  }

  /** Control over a launched agent's stdin/stdout: private to its launcher, so no authentication. */
  static overStdio(stdin: Writable, stdout: Readable, description: string): AgentConnection {
    return new AgentConnection(stdout, stdin, () => stdin.end(), description);
  }

  /** Connects and authenticates; rejects within a timeout when the agent is unreachable. */
  static connect(host: string, port: number, token: string): Promise<AgentConnection> {
    const description = `${host.includes(":") ? `[${host}]` : host}:${port}`;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const fail = (message: string) => {
        socket.destroy();
        reject(new Error(`agent ${description} unreachable: ${message}`));
      };
      const timer = setTimeout(() => fail(`no answer within ${CONNECT_TIMEOUT_MS} ms`), CONNECT_TIMEOUT_MS);
      socket.once("error", (error) => {
        clearTimeout(timer);
        fail(error.message);
      });
      socket.setNoDelay(true);
      let stage: "hello" | "auth" = "hello";
      let buffered = "";
      const onData = (chunk: Buffer) => {
        buffered += chunk.toString("utf8");
        let newline = buffered.indexOf("\n");
        while (newline >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          newline = buffered.indexOf("\n");
          let message: { hello?: string; nonce?: string; ok?: boolean; error?: string };
          try {
            message = JSON.parse(line);
          } catch {
            clearTimeout(timer);
            fail("not a vnetbench agent");
            return;
          }
          if (stage === "hello") {
            if (message.hello !== "vnetbench-agent" || typeof message.nonce !== "string") {
              clearTimeout(timer);
              fail("not a vnetbench agent");
              return;
            }
            stage = "auth";
            sendLine(socket, { auth: proof(token, message.nonce) });
          } else {
            clearTimeout(timer);
            socket.off("data", onData);
            socket.removeAllListeners("error");
            if (!message.ok) {
              fail(message.error ?? "authentication refused");
              return;
            }
            resolve(new AgentConnection(socket, socket, () => socket.destroy(), description));
            return;
          }
        }
      };
      socket.on("data", onData);
    });
  }

  open(request: Omit<OpenRequest, "op">): Promise<{ session: number; port: number }> {
    return this.request({ op: "open", ...request }).then((response) => ({
      session: response.session!,
      port: response.port!,
    }));
  }

  /** The session's counters now; with `stopSending`, a sending agent stops first (udp maerts). */
  mark(session: number, stopSending = false): Promise<Mark> {
    return this.request({ op: "mark", session, ...(stopSending ? { stop: true } : {}) }).then(
      (response) => response.mark!,
    );
  }

  /** The agent's namespace's UDP error counters. */
  counters(): Promise<NetCounters> {
    return this.request({ op: "counters" }).then((response) => response.counters!);
  }

  closeSession(session: number): Promise<void> {
    return this.request({ op: "close", session }).then(() => undefined);
  }

  /** Has the agent run one trial's client side against a peer agent. */
  drive(target: AgentAddress, traffic: Traffic): Promise<Sample> {
    const timeoutMs = (traffic.warmupS + traffic.durationS) * 1000 + DRIVE_SLACK_MS;
    return this.request({ op: "drive", target, traffic }, timeoutMs).then((response) => response.sample!);
  }

  /** Whether the connection has ended (requests on it fail at once). */
  get closed(): boolean {
    return this.closedError !== null;
  }

  close(): void {
    this.end();
  }

  private request(
    body: Record<string, unknown>,
    timeoutMs = REQUEST_TIMEOUT_MS,
  ): Promise<ControlResponse & { ok: true }> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`agent ${this.description} did not answer '${body.op}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      sendLine(this.output, { id, ...body });
    });
  }

  private receive(line: string): void {
    const response = JSON.parse(line) as ControlResponse;
    const pending = this.pending.get(response.id);
    if (!pending) return;
    this.pending.delete(response.id);
    clearTimeout(pending.timer);
    if (response.ok) pending.resolve(response);
    else pending.reject(new Error(`agent ${this.description}: ${response.error}`));
  }

  private failAll(error: Error): void {
    this.closedError ??= error;
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.pending.clear();
  }
}
