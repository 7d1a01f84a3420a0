// The agent: the server side of the built-in engine. It accepts authenticated control
// connections, opens data listeners on request, answers requests, sinks and sources streams.

import dgram from "node:dgram";
import net from "node:net";
import type { Readable, Writable } from "node:stream";
import { SequenceTracker } from "../../analysis/sequence.js";
import type { Sample } from "../../domain/sample.js";
import { AgentConnection, DRIVE_SLACK_MS } from "./control-client.js";
import {
  checkRequest,
  IDLE_TIMEOUT_MS,
  MAX_CONNECTIONS,
  MAX_SESSIONS,
  MAX_UNAUTHENTICATED_LINE,
} from "./control-limits.js";
import { type DatagramSource, startDatagramSource } from "./datagram-source.js";
import { runFlows } from "./flows.js";
import {
  type ControlRequest,
  type ControlResponse,
  type DriveRequest,
  HEADER_BYTES,
  type Mark,
  newNonce,
  type OpenRequest,
  onLines,
  PROTOCOL_VERSION,
  proofMatches,
  readSeq,
  sendLine,
} from "./protocol.js";
import { cpuShareBetween, readNetCounters, SATURATED_CPU_SHARE, socketDropsBetween } from "./socket-drops.js";
import { directWriter } from "./trial.js";
import { releaseWorkers, startWireServer, wireBinary } from "./wire.js";

export interface AgentOptions {
  host: string;
  port: number;
  token: string;
}

interface Counters {
  bytes: number;
  messages: number;
  sequence: SequenceTracker | null;
  /** For udp maerts the agent is the sender: its counts are what it sent. */
  source: DatagramSource | null;
}

interface DataSession {
  port: number;
  counters: Counters;
  messageSize: number;
  close(): void;
}

const AUTH_TIMEOUT_MS = 5_000;
const UDP_RESPONSE_RING = 256;
/** Bytes written per system call by stream senders: messages are batched up to this size. */
export const STREAM_BATCH_BYTES = 64 * 1024;

function headerBytes(request: Pick<OpenRequest, "requestSize" | "responseSize">): number {
  return Math.min(HEADER_BYTES, request.requestSize, request.responseSize);
}

/** A buffer of whole messages of `size` bytes, about STREAM_BATCH_BYTES long. */
export function streamBatch(size: number): Buffer {
  return Buffer.alloc(Math.max(1, Math.floor(STREAM_BATCH_BYTES / size)) * size, 0x5a);
}

function markOf(counters: Counters, messageSize: number): Mark {
  const sent = counters.source?.sent;
  return {
    atNs: process.hrtime.bigint().toString(),
    bytes: sent === undefined ? counters.bytes : sent * messageSize,
    messages: sent ?? counters.messages,
    duplicates: counters.sequence?.duplicates ?? 0,
    reordered: counters.sequence?.reordered ?? 0,
  };
}

/** Writes `batch` as fast as the socket drains, until the socket closes. */
function pumpTcp(socket: net.Socket, batch: Buffer): void {
  const pump = () => {
    while (!socket.destroyed && socket.write(batch)) {
      // keep writing until the kernel buffer is full
    }
  };
  socket.on("drain", pump);
  pump();
}

// Responds to each complete request of requestSize bytes with a response of responseSize bytes.
// Paced responses echo the request's header (sequence, intended time); rr and crr responses are
// all alike, so one buffer serves them all.
function tcpEchoResponder(socket: net.Socket, request: OpenRequest, counters: Counters): net.Socket {
  const header = headerBytes(request);
  const template = Buffer.alloc(request.responseSize, 0x5a);
  const headerBuffer = Buffer.alloc(HEADER_BYTES);
  // Headers of the requests completed in this read, back to back (grown, never shrunk).
  let headers = Buffer.alloc(64 * HEADER_BYTES);
  let completed = 0;
  let partial = 0;
  let write: ((message: Buffer) => void) | null = null;
  socket.on("data", (chunk: Buffer) => {
    counters.bytes += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      if (partial < header) {
        const take = Math.min(header - partial, chunk.length - offset);
        chunk.copy(headerBuffer, partial, offset, offset + take);
      }
      const take = Math.min(request.requestSize - partial, chunk.length - offset);
      partial += take;
      offset += take;
      if (partial === request.requestSize) {
        partial = 0;
        counters.messages++;
        if ((completed + 1) * HEADER_BYTES > headers.length) {
          const grown = Buffer.alloc(headers.length * 2);
          headers.copy(grown);
          headers = grown;
        }
        headerBuffer.copy(headers, completed * HEADER_BYTES);
        completed++;
      }
    }
    if (completed === 0) return;
    // One buffer for the answers to this read, each the template with its request's header.
    const responses = Buffer.allocUnsafe(completed * request.responseSize);
    for (let i = 0; i < completed; i++) {
      template.copy(responses, i * request.responseSize);
      headers.copy(responses, i * request.responseSize, i * HEADER_BYTES, i * HEADER_BYTES + header);
    }
    completed = 0;
    write ??= directWriter(socket);
    write(responses);
  });
  socket.resume();
  return socket;
}

