// Closed-loop request/response (netperf TCP_RR / UDP_RR): one transaction in flight; the next
// request leaves when the previous response has fully arrived. Where it is built, the native data
// path (native/wire.c) runs the loop and reports each transaction's times after the flow.

import type dgram from "node:dgram";
import type net from "node:net";
import { newLatencyHistogram, recordNs } from "../../analysis/latency.js";
import type { Sample } from "../../domain/sample.js";
import { readSeq } from "./protocol.js";
import {
  abortable,
  connectTcp,
  connectUdp,
  type DataPath,
  directWriter,
  nanoseconds,
  nowNs,
  type PatternContext,
  sampleFrom,
  startClock,
  type TrialClock,
} from "./trial.js";
import { finishFlow, WireClient, wireBinary } from "./wire.js";
import { RecordKind } from "./wire-records.js";

/** Per-transaction bookkeeping shared by the TCP and UDP loops. */
class Transactions {
  readonly histogram = newLatencyHistogram();
  readonly clock: TrialClock;
  sentAtNs = 0;
  measured = 0;
  /** Sum of measured round trips, so the mean costs nothing to read (a histogram's walks every bucket). */
  totalNs = 0;
  lost = 0;
  firstMeasuredNs = 0;
  lastCompletedNs = 0;

  private readonly bytesPerTransaction: number;

  constructor(
    private readonly ctx: PatternContext,
    startNs = nowNs(),
  ) {
    this.clock = startClock(ctx, startNs);
    this.bytesPerTransaction = ctx.traffic.requestSize + ctx.traffic.responseSize;
  }

  /** Records a completed transaction; returns false when the trial is over. */
  complete(atNs: number): boolean {
    this.ctx.series?.latencyAt(atNs, atNs - this.sentAtNs, this.bytesPerTransaction);
    if (this.sentAtNs >= this.clock.measureFromNs) {
      if (this.measured === 0) this.firstMeasuredNs = this.sentAtNs;
      recordNs(this.histogram, atNs - this.sentAtNs);
      this.totalNs += atNs - this.sentAtNs;
      this.measured++;
      this.lastCompletedNs = atNs;
    }
    return atNs < this.clock.endNs;
  }

  /** A transaction the native data path timed: sent at `sentNs`, answered at `doneNs` (negative: lost). */
  replay(sentNs: number, doneNs: number): void {
    this.sentAtNs = sentNs;
    if (doneNs >= 0) this.complete(doneNs);
    else if (sentNs >= this.clock.measureFromNs) this.lost++;
  }

  sample(ctx: PatternContext, dataPath: DataPath = "node"): Sample {
    const { requestSize, responseSize } = ctx.traffic;
    const durationS = (this.lastCompletedNs - this.firstMeasuredNs) / 1e9;
    const sent = this.measured + this.lost;
    return sampleFrom({
      durationS,
      messagesSent: sent,
      messagesReceived: this.measured,
      bytesSent: sent * requestSize,
      bytesReceived: this.measured * responseSize,
      bytesDelivered: this.measured * (requestSize + responseSize),
      histogram: this.histogram,
      dataPath,
    });
  }
}

/** One flow's transactions in the native data path (native/wire.c), replayed as it reports them. */
async function runWireRr(ctx: PatternContext, binary: string, protocol: "tcp" | "udp"): Promise<Sample> {
  const { requestSize, responseSize, warmupS, durationS } = ctx.traffic;
  const { session, port } = await ctx.agent.open({
    protocol,
    pattern: "rr",
    requestSize,
    responseSize,
    rate: 0,
  });
  let transactions: Transactions | null = null;
  const args = ["rr", protocol, ctx.host, String(port), String(requestSize), String(responseSize)];
  const client = new WireClient(binary, [...args, nanoseconds(warmupS), nanoseconds(durationS)], (record) => {
    if (record.kind === RecordKind.start) transactions = new Transactions(ctx, record.a);
    else if (record.kind === RecordKind.transaction) transactions?.replay(record.a, record.b);
  });
  await finishFlow(client, ctx, session);
  const done = transactions as Transactions | null;
  if (!done) throw new Error("the data path ended without starting the trial");
  return done.sample(ctx, "native");
}

