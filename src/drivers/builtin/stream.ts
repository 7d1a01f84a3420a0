// One-way bulk transfer: stream (client → server, netperf TCP_STREAM / UDP_STREAM) and maerts
// (server → client, TCP_MAERTS). Delivered bytes are counted by the receiver over the measured
// window; the receiver's clock times it.

import type dgram from "node:dgram";
import type net from "node:net";
import { SequenceTracker } from "../../analysis/sequence.js";
import type { Sample } from "../../domain/sample.js";
import { streamBatch } from "./agent.js";
import type { AgentConnection } from "./control-client.js";
import { startDatagramSource } from "./datagram-source.js";
import type { Mark } from "./protocol.js";
import { readSeq } from "./protocol.js";
import {
  abortable,
  connectTcp,
  connectUdp,
  nowNs,
  type PatternContext,
  sampleFrom,
  startClock,
} from "./trial.js";

/** Bytes a stream sender writes before it lets the event loop run its timers. */
const PUMP_TURN_BYTES = 4 << 20;

/** Lets datagrams still in flight at the end of the window arrive before the receiver is read. */
const UDP_SETTLE_MS = 50;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until a point of this process's monotonic clock, failing early on abort or a lost connection. */
function until(atNs: number, ctx: PatternContext, failure: { error: Error | null }): Promise<void> {
  return new Promise((resolve, reject) => {
    const unlisten = abortable(ctx.signal, reject);
    const check = () => {
      if (failure.error) return reject(failure.error);
      const leftMs = (atNs - nowNs()) / 1e6;
      if (leftMs <= 0) {
        unlisten();
        resolve();
      } else setTimeout(check, Math.min(leftMs, 100));
    };
    check();
  });
}

function window(first: Mark, last: Mark) {
  return {
    durationS: Number(BigInt(last.atNs) - BigInt(first.atNs)) / 1e9,
    bytes: last.bytes - first.bytes,
    messages: last.messages - first.messages,
    duplicates: last.duplicates - first.duplicates,
    reordered: last.reordered - first.reordered,
  };
}

async function withSession<T>(
  agent: AgentConnection,
  open: Parameters<AgentConnection["open"]>[0],
  body: (session: number, port: number) => Promise<T>,
): Promise<T> {
  const { session, port } = await agent.open(open);
  try {
    return await body(session, port);
  } finally {
    await agent.closeSession(session).catch(() => {});
  }
}

export function runTcpStream(ctx: PatternContext): Promise<Sample> {
  const { requestSize, responseSize } = ctx.traffic;
  const open = { protocol: "tcp", pattern: "stream", requestSize, responseSize, rate: 0 } as const;
  return withSession(ctx.agent, open, async (session, port) => {
    const socket: net.Socket = await connectTcp(ctx.host, port);
    const failure: { error: Error | null } = { error: null };
    socket.on("error", (error) => {
      failure.error = new Error(`data connection lost mid-trial: ${error.message}`);
    });
    const batch = streamBatch(requestSize);
    let bytesSent = 0;
    let stopped = false;
    const pump = () => {
      // A receiver that keeps up would keep this loop going for good: timers (the window's end,
      // the series) get a turn every few MB.
      let budget = PUMP_TURN_BYTES;
      while (!stopped && !socket.destroyed && socket.write(batch)) {
        bytesSent += batch.length;
        budget -= batch.length;
        if (budget <= 0) return void setImmediate(pump);
      }
    };
    socket.on("drain", pump);
    ctx.series?.follow(() => ({ messages: Math.floor(bytesSent / requestSize), bytes: bytesSent }));
    const clock = startClock(ctx);
    pump();
    try {
      await until(clock.measureFromNs, ctx, failure);
      const [first, sentAtStart] = [await ctx.agent.mark(session), bytesSent];
      await until(clock.endNs, ctx, failure);
      const [last, sentAtEnd] = [await ctx.agent.mark(session), bytesSent];
      const delivered = window(first, last);
      // TCP loses no message: bytes written but still in flight when the window closes are not lost.
      const receivedMessages = Math.floor(delivered.bytes / requestSize);
      return sampleFrom({
        durationS: delivered.durationS,
        messagesSent: receivedMessages,
        messagesReceived: receivedMessages,
        bytesSent: sentAtEnd - sentAtStart,
        bytesReceived: delivered.bytes,
        bytesDelivered: delivered.bytes,
      });
    } finally {
      stopped = true;
      socket.destroy();
    }
  });
}