/** Bytes of the static buffer a counting reader reads into. */
const RECEIVE_BUFFER_BYTES = 256 * 1024;

/**
 * An accepted socket whose data is only counted, re-wrapped so reads land in one static buffer
 * (`onread`) instead of a new Buffer each: Node offers `onread` only on sockets it creates, and the
 * allocations halve a receiver's throughput. Falls back to 'data' events if the handle is not there.
 */
function countingSocket(accepted: net.Socket, onBytes: (bytes: number) => void): net.Socket {
  const handle = (accepted as unknown as { _handle?: unknown })._handle;
  if (!handle) {
    accepted.on("data", (chunk: Buffer) => onBytes(chunk.length));
    accepted.resume();
    return accepted;
  }
  const callback = (bytes: number) => {
    onBytes(bytes);
    return true; // false would pause the socket
  };
  return new net.Socket({
    handle,
    onread: { buffer: Buffer.allocUnsafe(RECEIVE_BUFFER_BYTES), callback },
  } as net.SocketConstructorOpts);
}

function tcpConstantResponder(accepted: net.Socket, request: OpenRequest, counters: Counters): net.Socket {
  const response = Buffer.alloc(request.responseSize, 0x5a);
  let partial = 0;
  let write: ((message: Buffer) => void) | null = null;
  const socket = countingSocket(accepted, (bytes) => {
    counters.bytes += bytes;
    partial += bytes;
    const complete = Math.floor(partial / request.requestSize);
    if (complete === 0) return;
    partial -= complete * request.requestSize;
    counters.messages += complete;
    write ??= directWriter(socket);
    for (let i = 0; i < complete; i++) write(response);
    // crr: the server closes first, so TIME_WAIT stays here and the client never runs out of ports.
    if (request.pattern === "crr") socket.end();
  });
  return socket;
}

function openTcp(host: string, request: OpenRequest): Promise<DataSession> {
  const counters: Counters = { bytes: 0, messages: 0, sequence: null, source: null };
  const sockets = new Set<net.Socket>();
  // Paused on accept: a counting reader re-wraps the socket before any byte is read.
  const server = net.createServer({ pauseOnConnect: true }, (accepted) => {
    accepted.setNoDelay(true);
    let socket: net.Socket;
    if (request.pattern === "stream") {
      socket = countingSocket(accepted, (bytes) => {
        counters.bytes += bytes;
      });
    } else if (request.pattern === "maerts") {
      socket = accepted;
      socket.resume();
      pumpTcp(socket, streamBatch(request.responseSize));
    } else if (request.pattern === "paced") {
      socket = tcpEchoResponder(accepted, request, counters);
    } else {
      socket = tcpConstantResponder(accepted, request, counters);
    }
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address() as net.AddressInfo;
      resolve({
        port: address.port,
        counters,
        messageSize: request.pattern === "maerts" ? request.responseSize : request.requestSize,
        close() {
          for (const socket of sockets) socket.destroy();
          server.close();
        },
      });
    });
  });
}

