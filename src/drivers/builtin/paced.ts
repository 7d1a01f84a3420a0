// Open-loop load at an offered rate (wrk2-style): message i is due at start + i/rate whatever
// happened to earlier ones, and its latency is measured from that intended time, so a stalled
// path cannot hide its queueing (no coordinated omission). The sender (paced-sender.ts) spins
// through the event loop, which reads answers every turn. What the tool itself adds — the
// sender's lateness, answers waiting to be read — is measured apart, and a trial where it moves
// the reported p99 by more than the noise is flagged generator-limited.

import type dgram from "node:dgram";
import type net from "node:net";
import type { Sample } from "../../domain/sample.js";
import { OpenLoopLedger } from "./open-loop-ledger.js";
import { type SenderResult, startPacedSender } from "./paced-sender.js";
import { HEADER_BYTES, readIntendedUs, readLatenessNs, readSeq } from "./protocol.js";
import {
  abortable,
  connectTcp,
  connectUdp,
  descriptorOf,
  nowNs,
  type PatternContext,
  sampleFrom,
  startClock,
} from "./trial.js";

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
  const ledgerOfTrial = new OpenLoopLedger(clock.startNs, firstMeasured, total, (ns) =>
    ctx.series?.latency(ns, bytesPerAnswer),
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
    offeredRate: rate,
    warnings,
  });
}
