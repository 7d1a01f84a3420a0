// Pieces every pattern of the built-in engine shares: the trial clock, data connections, and
// turning counts into a Sample.

import dgram from "node:dgram";
import net from "node:net";
import { encodeHistogram, type LatencyHistogram, summarizeLatency } from "../../analysis/latency.js";
import { type Lateness, lossOf, type Sample } from "../../domain/sample.js";
import type { Traffic } from "../../domain/traffic.js";
import type { AgentConnection } from "./control-client.js";

/** Monotonic time in nanoseconds (as a double: exact to the ns for 104 days of uptime). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** Lateness p99 above which an open-loop sender is too late for its latency to mean the path's. */
export const GENERATOR_LATENESS_P99_US = 250;

export interface PatternContext {
  agent: AgentConnection;
  /** The address the client sends data to. */
  host: string;
  traffic: Traffic;
  signal?: AbortSignal;
  /** Whether the pattern may block this process's event loop (nothing else is served by it). */
  mayBlock?: () => boolean;
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

/** Bytes of the static buffer a counting receiver reads into (no allocation per read). */
const RECEIVE_BUFFER_BYTES = 256 * 1024;

/**
 * Connects a data socket. With `onBytes`, received data is only counted: it is read into one
 * static buffer instead of a new Buffer per read, which keeps the receiver's CPU on the path.
 */
export function connectTcp(
  host: string,
  port: number,
  onBytes?: (bytes: number) => void,
  timeoutMs = 5_000,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const onread = onBytes
      ? {
          buffer: Buffer.allocUnsafe(RECEIVE_BUFFER_BYTES),
          callback: (bytes: number) => {
            onBytes(bytes);
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

/** Rejects when the abort signal fires, so a cancelled run stops at once. */
export function abortable(signal: AbortSignal | undefined, onAbort: (reason: Error) => void): () => void {
  if (!signal) return () => {};
  const listener = () => onAbort(new Error("trial aborted"));
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
  warnings?: string[];
}

export function sampleFrom(counts: Counts): Sample {
  const durationS = counts.durationS > 0 ? counts.durationS : Number.NaN;
  const warnings = [...(counts.warnings ?? [])];
  let lateness: Lateness | null = null;
  let generatorLimited = false;
  if (counts.lateness && counts.lateness.totalCount > 0) {
    lateness = {
      p50Us: counts.lateness.getValueAtPercentile(50) / 1000,
      p99Us: counts.lateness.getValueAtPercentile(99) / 1000,
      maxUs: counts.lateness.maxValue / 1000,
    };
    if (lateness.p99Us > GENERATOR_LATENESS_P99_US) {
      generatorLimited = true;
      warnings.push(
        `sender lateness p99 ${lateness.p99Us.toFixed(0)} µs exceeds ${GENERATOR_LATENESS_P99_US} µs: latency reflects the generator, not the path`,
      );
    }
  }
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
    lateness,
    generatorLimited,
    warnings,
  };
}
