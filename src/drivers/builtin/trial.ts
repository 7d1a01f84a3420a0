// Pieces every pattern of the built-in engine shares: the trial clock, data connections, and
// turning counts into a Sample.

import dgram from "node:dgram";
import { writeSync } from "node:fs";
import net from "node:net";
import { encodeHistogram, type LatencyHistogram, summarizeLatency } from "../../analysis/latency.js";
import { type Lateness, lossOf, type Sample } from "../../domain/sample.js";
import type { Traffic } from "../../domain/traffic.js";
import type { AgentConnection } from "./control-client.js";
import type { IntervalSeries } from "./series.js";

/** Monotonic time in nanoseconds (as a double: exact to the ns for 104 days of uptime). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** Which implementation carried a trial's messages: native/wire.c, or this process's event loop. */
export type DataPath = "native" | "node";

/** Seconds as a whole number of nanoseconds, for the native data path's arguments. */
export function nanoseconds(seconds: number): string {
  return String(Math.round(seconds * 1e9));
}

/**
 * The share of the path's own p99 by which the tool's delays (sender lateness, answers waiting to
 * be read) may move the reported p99 before a trial is flagged generator-limited, with a floor
 * in µs below which no shift counts (the clock and the histogram's precision).
 */
export const GENERATOR_P99_SHIFT = 0.25;
export const GENERATOR_P99_SHIFT_FLOOR_US = 20;
/** An open-loop sender that achieved less than this share of the offered rate fell behind. */
export const SENT_FRACTION_OF_OFFERED = 0.99;

export interface PatternContext {
  agent: AgentConnection;
  /** The address the client sends data to. */
  host: string;
  traffic: Traffic;
  signal?: AbortSignal;
  /** The trial's time series, shared by its parallel flows. */
  series?: IntervalSeries;
}

/** The warm-up and measured window of one trial, on this process's clock. */
export class TrialClock {
  readonly startNs: number;
  readonly measureFromNs: number;
  readonly endNs: number;

  constructor(traffic: Pick<Traffic, "warmupS" | "durationS">, startNs = nowNs()) {
    this.startNs = startNs;
    this.measureFromNs = startNs + traffic.warmupS * 1e9;
    this.endNs = this.measureFromNs + traffic.durationS * 1e9;
  }
}

/** The trial's clock from `startNs`; the flows' series records over its measured window. */
export function startClock(ctx: PatternContext, startNs = nowNs()): TrialClock {
  const clock = new TrialClock(ctx.traffic, startNs);
  ctx.series?.begin(clock.measureFromNs, clock.endNs);
  return clock;
}

/** Bytes of the static buffer a counting receiver reads into (no allocation per read). */
const RECEIVE_BUFFER_BYTES = 256 * 1024;

/**
 * Connects a data socket. With `onBytes`, received data is read into one static buffer (passed
 * along, valid until the callback returns) instead of a new Buffer per read, which keeps the
 * receiver's CPU on the path.
 */
