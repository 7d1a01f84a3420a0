// Pure parse of iputils ping output: per-reply RTTs into an HdrHistogram, sequence numbers for
// duplicates and reordering, and the closing statistics. Fed line by line, since a paced or
// adaptive ping prints one line per reply (hundreds of thousands a second on loopback).

import { type LatencyHistogram, newLatencyHistogram, recordNs } from "../../analysis/latency.js";
import { SequenceTracker } from "../../analysis/sequence.js";

/** The statistics ping prints when it ends (also on SIGINT). RTTs in microseconds. */
export interface PingSummary {
  transmitted: number;
  received: number;
  duplicates: number;
  errors: number;
  lossPercent: number;
  /** First to last send, as ping reports it. */
  timeMs: number | null;
  rttUs: { min: number; avg: number; max: number; mdev: number } | null;
  /** Flood and adaptive modes: mean inter-packet gap and its moving average, microseconds. */
  ipgUs: number | null;
  ewmaUs: number | null;
  /** Most probes outstanding at once. */
  pipe: number | null;
}

export interface PingResult {
  /** ICMP payload bytes, from the `PING host (addr) N(M) bytes of data.` header. */
  payloadBytes: number | null;
  /** RTTs of unique replies, nanoseconds. */
  histogram: LatencyHistogram;
  /** Replies printed without a time (payload too small to carry a timestamp). */
  repliesWithoutTime: number;
  sequence: SequenceTracker;
  summary: PingSummary | null;
  /** `ping: …` error lines. */
  errors: string[];
}

const HEADER = /^PING \S+ \(\S+\) (\d+)\(\d+\) bytes of data\./;
const REPLY = /^\d+ bytes from .+?: icmp_seq=(\d+) ttl=\d+(?: time=([\d.]+) ms)?/;
const COUNTS =
  /^(\d+) packets transmitted, (\d+) received(?:, \+(\d+) duplicates)?(?:, \+(\d+) errors)?, ([\d.]+)% packet loss(?:, time (\d+)ms)?/;
const RTT =
  /^rtt min\/avg\/max\/mdev = ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms(?:, pipe (\d+))?(?:, ipg\/ewma ([\d.]+)\/([\d.]+) ms)?/;
const SEQ_SPACE = 65_536;

/** Accumulates ping's output one line at a time; `result()` at the end. */
export class PingParser {
  private payloadBytes: number | null = null;
  private readonly histogram = newLatencyHistogram();
  private readonly sequence = new SequenceTracker();
  private repliesWithoutTime = 0;
  private summary: PingSummary | null = null;
  private readonly errors: string[] = [];
  private lastRawSeq = -1;
  private seqEpoch = 0;

  push(line: string): void {
    const reply = REPLY.exec(line);
    if (reply) {
      this.reply(Number(reply[1]), reply[2]);
      return;
    }
    const header = HEADER.exec(line);
    if (header) {
      this.payloadBytes = Number(header[1]);
      return;
    }
    const counts = COUNTS.exec(line);
    if (counts) {
      this.summary = {
        transmitted: Number(counts[1]),
        received: Number(counts[2]),
        duplicates: Number(counts[3] ?? 0),
        errors: Number(counts[4] ?? 0),
        lossPercent: Number(counts[5]),
        timeMs: counts[6] === undefined ? null : Number(counts[6]),
        rttUs: null,
        ipgUs: null,
        ewmaUs: null,
        pipe: null,
      };
      return;
    }
    const rtt = RTT.exec(line);
    if (rtt && this.summary) {
      const us = (group: string | undefined) => (group === undefined ? null : msToUs(group));
      this.summary.rttUs = {
        min: msToUs(rtt[1]!),
        avg: msToUs(rtt[2]!),
        max: msToUs(rtt[3]!),
        mdev: msToUs(rtt[4]!),
      };
      this.summary.pipe = rtt[5] === undefined ? null : Number(rtt[5]);
      this.summary.ipgUs = us(rtt[6]);
      this.summary.ewmaUs = us(rtt[7]);
      return;
    }
    if (line.startsWith("ping: ")) this.errors.push(line.slice("ping: ".length));
  }

  result(): PingResult {
    return {
      payloadBytes: this.payloadBytes,
      histogram: this.histogram,
      repliesWithoutTime: this.repliesWithoutTime,
      sequence: this.sequence,
      summary: this.summary,
      errors: this.errors,
    };
  }

  private reply(rawSeq: number, timeMs: string | undefined): void {
    // icmp_seq is 16 bits: a big step back is a wrap, not reordering.
    if (this.lastRawSeq >= 0 && rawSeq < this.lastRawSeq - SEQ_SPACE / 2) this.seqEpoch++;
    this.lastRawSeq = rawSeq;
    const unique = this.sequence.record(this.seqEpoch * SEQ_SPACE + rawSeq);
    if (timeMs === undefined) this.repliesWithoutTime++;
    else if (unique) recordNs(this.histogram, Number(timeMs) * 1e6);
  }
}

/** Parses a whole ping output. */
export function parsePing(text: string): PingResult {
  const parser = new PingParser();
  for (const line of text.split("\n")) parser.push(line);
  return parser.result();
}

function msToUs(ms: string): number {
  return Math.round(Number(ms) * 1e6) / 1e3;
}