export async function runTcpRr(ctx: PatternContext): Promise<Sample> {
  const binary = wireBinary();
  if (binary) return runWireRr(ctx, binary, "tcp");
  const { requestSize, responseSize } = ctx.traffic;
  const { session, port } = await ctx.agent.open({
    protocol: "tcp",
    pattern: "rr",
    requestSize,
    responseSize,
    rate: 0,
  });
  const request = Buffer.alloc(requestSize, 0x5a);
  const transactions = new Transactions(ctx);
  let onBytes = (_bytes: number) => {};
  const socket: net.Socket = await connectTcp(ctx.host, port, (bytes) => onBytes(bytes));
  const write = directWriter(socket);
  try {
    await new Promise<void>((resolve, reject) => {
      let pending = 0;
      const unlisten = abortable(ctx.signal, reject);
      socket.on("error", (error) => reject(new Error(`data connection lost mid-trial: ${error.message}`)));
      socket.on("close", () => reject(new Error("agent closed the data connection mid-trial")));
      onBytes = (bytes) => {
        pending += bytes;
        if (pending < responseSize) return;
        pending -= responseSize;
        if (!transactions.complete(nowNs())) {
          unlisten();
          resolve();
          return;
        }
        transactions.sentAtNs = nowNs();
        write(request);
      };
      transactions.sentAtNs = nowNs();
      write(request);
    });
  } finally {
    socket.removeAllListeners("close");
    socket.destroy();
    await ctx.agent.closeSession(session).catch(() => {});
  }
  return transactions.sample(ctx);
}

/** Every udp request and answer starts with its u32 sequence number. */
export const UDP_RR_SEQ_BYTES = 4;

/** A request not answered within this many mean round trips (and at least the floor) is lost. */
const UDP_LOSS_TIMEOUT_RTTS = 20;
const UDP_LOSS_TIMEOUT_FLOOR_NS = 50e6;

export async function runUdpRr(ctx: PatternContext): Promise<Sample> {
  const { requestSize, responseSize } = ctx.traffic;
  if (Math.min(requestSize, responseSize) < UDP_RR_SEQ_BYTES)
    throw new Error(
      `udp rr carries a ${UDP_RR_SEQ_BYTES}-byte sequence number: sizes must be ≥ ${UDP_RR_SEQ_BYTES}`,
    );
  const binary = wireBinary();
  if (binary) return runWireRr(ctx, binary, "udp");
  const { session, port } = await ctx.agent.open({
    protocol: "udp",
    pattern: "rr",
    requestSize,
    responseSize,
    rate: 0,
  });
  const socket: dgram.Socket = await connectUdp(ctx.host, port);
  const write = directWriter(socket);
  const request = Buffer.alloc(requestSize, 0x5a);
  const transactions = new Transactions(ctx);
  let seq = 0;
  let watchdog: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const unlisten = abortable(ctx.signal, reject);
      const send = () => {
        request.writeUInt32LE(seq, 0);
        transactions.sentAtNs = nowNs();
        write(request);
      };
      const finish = () => {
        unlisten();
        resolve();
      };
      socket.on("error", (error) => reject(new Error(`data socket failed mid-trial: ${error.message}`)));
      socket.on("message", (message) => {
        // A late answer to a request already given up on is not the answer to the current one.
        if (readSeq(message) !== seq) return;
        seq++;
        if (!transactions.complete(nowNs())) return finish();
        send();
      });
      watchdog = setInterval(() => {
        const now = nowNs();
        const meanNs = transactions.measured > 0 ? transactions.totalNs / transactions.measured : 0;
        const timeoutNs = Math.max(UDP_LOSS_TIMEOUT_FLOOR_NS, UDP_LOSS_TIMEOUT_RTTS * meanNs);
        if (now - transactions.sentAtNs < timeoutNs) return;
        if (transactions.sentAtNs >= transactions.clock.measureFromNs) transactions.lost++;
        if (now >= transactions.clock.endNs) return finish();
        seq++;
        send();
      }, 10);
      send();
    });
  } finally {
    clearInterval(watchdog);
    socket.close();
    await ctx.agent.closeSession(session).catch(() => {});
  }
  return transactions.sample(ctx);
}
