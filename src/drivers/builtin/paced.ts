// Open-loop load at an offered rate (wrk2-style): message i is due at start + i/rate whatever
// happened to earlier ones, and its latency is measured from that intended time, so a stalled
// path cannot hide its queueing (no coordinated omission). Where it is built, the native data path
// (native/wire.c) sends and receives; otherwise the sender (paced-sender.ts) spins through this
// event loop, which reads answers every turn. What the tool itself adds — the sender's lateness,
// answers waiting to be read — is measured apart, and a trial where it moves the reported p99 by
// more than the noise is flagged generator-limited.

import type dgram from "node:dgram";
import type net from "node:net";
import { type LatencyHistogram, newLatencyHistogram, recordNs } from "../../analysis/latency.js";
import type { Sample } from "../../domain/sample.js";
import { OpenLoopLedger } from "./open-loop-ledger.js";
import { type SenderResult, startPacedSender } from "./paced-sender.js";
import { HEADER_BYTES, readIntendedUs, readLatenessNs, readSeq } from "./protocol.js";
import {
  abortable,
  connectTcp,
  connectUdp,
  type DataPath,
  descriptorOf,
  nanoseconds,
  nowNs,
  type PatternContext,
  sampleFrom,
  startClock,
  type TrialClock,
} from "./trial.js";
import { finishFlow, WireClient, wireBinary } from "./wire.js";
import { RecordKind } from "./wire-records.js";

/** After the last send, answers are awaited this long at least (and 4 × the worst seen), unless all have come. */
const DRAIN_FLOOR_NS = 100e6;
const DRAIN_CEILING_NS = 2e9;
/** A sender this far behind its schedule at the window's end gives up on the rest. */
const GIVE_UP_AFTER_NS = 1e9;

