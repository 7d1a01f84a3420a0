// The open-loop sender, on a thread of its own: it writes each message at its due time straight to
// the data socket's descriptor (the main thread owns the socket and only reads from it), so reading
// answers never delays a send and a send never delays reading. One buffer serves every message
// (the write copies it into the kernel) and nothing is allocated per message.

import { writeSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { encodeHistogram, newLatencyHistogram, recordNs } from "../../analysis/latency.js";
import { writeHeader } from "./protocol.js";

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
  /** Int32Array over a SharedArrayBuffer: [0] set to 1 asks the sender to stop. */
  control: SharedArrayBuffer;
}

export interface SenderResult {
  /** Messages wholly written to the socket, and those of them in the measured window. */
  sent: number;
  sentMeasured: number;
  /** Monotonic ns when the last message had been written (0 when none was). */
  lastSentNs: number;
  /** Encoded histogram of how late each measured message started leaving, ns. */
  lateness: string | null;
  /** Times a write found the socket's buffer full and had to wait. */
  socketFull: number;
  error?: string;
}

/** Sleep through gaps longer than this margin, waking this long before the due time (wake-ups here are ~0.1 ms late, rarely 1–3 ms). */
const SLEEP_MARGIN_NS = 400e3;
/** Messages the loop sender writes at most per turn of the event loop. */
const LOOP_BURST = 16;
/** Lateness fits the header's spare u32 in ns; anything later is clamped (it is flagged anyway). */
const MAX_HEADER_LATENESS_NS = 0xffffffff;

function nowNs(): number {
  return Number(process.hrtime.bigint());
}

function isBusy(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "EAGAIN" || code === "EWOULDBLOCK" || code === "ENOBUFS";
}

export function runSender(plan: SenderPlan): SenderResult {
  const control = new Int32Array(plan.control);
  const message = Buffer.alloc(plan.requestSize, 0x5a);
  const lateness = newLatencyHistogram();
  const result: SenderResult = { sent: 0, sentMeasured: 0, lastSentNs: 0, lateness: null, socketFull: 0 };
  const stopped = () => Atomics.load(control, 0) !== 0;
  try {
    for (let seq = 0; seq < plan.total; seq++) {
      const dueNs = plan.startNs + seq * plan.intervalNs;
      let now = nowNs();
      while (now < dueNs) {
        const gapNs = dueNs - now;
        if (gapNs > 2 * SLEEP_MARGIN_NS) Atomics.wait(control, 0, 0, (gapNs - SLEEP_MARGIN_NS) / 1e6);
        if (stopped()) return result;
        now = nowNs();
      }
      if (now > plan.giveUpNs || stopped()) break;
      const lateNs = now - dueNs;
      writeHeader(message, seq, (seq * plan.intervalNs) / 1000, Math.min(MAX_HEADER_LATENESS_NS, lateNs));
      // A stream socket may take part of a message; the rest goes as soon as there is room.
      let written = 0;
      while (written < message.length) {
        try {
          written += writeSync(plan.fd, message, written, message.length - written);
        } catch (error) {
          if (!isBusy(error)) throw error;
          result.socketFull++;
          if (stopped()) return result;
        }
      }
      result.sent++;
      result.lastSentNs = nowNs();
      if (seq >= plan.firstMeasured) {
        result.sentMeasured++;
        recordNs(lateness, lateNs);
      }
    }
  } catch (error) {
    result.error = (error as Error).message;
  } finally {
    result.lateness = lateness.totalCount > 0 ? encodeHistogram(lateness) : null;
  }
  return result;
}

/**
 * The same schedule kept from this thread's event loop: it spins through the loop (each turn also
 * reads answers, without sleeping in the kernel) and sleeps on a timer only through long gaps.
 */
export function loopSender(plan: SenderPlan): { done: Promise<SenderResult>; stop(): void } {
  const message = Buffer.alloc(plan.requestSize, 0x5a);
  const lateness = newLatencyHistogram();
  const result: SenderResult = { sent: 0, sentMeasured: 0, lastSentNs: 0, lateness: null, socketFull: 0 };
  let stopped = false;
  let seq = 0;
  let finish: (result: SenderResult) => void = () => {};
  const done = new Promise<SenderResult>((resolve) => {
    finish = resolve;
  });
  const end = () => {
    result.lateness = lateness.totalCount > 0 ? encodeHistogram(lateness) : null;
    finish(result);
  };
  const tick = () => {
    try {
      let now = nowNs();
      // A sender catching up yields to the loop between small bursts, so answers are still read.
      for (
        let burst = 0;
        burst < LOOP_BURST && !stopped && seq < plan.total && plan.startNs + seq * plan.intervalNs <= now;
        burst++
      ) {
        if (now > plan.giveUpNs) return end();
        const lateNs = now - (plan.startNs + seq * plan.intervalNs);
        writeHeader(message, seq, (seq * plan.intervalNs) / 1000, Math.min(MAX_HEADER_LATENESS_NS, lateNs));
        let written = 0;
        try {
          written = writeSync(plan.fd, message);
        } catch (error) {
          if (!isBusy(error)) throw error;
          result.socketFull++;
          break; // try again next turn
        }
        if (written < message.length) throw new Error("the socket took part of a message");
        result.sent++;
        result.lastSentNs = nowNs();
        if (seq >= plan.firstMeasured) {
          result.sentMeasured++;
          recordNs(lateness, lateNs);
        }
        seq++;
        now = nowNs();
      }
      if (stopped || seq >= plan.total) return end();
      const gapNs = plan.startNs + seq * plan.intervalNs - nowNs();
      if (gapNs > 3e6) setTimeout(tick, (gapNs - 2e6) / 1e6);
      else setImmediate(tick);
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
    },
  };
}

if (parentPort && workerData?.paced) parentPort.postMessage(runSender(workerData.paced as SenderPlan));
