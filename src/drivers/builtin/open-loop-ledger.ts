// What an open-loop receiver makes of each answer it reads: latency from the intended send time
// (no coordinated omission), the receive lag (how long the answer may have waited behind this
// thread's own work before it was read), and the latency with the tool's own delays taken out,
// which tells how far the generator moved the reported tail.

import { newLatencyHistogram, recordNs } from "../../analysis/latency.js";
import { SequenceTracker } from "../../analysis/sequence.js";

/** Two callbacks closer than this ran back to back: the thread never went idle between them. */
const BACK_TO_BACK_NS = 20e3;

export class OpenLoopLedger {
  /** From the intended send time to the read: the latency reported. */
  readonly latency = newLatencyHistogram();
  /** From the actual send to the read, less the receive lag: the path's own share. */
  readonly path = newLatencyHistogram();
  readonly receiveLag = newLatencyHistogram();
  readonly sequence = new SequenceTracker();
  /** Highest sequence number answered, measured or not. */
  newest = -1;
  worstNs = 0;
  private minFlightNs = Number.POSITIVE_INFINITY;
  private busyFromNs = 0;
  private busyUntilNs = Number.NEGATIVE_INFINITY;
  private backToBack = false;
  /** While the thread spins, the last moment it checked its sockets; null while it sleeps in the kernel. */
  private polledNs: number | null = null;

  constructor(
    private readonly startNs: number,
    private readonly firstMeasured: number,
    private readonly total: number,
    /** Each measured answer's latency and when it was read, for the trial's time series. */
    private readonly onLatency?: (latencyNs: number, readNs: number) => void,
  ) {}

  /** This thread starts work (a read, a burst of sends) at `nowNs`; call it before `record` for what a read brought. */
  workStarted(nowNs: number): void {
    this.backToBack = nowNs - this.busyUntilNs <= BACK_TO_BACK_NS;
    if (!this.backToBack) this.busyFromNs = nowNs;
  }

  /** This thread finished that work at `nowNs`. */
  workFinished(nowNs: number): void {
    this.busyUntilNs = nowNs;
  }

  /**
   * A spinning thread's turn began at `nowNs`, right after it checked its sockets: an answer there
   * then was read then. Whatever keeps it from its next turn — its own sends, a pause for garbage,
   * the scheduler running something else — is time an answer may wait.
   */
  polled(nowNs: number): void {
    this.polledNs = nowNs;
  }

  /** The thread now blocks in the kernel until something comes: what comes is read at once. */
  sleeping(): void {
    this.polledNs = null;
  }

  /**
   * One answer, read at `readNs`. `measuredLagNs`, when given, is how long it waited after the
   * kernel took it in (its receive timestamp). Otherwise that is estimated: it may have waited
   * since it could first have arrived (its send plus the fastest flight seen), but not from before
   * the thread last could read: its last turn when spinning; when sleeping, the start of the busy
   * stretch this read ends (after an idle moment the thread was waiting in the kernel and read it
   * at once: no lag of ours).
   */
  record(seq: number, intendedUs: number, latenessNs: number, readNs: number, measuredLagNs?: number): void {
    if (seq > this.newest) this.newest = seq;
    if (seq < this.firstMeasured || seq >= this.total) return;
    if (!this.sequence.record(seq - this.firstMeasured)) return;
    const intendedNs = this.startNs + intendedUs * 1000;
    const sentNs = intendedNs + latenessNs;
    const flightNs = readNs - sentNs;
    const fastestNs = Number.isFinite(this.minFlightNs) ? this.minFlightNs : flightNs;
    const readySinceNs = this.polledNs ?? (this.backToBack ? this.busyFromNs : readNs);
    const lagNs =
      measuredLagNs === undefined
        ? Math.min(flightNs - fastestNs, Math.max(0, readNs - Math.max(sentNs + fastestNs, readySinceNs)))
        : Math.min(flightNs, measuredLagNs);
    if (lagNs <= 0 && flightNs < this.minFlightNs) this.minFlightNs = flightNs;
    const latencyNs = readNs - intendedNs;
    recordNs(this.latency, latencyNs);
    this.onLatency?.(latencyNs, readNs);
    recordNs(this.receiveLag, Math.max(0, lagNs));
    recordNs(this.path, flightNs - Math.max(0, lagNs));
    if (latencyNs > this.worstNs) this.worstNs = latencyNs;
  }
}
