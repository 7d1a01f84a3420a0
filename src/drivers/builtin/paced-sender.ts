// The open-loop sender. Like sockperf's client it never sleeps in the kernel while messages are
// due soon: it spins through this thread's event loop, and every turn of the loop also reads the
// answers that came (no wake-up between an answer's arrival and its read). Each message is written
// straight to the socket's descriptor from one reused buffer (the write copies it into the
// kernel): nothing is allocated per message, and what was sent is what the socket took.

import { writeSync } from "node:fs";
import { type LatencyHistogram, newLatencyHistogram, recordNs } from "../../analysis/latency.js";
import { writeHeader } from "./protocol.js";
import { isBusy, nowNs } from "./trial.js";

export interface SenderPlan {
  fd: number;
  requestSize: number;
  intervalNs: number;
  /** Monotonic ns of message 0's due time. */
  startNs: number;
  /** Messages in the trial; those from `firstMeasured` on are in the measured window. */
  total: number;
  firstMeasured: number;
  /** Past this monotonic ns the sender gives up on the rest of its schedule. */
  giveUpNs: number;
}

export interface SenderResult {
  /** Messages wholly written to the socket, and those of them in the measured window. */
  sent: number;
  sentMeasured: number;
  /** Monotonic ns when the last message had been written (0 when none was). */
  lastSentNs: number;
  /** How late each measured message started leaving, ns (null when none was measured). */
  lateness: LatencyHistogram | null;
  /** Times a write found the socket's buffer full and had to wait. */
  socketFull: number;
  error?: string;
}

/** Told when the sender works, so answers that waited behind a burst of sends count as receive lag. */
export interface WorkLog {
  workStarted(nowNs: number): void;
  workFinished(nowNs: number): void;
  /** A turn of the spinning loop began (its sockets were just checked). */
  polled(nowNs: number): void;
  /** The loop sleeps in the kernel (a timer, or the sender is done). */
  sleeping(): void;
}

/** Messages written at most per turn of the loop: a sender catching up still lets answers be read. */
const BURST = 16;
/** Gaps longer than this are slept through on a timer (which fires ~1 ms late), waking this early. */
const TIMER_GAP_NS = 3e6;
const TIMER_EARLY_NS = 2e6;
/** Lateness fits the header's spare u32 in ns; anything later is clamped (it is flagged anyway). */
const MAX_HEADER_LATENESS_NS = 0xffffffff;

export function startPacedSender(
  plan: SenderPlan,
  work: WorkLog,
): { done: Promise<SenderResult>; stop(): void } {
  const message = Buffer.alloc(plan.requestSize, 0x5a);
  const lateness = newLatencyHistogram();
  const result: SenderResult = { sent: 0, sentMeasured: 0, lastSentNs: 0, lateness: null, socketFull: 0 };
  const dueNs = (seq: number) => plan.startNs + seq * plan.intervalNs;
  let stopped = false;
  let seq = 0;
  let finish: (result: SenderResult) => void = () => {};
  const done = new Promise<SenderResult>((resolve) => {
    finish = resolve;
  });
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    work.sleeping();
    result.lateness = lateness.totalCount > 0 ? lateness : null;
    finish(result);
  };
  // Bytes of message `seq` a full stream socket has taken so far: the rest goes first, next turn.
  let partial = 0;
  let lateNs = 0;
  const send = (now: number): boolean => {
    if (partial === 0) {
      lateNs = now - dueNs(seq);
      writeHeader(message, seq, (seq * plan.intervalNs) / 1000, Math.min(MAX_HEADER_LATENESS_NS, lateNs));
    }
    try {
      partial += writeSync(plan.fd, message, partial);
    } catch (error) {
      if (!isBusy(error)) throw error;
    }
    if (partial < message.length) {
      result.socketFull++;
      return false;
    }
    partial = 0;
    result.sent++;
    result.lastSentNs = nowNs();
    if (seq >= plan.firstMeasured) {
      result.sentMeasured++;
      recordNs(lateness, lateNs);
    }
    seq++;
    return true;
  };
  const tick = () => {
    try {
      const startedNs = nowNs();
      if (ended) return;
      work.polled(startedNs);
      if (startedNs > plan.giveUpNs) return end();
      let now = startedNs;
      for (let burst = 0; burst < BURST && !stopped && seq < plan.total && dueNs(seq) <= now; burst++) {
        if (!send(now)) break; // the socket is full: try again next turn
        now = nowNs();
      }
      if (now !== startedNs) {
        work.workStarted(startedNs);
        work.workFinished(now);
      }
      if (stopped || seq >= plan.total) return end();
      const gapNs = dueNs(seq) - nowNs();
      if (gapNs > TIMER_GAP_NS) {
        work.sleeping();
        setTimeout(tick, (gapNs - TIMER_EARLY_NS) / 1e6);
      } else setImmediate(tick);
    } catch (error) {
      result.error = (error as Error).message;
      end();
    }
  };
  setImmediate(tick);
  return {
    done,
    stop() {
      stopped = true;
      end();
    },
  };
}