function openUdp(host: string, request: OpenRequest): Promise<DataSession> {
  const counters: Counters = { bytes: 0, messages: 0, sequence: new SequenceTracker(), source: null };
  const socket = dgram.createSocket({ type: net.isIPv6(host) ? "udp6" : "udp4", recvBufferSize: 4 << 20 });
  const header = headerBytes(request);
  const responses = Array.from({ length: UDP_RESPONSE_RING }, () => Buffer.alloc(request.responseSize, 0x5a));
  let nextResponse = 0;
  let connecting = false;
  let answer: ((message: Buffer) => void) | null = null;
  socket.on("message", (message, remote) => {
    if (request.pattern === "maerts") {
      // Any datagram from the client starts (or restarts) the flow towards it; counters count what was sent.
      counters.source?.stop();
      counters.source = startDatagramSource(request.responseSize, request.rate, (buffer, done) =>
        socket.send(buffer, remote.port, remote.address, done),
      );
      return;
    }
    counters.bytes += message.length;
    if (request.pattern === "stream") {
      if (message.length >= 4) counters.sequence!.record(readSeq(message));
      counters.messages++;
      return;
    }
    counters.messages++;
    // Answers come from a ring: a send the kernel could not take at once still owns its buffer.
    const response = responses[nextResponse++ % responses.length]!;
    message.copy(response, 0, 0, header);
    if (answer) return answer(response);
    socket.send(response, remote.port, remote.address);
    // One client per session: once connected to it, answers go straight to the kernel.
    if (!connecting) {
      connecting = true;
      socket.connect(remote.port, remote.address, () => {
        answer = directWriter(socket);
      });
    }
  });
  socket.on("error", () => {});
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, host, () => {
      resolve({
        port: socket.address().port,
        counters,
        messageSize: request.pattern === "maerts" ? request.responseSize : request.requestSize,
        close() {
          counters.source?.stop();
          socket.close();
        },
      });
    });
  });
}

/**
 * A request/response or open-loop session answered by the native data path: a blocking thread of
 * its own per socket, nothing of this event loop between a request and its answer. Only stream
 * sessions are marked, so its counters stay empty.
 */
async function openWire(binary: string, host: string, request: OpenRequest): Promise<DataSession> {
  // tcp rr answers are all alike (as tcpConstantResponder's); the others echo the request's header.
  const header = request.pattern === "rr" && request.protocol === "tcp" ? 0 : headerBytes(request);
  const { requestSize, responseSize } = request;
  const server = await startWireServer(binary, request.protocol, host, { requestSize, responseSize, header });
  return {
    port: server.port,
    counters: { bytes: 0, messages: 0, sequence: null, source: null },
    messageSize: requestSize,
    close: () => server.close(),
  };
}

/** Serves control connections until close() is called. */
export class Agent {
  private readonly server: net.Server;
  private readonly sessions = new Map<number, DataSession>();
  private readonly peers = new Map<string, Promise<AgentConnection>>();
  private nextSession = 1;

  constructor(private readonly options: AgentOptions) {
    this.server = net.createServer((socket) => this.accept(socket));
    this.server.maxConnections = MAX_CONNECTIONS;
  }

  listen(): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off("error", reject);
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  close(): void {
    for (const session of this.sessions.values()) session.close();
    this.sessions.clear();
    // The native data path's idle processes end now, not when their idle time runs out.
    releaseWorkers();
    for (const peer of this.peers.values())
      peer.then(
        (connection) => connection.close(),
        () => {},
      );
    this.server.close();
  }

  /** Serves an already trusted channel (the launcher's stdin/stdout); resolves when it ends. */
  serveChannel(input: Readable, output: Writable): Promise<void> {
    const owned = new Set<number>();
    onLines(input, (line) => {
      const checked = checkRequest(parseJson(line));
      if (checked.ok) this.respond(checked.request, owned, (response) => sendLine(output, response));
      else if (checked.id !== null) sendLine(output, { id: checked.id, ok: false, error: checked.error });
    });
    return new Promise((resolve) => {
      const done = () => {
        for (const id of owned) this.closeSession(id);
        resolve();
      };
      input.once("end", done);
      input.once("close", done);
    });
  }

  private respond(
    message: ControlRequest,
    owned: Set<number>,
    reply: (response: ControlResponse) => void,
  ): void {
    this.handle(message, owned).then(reply, (error: Error) =>
      reply({ id: message.id, ok: false, error: error.message }),
    );
  }

