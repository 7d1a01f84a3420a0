// The built-in engine's control protocol: newline-delimited JSON over TCP, authenticated by an
// HMAC challenge (the agent sends a nonce, the client answers HMAC-SHA256(token, nonce)).

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import type { Sample } from "../../domain/sample.js";
import type { Pattern, Protocol, Traffic } from "../../domain/traffic.js";
import type { NetCounters } from "./socket-drops.js";

export const PROTOCOL_VERSION = 1;

/** Bytes of the header carried by sequenced messages: u32 sequence, u32 sender lateness (ns), f64 intended send time (µs). */
export const HEADER_BYTES = 16;

export interface OpenRequest {
  op: "open";
  protocol: Exclude<Protocol, "icmp">;
  pattern: Exclude<Pattern, "flood">;
  requestSize: number;
  responseSize: number;
  /** Datagrams per second the agent sends for udp maerts; 0 for as fast as it can. */
  rate: number;
}
export interface MarkRequest {
  op: "mark";
  session: number;
  /** Stop the agent's own sender before reading its counters, so the count is final. */
  stop?: boolean;
}
export interface CloseRequest {
  op: "close";
  session: number;
}
/** Where an agent reaches a peer agent's TCP control port. */
export interface AgentAddress {
  host: string;
  port: number;
  token: string;
}
/** Asks an agent to run one trial's client side against a peer agent and return its Sample. */
export interface DriveRequest {
  op: "drive";
  target: AgentAddress;
  traffic: Traffic;
}
/** Asks for the agent's namespace's UDP error counters (socket drops). */
export interface CountersRequest {
  op: "counters";
}
export type ControlRequest = (OpenRequest | MarkRequest | CloseRequest | DriveRequest | CountersRequest) & {
  id: number;
};

/** Receiver-side counters at one instant of the agent's clock. */
export interface Mark {
  atNs: string;
  bytes: number;
  messages: number;
  duplicates: number;
  reordered: number;
}

export type ControlResponse =
  | {
      id: number;
      ok: true;
      session?: number;
      port?: number;
      mark?: Mark;
      sample?: Sample;
      counters?: NetCounters;
    }
  | { id: number; ok: false; error: string };

export function newNonce(): string {
  return randomBytes(16).toString("hex");
}

export function newToken(): string {
  return randomBytes(24).toString("base64url");
}

export function proof(token: string, nonce: string): string {
  return createHmac("sha256", token).update(nonce).digest("hex");
}

export function proofMatches(token: string, nonce: string, candidate: unknown): boolean {
  if (typeof candidate !== "string") return false;
  const expected = Buffer.from(proof(token, nonce), "hex");
  const given = Buffer.from(candidate, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Longest control line (a Sample with its histogram fits easily). */
const MAX_LINE = 1 << 20;

/**
 * Calls onLine for each complete line received on the stream (JSON control messages). A line
 * longer than `maxLine()` (default 1 MiB) destroys the stream: a peer must not grow our memory.
 */
export function onLines(
  stream: Readable,
  onLine: (line: string) => void,
  maxLine: () => number | undefined = () => undefined,
): void {
  let pending = "";
  stream.on("data", (chunk: Buffer | string) => {
    pending += chunk.toString();
    let newline = pending.indexOf("\n");
    while (newline >= 0 && !stream.destroyed) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line.length > (maxLine() ?? MAX_LINE)) {
        stream.destroy(new Error("control line too long"));
        return;
      }
      if (line.length > 0) onLine(line);
      newline = pending.indexOf("\n");
    }
    if (pending.length > (maxLine() ?? MAX_LINE)) stream.destroy(new Error("control line too long"));
  });
  stream.resume();
}

export function sendLine(stream: Writable, message: unknown): void {
  stream.write(`${JSON.stringify(message)}\n`);
}

export function writeHeader(buffer: Buffer, seq: number, intendedUs: number, latenessNs = 0): void {
  buffer.writeUInt32LE(seq, 0);
  buffer.writeUInt32LE(latenessNs, 4);
  buffer.writeDoubleLE(intendedUs, 8);
}

export function readSeq(buffer: Buffer, offset = 0): number {
  return buffer.readUInt32LE(offset);
}

/** How late the sender wrote the message, ns (so the receiver knows when it really left). */
export function readLatenessNs(buffer: Buffer, offset = 0): number {
  return buffer.readUInt32LE(offset + 4);
}

export function readIntendedUs(buffer: Buffer, offset = 0): number {
  return buffer.readDoubleLE(offset + 8);
}

/** Copies the request's header into a response, so the client can match it. */
export function copyHeader(from: Buffer, fromOffset: number, to: Buffer, bytes: number): void {
  from.copy(to, 0, fromOffset, fromOffset + bytes);
}