/** Hands each complete answer's header to `onAnswer`, reading TCP into one static buffer. */
function tcpAnswers(
  responseSize: number,
  onAnswer: (header: Buffer) => void,
): (chunk: Buffer, bytes: number) => void {
  const header = Buffer.alloc(HEADER_BYTES);
  let position = 0; // bytes of the current answer read so far
  return (chunk, bytes) => {
    let offset = 0;
    while (offset < bytes) {
      if (position === 0 && bytes - offset >= responseSize) {
        onAnswer(chunk.subarray(offset, offset + HEADER_BYTES));
        offset += responseSize;
        continue;
      }
      if (position < HEADER_BYTES) {
        const take = Math.min(HEADER_BYTES - position, bytes - offset);
        chunk.copy(header, position, offset, offset + take);
      }
      const take = Math.min(responseSize - position, bytes - offset);
      position += take;
      offset += take;
      if (position === responseSize) {
        position = 0;
        onAnswer(header);
      }
    }
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
  const binary = wireBinary();
  if (binary) return runWirePaced(ctx, binary, { session, port }, rate);
  const intervalNs = 1e9 / rate;
  let ledger: OpenLoopLedger | null = null;
  const onAnswer = (header: Buffer, readNs: number) =>
    ledger?.record(readSeq(header), readIntendedUs(header), readLatenessNs(header), readNs);
  const onRead = () => {
    const readNs = nowNs();
    ledger?.workStarted(readNs);
    return readNs;
  };
  let socket: net.Socket | dgram.Socket;
  if (protocol === "udp") {
    const udp = await connectUdp(ctx.host, port);
    udp.on("message", (message) => {
      const readNs = onRead();
      onAnswer(message, readNs);
      ledger?.workFinished(nowNs());
    });
    socket = udp;
  } else {
    const parse = tcpAnswers(responseSize, (header) => onAnswer(header, readAt));
    let readAt = 0;
    socket = await connectTcp(ctx.host, port, (bytes, chunk) => {
      readAt = onRead();
      parse(chunk, bytes);
      ledger?.workFinished(nowNs());
    });
  }
  const clock = startClock(ctx, nowNs() + 5e6);
  const firstMeasured = Math.ceil((clock.measureFromNs - clock.startNs) / intervalNs);
  const total = Math.ceil((clock.endNs - clock.startNs) / intervalNs);
  const bytesPerAnswer = requestSize + responseSize;
  const ledgerOfTrial = new OpenLoopLedger(clock.startNs, firstMeasured, total, (ns, readNs) =>
    ctx.series?.latencyAt(readNs, ns, bytesPerAnswer),
  );
  ledger = ledgerOfTrial;
  const sender = startPacedSender(
    {
      fd: descriptorOf(socket),
      requestSize,
      intervalNs,
      startNs: clock.startNs,
      total,
      firstMeasured,
      giveUpNs: clock.endNs + GIVE_UP_AFTER_NS,
    },
    ledgerOfTrial,
  );
  let sent: SenderResult;
  try {
    sent = await new Promise<SenderResult>((resolve, reject) => {
      const unlisten = abortable(ctx.signal, reject);
      socket.on("error", (error: Error) =>
        reject(new Error(`data connection lost mid-trial: ${error.message}`)),
      );
      if (protocol === "tcp") socket.on("close", () => reject(new Error("agent closed the data connection")));
      sender.done.then((result) => {
        if (result.error) return reject(new Error(`paced sender failed: ${result.error}`));
        // Every measured message answered ends the wait at once; otherwise the stragglers get a while.
        const deadline =
          nowNs() + Math.min(DRAIN_CEILING_NS, Math.max(DRAIN_FLOOR_NS, 4 * ledgerOfTrial.worstNs));
        const wait = () => {
          if (ledgerOfTrial.sequence.received >= result.sentMeasured || nowNs() >= deadline) {
            unlisten();
            resolve(result);
          } else setTimeout(wait, 5);
        };
        wait();
      }, reject);
    });
  } finally {
    sender.stop();
    await sender.done.catch(() => {});
    if (protocol === "tcp") {
      const tcp = socket as net.Socket;
      tcp.removeAllListeners("close");
      tcp.destroy();
    } else (socket as dgram.Socket).close();
    await ctx.agent.closeSession(session).catch(() => {});
  }
  return pacedSample(ctx, clock, intervalNs, sent, ledgerOfTrial, "node");
}

/** What the sender reported at its end (the Node sender's result, or the native one's summary). */
type SenderTotals = Pick<SenderResult, "sentMeasured" | "lastSentNs" | "socketFull"> & {
  lateness?: LatencyHistogram | null;
};

function pacedSample(
  ctx: PatternContext,
  clock: TrialClock,
  intervalNs: number,
  sent: SenderTotals,
  ledgerOfTrial: OpenLoopLedger,
  dataPath: DataPath,
): Sample {
  const { requestSize, responseSize, rate } = ctx.traffic;
  // A sender that fell behind took longer than the window to send it: its rate is what it achieved.
  const sendSpanNs = sent.lastSentNs - clock.measureFromNs + intervalNs;
  const durationS = Math.max(clock.endNs - clock.measureFromNs, sendSpanNs) / 1e9;
  const received = ledgerOfTrial.sequence.received;
  const warnings =
    sent.socketFull > 0
      ? [`the socket's send buffer was full ${sent.socketFull} times: the sender waited`]
      : [];
  return sampleFrom({
    durationS,
    messagesSent: sent.sentMeasured,
    messagesReceived: received,
    bytesSent: sent.sentMeasured * requestSize,
    bytesReceived: received * responseSize,
    bytesDelivered: received * (requestSize + responseSize),
    duplicates: ledgerOfTrial.sequence.duplicates,
    reordered: ledgerOfTrial.sequence.reordered,
    histogram: ledgerOfTrial.latency,
    lateness: sent.lateness ?? undefined,
    receiveLag: ledgerOfTrial.receiveLag,
    pathLatency: ledgerOfTrial.path,
    offeredRate: rate as number,
    warnings,
    dataPath,
  });
}

/**
 * One flow in the native data path (native/wire.c): one thread sends on schedule and reads each
 * answer with its kernel arrival time; its records come here after the flow, and the same ledger
 * makes the figures.
 */
async function runWirePaced(
  ctx: PatternContext,
  binary: string,
  { session, port }: { session: number; port: number },
  rate: number,
): Promise<Sample> {
  const { protocol, requestSize, responseSize, warmupS, durationS } = ctx.traffic;
  const intervalNs = Math.max(1, Math.round(1e9 / rate));
  const bytesPerAnswer = requestSize + responseSize;
  const lateness = newLatencyHistogram();
  let started: { clock: TrialClock; ledger: OpenLoopLedger } | null = null;
  let totals: SenderTotals | null = null;
  const args = ["paced", protocol, ctx.host, String(port), String(requestSize), String(responseSize)];
  const client = new WireClient(
    binary,
    [...args, nanoseconds(warmupS), nanoseconds(durationS), String(intervalNs)],
    (record) => {
      switch (record.kind) {
        case RecordKind.start: {
          const clock = startClock(ctx, record.a);
          const onLatency = (ns: number, readNs: number) => ctx.series?.latencyAt(readNs, ns, bytesPerAnswer);
          started = { clock, ledger: new OpenLoopLedger(record.a, record.b, record.seq, onLatency) };
          break;
        }
        case RecordKind.answer: {
          const lagNs = record.b >= 0 ? record.b : undefined;
          started?.ledger.record(record.seq, record.intendedUs, record.lateness, record.a, lagNs);
          break;
        }
        case RecordKind.sent:
          recordNs(lateness, record.lateness);
          break;
        case RecordKind.summary:
          totals = { sentMeasured: record.b, lastSentNs: record.a, socketFull: record.lateness };
          break;
      }
    },
  );
  await finishFlow(client, ctx, session);
  const trial = started as { clock: TrialClock; ledger: OpenLoopLedger } | null;
  const sent = totals as SenderTotals | null;
  if (!trial || !sent) throw new Error("the data path ended without its trial's figures");
  sent.lateness = lateness.totalCount > 0 ? lateness : null;
  return pacedSample(ctx, trial.clock, intervalNs, sent, trial.ledger, "native");
}