export function runTcpMaerts(ctx: PatternContext): Promise<Sample> {
  const { requestSize, responseSize } = ctx.traffic;
  const open = { protocol: "tcp", pattern: "maerts", requestSize, responseSize, rate: 0 } as const;
  return withSession(ctx.agent, open, async (_session, port) => {
    let received = 0;
    const socket: net.Socket = await connectTcp(ctx.host, port, (bytes) => {
      received += bytes;
    });
    const failure: { error: Error | null } = { error: null };
    socket.on("error", (error) => {
      failure.error = new Error(`data connection lost mid-trial: ${error.message}`);
    });
    ctx.series?.follow(() => ({ messages: Math.floor(received / responseSize), bytes: received }));
    const clock = startClock(ctx);
    try {
      await until(clock.measureFromNs, ctx, failure);
      const [fromNs, fromBytes] = [nowNs(), received];
      await until(clock.endNs, ctx, failure);
      const [toNs, toBytes] = [nowNs(), received];
      const bytes = toBytes - fromBytes;
      const messages = Math.floor(bytes / responseSize);
      return sampleFrom({
        durationS: (toNs - fromNs) / 1e9,
        messagesSent: messages,
        messagesReceived: messages,
        bytesSent: bytes,
        bytesReceived: bytes,
        bytesDelivered: bytes,
      });
    } finally {
      socket.destroy();
    }
  });
}

function offeredRate(ctx: PatternContext): number {
  return typeof ctx.traffic.rate === "number" ? ctx.traffic.rate : 0;
}

export function runUdpStream(ctx: PatternContext): Promise<Sample> {
  const { requestSize, responseSize } = ctx.traffic;
  const open = { protocol: "udp", pattern: "stream", requestSize, responseSize, rate: 0 } as const;
  return withSession(ctx.agent, open, async (session, port) => {
    const socket: dgram.Socket = await connectUdp(ctx.host, port);
    const failure: { error: Error | null } = { error: null };
    socket.on("error", (error) => {
      failure.error = new Error(`data socket failed mid-trial: ${error.message}`);
    });
    const source = startDatagramSource(requestSize, offeredRate(ctx), (buffer, done) =>
      socket.send(buffer, done),
    );
    ctx.series?.follow(() => ({ messages: source.sent, bytes: source.sent * requestSize }));
    const clock = startClock(ctx);
    try {
      await until(clock.measureFromNs, ctx, failure);
      const [first, sentAtStart] = [await ctx.agent.mark(session), source.sent];
      await until(clock.endNs, ctx, failure);
      source.stop();
      const sentAtEnd = source.sent;
      await sleep(UDP_SETTLE_MS);
      const delivered = window(first, await ctx.agent.mark(session));
      const sent = sentAtEnd - sentAtStart;
      const durationS = (clock.endNs - clock.measureFromNs) / 1e9;
      return sampleFrom({
        durationS,
        messagesSent: sent,
        messagesReceived: Math.min(sent, delivered.messages),
        bytesSent: sent * requestSize,
        bytesReceived: delivered.bytes,
        bytesDelivered: delivered.bytes,
        duplicates: delivered.duplicates,
        reordered: delivered.reordered,
      });
    } finally {
      source.stop();
      socket.close();
    }
  });
}

export function runUdpMaerts(ctx: PatternContext): Promise<Sample> {
  const { requestSize, responseSize } = ctx.traffic;
  const open = {
    protocol: "udp",
    pattern: "maerts",
    requestSize,
    responseSize,
    rate: offeredRate(ctx),
  } as const;
  return withSession(ctx.agent, open, async (session, port) => {
    const socket: dgram.Socket = await connectUdp(ctx.host, port);
    const failure: { error: Error | null } = { error: null };
    // Only datagrams the agent sent inside the window count, by sequence number: [from, to).
    const sequence = new SequenceTracker();
    let window = { from: Number.POSITIVE_INFINITY, to: Number.POSITIVE_INFINITY };
    let bytes = 0;
    socket.on("message", (message) => {
      if (message.length < 4) return;
      const seq = readSeq(message);
      if (seq < window.from || seq >= window.to) return;
      if (sequence.record(seq - window.from)) bytes += message.length;
    });
    ctx.series?.follow(() => ({ messages: sequence.received, bytes }));
    socket.on("error", (error) => {
      failure.error = new Error(`data socket failed mid-trial: ${error.message}`);
    });
    socket.send(Buffer.from("go"));
    const clock = startClock(ctx);
    try {
      await until(clock.measureFromNs, ctx, failure);
      const first = await ctx.agent.mark(session);
      window = { from: first.messages, to: Number.POSITIVE_INFINITY };
      await until(clock.endNs, ctx, failure);
      // The sender stops first, so what is counted after it is exactly what it sent in the window.
      const last = await ctx.agent.mark(session, true);
      window = { from: first.messages, to: last.messages };
      await sleep(UDP_SETTLE_MS);
      const sent = last.messages - first.messages;
      const received = sequence.received;
      window = { from: 0, to: 0 };
      return sampleFrom({
        durationS: Number(BigInt(last.atNs) - BigInt(first.atNs)) / 1e9,
        messagesSent: sent,
        messagesReceived: received,
        bytesSent: sent * responseSize,
        bytesReceived: bytes,
        bytesDelivered: bytes,
        duplicates: sequence.duplicates,
        reordered: sequence.reordered,
      });
    } finally {
      socket.close();
    }
  });
}