  // Runs one trial's client side from this endpoint against a peer agent.
  private async drive(request: DriveRequest & { id: number }): Promise<ControlResponse> {
    const { host, port, token } = request.target;
    const key = `${host}|${port}`;
    let peer = this.peers.get(key);
    // A connection the peer closed (e.g. idle too long) is replaced, not reused.
    if (peer && (await peer.catch(() => null))?.closed !== false) peer = undefined;
    if (!peer) {
      peer = AgentConnection.connect(host, port, token);
      this.peers.set(key, peer);
      peer.catch(() => this.peers.delete(key));
    }
    const agent = await peer;
    const before = await Promise.all([readNetCounters(), agent.counters()]);
    // Stopped here before the client gives up on the answer, so its error says what hung.
    const { warmupS, durationS } = request.traffic;
    const limitMs = (warmupS + durationS) * 1000 + DRIVE_SLACK_MS / 2;
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new Error(`the trial did not end within ${limitMs} ms on the agent: stopped`)),
      limitMs,
    );
    let sample: Sample;
    try {
      sample = await runFlows({ agent, host, traffic: request.traffic, signal: deadline.signal });
    } finally {
      clearTimeout(timer);
    }
    const after = await Promise.all([readNetCounters(), agent.counters()]);
    if (request.traffic.protocol === "udp") {
      const socketDrops = socketDropsBetween([before[0], after[0]], [before[1], after[1]]);
      sample.loss = { ...sample.loss, socketDrops };
    }
    // A request/response loop whose agent saturates a CPU measures the agent; so does open-loop
    // load whose answering agent does (its sender spins by design and has its own checks). A stream
    // bound by CPU measures the host's cost per byte, tool and kernel.
    const { pattern } = request.traffic;
    if (pattern === "rr" || pattern === "crr" || pattern === "paced") {
      const busy = [
        ...(pattern === "paced" ? [] : [{ side: "client", share: cpuShareBetween(before[0], after[0]) }]),
        { side: "server", share: cpuShareBetween(before[1], after[1]) },
      ].filter(({ share }) => share >= SATURATED_CPU_SHARE);
      if (busy.length > 0) {
        sample.generatorLimited = true;
        sample.warnings = [
          ...sample.warnings,
          `generator-limited: the ${busy.map(({ side, share }) => `${side} agent used ${(share * 100).toFixed(0)} %`).join(" and the ")} of a CPU`,
        ];
      }
    }
    return { id: request.id, ok: true, sample };
  }

  private accept(socket: net.Socket): void {
    const nonce = newNonce();
    let authenticated = false;
    const owned = new Set<number>();
    const authTimer = setTimeout(() => socket.destroy(), AUTH_TIMEOUT_MS);
    socket.setNoDelay(true);
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      clearTimeout(authTimer);
      for (const id of owned) this.closeSession(id);
    });
    sendLine(socket, { hello: "vnetbench-agent", version: PROTOCOL_VERSION, nonce });
    onLines(
      socket,
      (line) => {
        const message = parseJson(line);
        if (!authenticated) {
          const auth =
            typeof message === "object" && message !== null ? (message as { auth?: unknown }).auth : null;
          if (!proofMatches(this.options.token, nonce, auth)) {
            sendLine(socket, { ok: false, error: "authentication failed" });
            socket.end();
            return;
          }
          authenticated = true;
          clearTimeout(authTimer);
          socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
          sendLine(socket, { ok: true });
          return;
        }
        const checked = checkRequest(message);
        if (checked.ok) this.respond(checked.request, owned, (response) => sendLine(socket, response));
        else if (checked.id !== null) sendLine(socket, { id: checked.id, ok: false, error: checked.error });
        // Not even an id to answer: not our client; drop it.
        else socket.destroy();
      },
      () => (authenticated ? undefined : MAX_UNAUTHENTICATED_LINE),
    );
  }

  private async handle(request: ControlRequest, owned: Set<number>): Promise<ControlResponse> {
    switch (request.op) {
      case "open": {
        if (this.sessions.size >= MAX_SESSIONS)
          return { id: request.id, ok: false, error: `${MAX_SESSIONS} data sessions are open already` };
        const binary = request.pattern === "rr" || request.pattern === "paced" ? wireBinary() : null;
        const session = binary
          ? await openWire(binary, this.options.host, request)
          : request.protocol === "udp"
            ? await openUdp(this.options.host, request)
            : await openTcp(this.options.host, request);
        const id = this.nextSession++;
        this.sessions.set(id, session);
        owned.add(id);
        return { id: request.id, ok: true, session: id, port: session.port };
      }
      case "mark": {
        const session = this.sessions.get(request.session);
        if (!session) return { id: request.id, ok: false, error: `no session ${request.session}` };
        if (request.stop) session.counters.source?.stop();
        return { id: request.id, ok: true, mark: markOf(session.counters, session.messageSize) };
      }
      case "close":
        this.closeSession(request.session);
        owned.delete(request.session);
        return { id: request.id, ok: true };
      case "drive":
        return this.drive(request);
      case "counters":
        return { id: request.id, ok: true, counters: await readNetCounters() };
      default:
        return { id: (request as { id: number }).id, ok: false, error: "unknown operation" };
    }
  }

  private closeSession(id: number): void {
    this.sessions.get(id)?.close();
    this.sessions.delete(id);
  }
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
