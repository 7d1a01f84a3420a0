// Open-loop load at an offered rate (wrk2-style): message i is due at start + i/rate whatever
// happened to earlier ones, and its latency is measured from that intended time, so a stalled
// path cannot hide its queueing (no coordinated omission). The sender spins through the event
// loop near each due time (timers alone fire ~1 ms late) and its own lateness is recorded. When
// its newest message has been answered, nothing is expected, so it sleeps in the kernel
// (Atomics.wait, ~0.1 ms late here) until shortly before the next due time instead of spinning.

import type dgram from "node:dgram";
import type net from "node:net";
import { newLatencyHistogram, recordNs } from "../../analysis/latency.js";
import { SequenceTracker } from "../../analysis/sequence.js";
import type { Sample } from "../../domain/sample.js";
import { HEADER_BYTES, readIntendedUs, readSeq, writeHeader } from "./protocol.js";
import {
  abortable,
  connectTcp,
  connectUdp,
  nowNs,
  type PatternContext,
  sampleFrom,
  TrialClock,
} from "./trial.js";

/** Sleep with a timer only when the next message is further away than this; spin otherwise. */
const SPIN_WINDOW_NS = 2e6;
/** An idle sender's sleep ends this long before the due time (Atomics.wait wakes ~90 µs late, p99 ~200 µs, rarely 1–3 ms here), so only rates under 1000/s sleep at all. */
const SLEEP_MARGIN_NS = 1e6;
/** After the last message, answers are awaited this long at least (and 4 × the worst seen). */
const DRAIN_FLOOR_NS = 100e6;
const DRAIN_CEILING_NS = 2e9;

interface Transport {
  send(message: Buffer): void;
  /** Registers the handler for each complete response (its first HEADER_BYTES bytes at least). */
  onResponse(handler: (response: Buffer, offset: number) => void): void;
  onFailure(handler: (error: Error) => void): void;
  close(): void;
}

async function udpTransport(host: string, port: number): Promise<Transport> {
  const socket: dgram.Socket = await connectUdp(host, port);
  return {
    send: (message) => socket.send(message),
    onResponse: (handler) => socket.on("message", (message) => handler(message, 0)),
    onFailure: (handler) => socket.on("error", handler),
    close: () => socket.close(),
  };
}

async function tcpTransport(host: string, port: number, responseSize: number): Promise<Transport> {
  const socket: net.Socket = await connectTcp(host, port);
  let pending: Buffer = Buffer.alloc(0);
  return {
    send: (message) => socket.write(message),
    onResponse: (handler) =>
      socket.on("data", (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        let offset = 0;
        while (pending.length - offset >= responseSize) {
          handler(pending, offset);
          offset += responseSize;
        }
        pending = pending.subarray(offset);
      }),
    onFailure: (handler) => {
      socket.on("error", handler);
      socket.on("close", () => handler(new Error("agent closed the data connection")));
    },
    close: () => {
      socket.removeAllListeners("close");
      socket.destroy();
    },
  };
}

export async function runPaced(ctx: PatternContext): Promise<Sample> {
  const { protocol, requestSize, responseSize, rate } = ctx.traffic;
  if (typeof rate !== "number" || !(rate > 0))
    throw new Error(`paced traffic needs a numeric rate, got ${rate}`);
  if (protocol === "icmp") throw new Error("the built-in engine does not send icmp");
  if (requestSize < HEADER_BYTES || responseSize < HEADER_BYTES) {
    throw new Error(`paced messages carry a ${HEADER_BYTES}-byte header: sizes must be ≥ ${HEADER_BYTES}`);
  }
  const { session, port } = await ctx.agent.open({
    protocol,
    pattern: "paced",
    requestSize,
    responseSize,
    rate: 0,
  });
  const transport =
    protocol === "udp"
      ? await udpTransport(ctx.host, port)
      : await tcpTransport(ctx.host, port, responseSize);
  const intervalNs = 1e9 / rate;
  const clock = new TrialClock(ctx.traffic, nowNs() + 1e6);
  const firstMeasured = Math.ceil((clock.measureFromNs - clock.startNs) / intervalNs);
  const total = Math.ceil((clock.endNs - clock.startNs) / intervalNs);
  const latency = newLatencyHistogram();
  const lateness = newLatencyHistogram();
  const sequence = new SequenceTracker();
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  let worstNs = 0;
  let next = 0;
  let newestAnswered = -1;

  try {
    await new Promise<void>((resolve, reject) => {
      const unlisten = abortable(ctx.signal, reject);
      transport.onFailure((error) => reject(new Error(`data connection lost mid-trial: ${error.message}`)));
      transport.onResponse((response, offset) => {
        const arrivedNs = nowNs();
        const seq = readSeq(response, offset);
        if (seq > newestAnswered) newestAnswered = seq;
        if (seq < firstMeasured || seq >= total) return;
        if (!sequence.record(seq - firstMeasured)) return;
        const ns = arrivedNs - (clock.startNs + readIntendedUs(response, offset) * 1000);
        recordNs(latency, ns);
        if (ns > worstNs) worstNs = ns;
      });
      const drain = () => {
        const waitNs = Math.min(DRAIN_CEILING_NS, Math.max(DRAIN_FLOOR_NS, 4 * worstNs));
        setTimeout(() => {
          unlisten();
          resolve();
        }, waitNs / 1e6);
      };
      const tick = () => {
        const now = nowNs();
        while (next < total && clock.startNs + next * intervalNs <= now) {
          const intendedNs = next * intervalNs;
          // Lateness is how long after its due time a message starts leaving; the send itself is path cost.
          if (next >= firstMeasured) recordNs(lateness, nowNs() - (clock.startNs + intendedNs));
          const message = Buffer.allocUnsafe(requestSize);
          message.fill(0x5a, HEADER_BYTES);
          writeHeader(message, next, intendedNs / 1000);
          transport.send(message);
          next++;
        }
        if (next >= total) return drain();
        const waitNs = clock.startNs + next * intervalNs - nowNs();
        // Blocking is safe once the newest message is answered: an older one still missing is lost
        // (or so late that sleeping through it does not matter).
        const idle = newestAnswered >= next - 1 && (ctx.mayBlock?.() ?? false);
        if (idle && waitNs > SLEEP_MARGIN_NS) {
          Atomics.wait(sleeper, 0, 0, (waitNs - SLEEP_MARGIN_NS) / 1e6);
          setImmediate(tick);
        } else if (waitNs > SPIN_WINDOW_NS) setTimeout(tick, (waitNs - SPIN_WINDOW_NS) / 1e6);
        else setImmediate(tick);
      };
      tick();
    });
  } finally {
    transport.close();
    await ctx.agent.closeSession(session).catch(() => {});
  }
  const sent = total - firstMeasured;
  const durationS = (clock.endNs - clock.measureFromNs) / 1e9;
  const sample = sampleFrom({
    durationS,
    messagesSent: sent,
    messagesReceived: sequence.received,
    bytesSent: sent * requestSize,
    bytesReceived: sequence.received * responseSize,
    bytesDelivered: sequence.received * (requestSize + responseSize),
    duplicates: sequence.duplicates,
    reordered: sequence.reordered,
    histogram: latency,
    lateness,
  });
  return sample;
}