export function connectTcp(
  host: string,
  port: number,
  onBytes?: (bytes: number, buffer: Buffer) => void,
  timeoutMs = 5_000,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const onread = onBytes
      ? {
          buffer: Buffer.allocUnsafe(RECEIVE_BUFFER_BYTES),
          callback: (bytes: number, buffer: Buffer) => {
            onBytes(bytes, buffer);
            return true; // false would pause the socket
          },
        }
      : undefined;
    const socket = net.connect({ host, port, noDelay: true, ...(onread ? { onread } : {}) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`data connection to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`data connection to ${host}:${port}: ${error.message}`));
    });
  });
}

export function connectUdp(host: string, port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket({
    type: net.isIPv6(host) ? "udp6" : "udp4",
    recvBufferSize: 4 << 20,
    sendBufferSize: 4 << 20,
  });
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.connect(port, host, () => {
      socket.off("error", reject);
      resolve(socket);
    });
  });
}

/** The kernel descriptor of a connected data socket, so another thread can write to it directly. */
export function descriptorOf(socket: net.Socket | dgram.Socket): number {
  const handle =
    socket instanceof net.Socket
      ? (socket as unknown as { _handle?: { fd?: number } })._handle
      : (socket as unknown as Record<symbol, { handle?: { fd?: number } }>)[
          Object.getOwnPropertySymbols(socket).find((key) => key.description === "state symbol")!
        ]?.handle;
  const fd = handle?.fd;
  if (typeof fd !== "number" || fd < 0) throw new Error("data socket has no descriptor to send from");
  return fd;
}

/** A non-blocking write the socket could not take now (its buffer is full): try again later. */
export function isBusy(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "EAGAIN" || code === "EWOULDBLOCK" || code === "ENOBUFS";
}

/**
 * A writer that hands small messages straight to the kernel (one write call) instead of through
 * Node's stream or datagram machinery, a few µs per message on a request/response path. Whatever
 * the kernel does not take at once, or anything while Node still holds queued data, goes the
 * usual way, so order is kept.
 */
export function directWriter(socket: net.Socket | dgram.Socket): (message: Buffer) => void {
  const fd = descriptorOf(socket);
  if (socket instanceof net.Socket) {
    return (message) => {
      if (socket.writableLength === 0) {
        try {
          const written = writeSync(fd, message);
          if (written < message.length) socket.write(message.subarray(written));
          return;
        } catch (error) {
          // A reset or closed peer fails the socket as a write through Node would.
          if (!isBusy(error)) return void socket.destroy(error as Error);
        }
      }
      socket.write(message);
    };
  }
  return (message) => {
    try {
      writeSync(fd, message);
    } catch (error) {
      if (isBusy(error)) socket.send(message);
      else socket.emit("error", error);
    }
  };
}

/**
 * Rejects when the abort signal fires, so a cancelled run stops at once. A plain Error reason (a
 * timeout's message) is passed on; anything else (AbortController's DOMException) reads "trial aborted".
 */
export function abortable(signal: AbortSignal | undefined, onAbort: (reason: Error) => void): () => void {
  if (!signal) return () => {};
  const listener = () =>
    onAbort(
      signal.reason instanceof Error && signal.reason.name === "Error"
        ? signal.reason
        : new Error("trial aborted"),
    );
  if (signal.aborted) listener();
  signal.addEventListener("abort", listener, { once: true });
  return () => signal.removeEventListener("abort", listener);
}

export interface Counts {
  durationS: number;
  messagesSent: number;
  messagesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** Payload bytes delivered in the window, both directions (for throughput). */
  bytesDelivered: number;
  reordered?: number;
  duplicates?: number;
  histogram?: LatencyHistogram;
  lateness?: LatencyHistogram;
  /** Open loop: how long answers waited to be read, and latency with the tool's delays taken out. */
  receiveLag?: LatencyHistogram;
  pathLatency?: LatencyHistogram;
  /** Open loop: the offered rate, messages/s. */
  offeredRate?: number;
  warnings?: string[];
  dataPath?: DataPath;
}

function toolDelayOf(histogram: LatencyHistogram | undefined): Lateness | null {
  if (!histogram || histogram.totalCount === 0) return null;
  return {
    p50Us: histogram.getValueAtPercentile(50) / 1000,
    p99Us: histogram.getValueAtPercentile(99) / 1000,
    maxUs: histogram.maxValue / 1000,
  };
}

/** Why an open-loop trial's figures are the generator's rather than the path's, or null. */
export function generatorLimitOf(counts: Counts): string | null {
  const reasons: string[] = [];
  if (counts.offeredRate && counts.durationS > 0) {
    const sentRate = counts.messagesSent / counts.durationS;
    if (sentRate < SENT_FRACTION_OF_OFFERED * counts.offeredRate)
      reasons.push(`the sender achieved ${sentRate.toFixed(0)} of ${counts.offeredRate} messages/s offered`);
  }
  const reported = counts.histogram?.totalCount ? counts.histogram.getValueAtPercentile(99) / 1000 : null;
  const path = counts.pathLatency?.totalCount ? counts.pathLatency.getValueAtPercentile(99) / 1000 : null;
  if (reported !== null && path !== null) {
    const shiftUs = reported - path;
    if (shiftUs > Math.max(GENERATOR_P99_SHIFT_FLOOR_US, GENERATOR_P99_SHIFT * path)) {
      const late = toolDelayOf(counts.lateness)?.p99Us ?? 0;
      const lag = toolDelayOf(counts.receiveLag)?.p99Us ?? 0;
      reasons.push(
        `the tool's own delays (sender lateness p99 ${late.toFixed(0)} µs, receive lag p99 ${lag.toFixed(0)} µs) ` +
          `move latency p99 from ${path.toFixed(0)} to ${reported.toFixed(0)} µs, more than ${GENERATOR_P99_SHIFT * 100} %`,
      );
    }
  }
  return reasons.length > 0 ? `generator-limited: ${reasons.join("; ")}` : null;
}

export function sampleFrom(counts: Counts): Sample {
  const durationS = counts.durationS > 0 ? counts.durationS : Number.NaN;
  const warnings = [...(counts.warnings ?? [])];
  const limit = generatorLimitOf(counts);
  if (limit) warnings.push(limit);
  const histogram = counts.histogram && counts.histogram.totalCount > 0 ? counts.histogram : null;
  return {
    driver: "builtin",
    direction: "forward",
    durationS: counts.durationS,
    messagesSent: counts.messagesSent,
    messagesReceived: counts.messagesReceived,
    bytesSent: counts.bytesSent,
    bytesReceived: counts.bytesReceived,
    messagesPerSecond: counts.messagesReceived / durationS,
    throughputMbps: (counts.bytesDelivered * 8) / durationS / 1e6,
    latencyUs: histogram ? summarizeLatency(histogram) : null,
    histogram: histogram ? encodeHistogram(histogram) : null,
    loss: lossOf(counts.messagesSent, counts.messagesReceived, counts.reordered ?? 0, counts.duplicates ?? 0),
    lateness: toolDelayOf(counts.lateness),
    ...(counts.receiveLag ? { receiveLag: toolDelayOf(counts.receiveLag) } : {}),
    ...(counts.pathLatency ? { pathLatency: toolDelayOf(counts.pathLatency) } : {}),
    generatorLimited: limit !== null,
    warnings,
    ...(counts.dataPath ? { dataPath: counts.dataPath } : {}),
  };
}
