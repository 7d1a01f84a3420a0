// What the agent accepts on a control connection: every request checked field by field before it
// is acted on, and limits on lines, connections, sessions and idle time, so a peer (authenticated
// or not) can neither crash the agent nor make it allocate without bound.

import { PATTERNS, PROTOCOLS } from "../../domain/traffic.js";
import type { ControlRequest } from "./protocol.js";

/** Longest line accepted before authentication (the proof is ~80 bytes). */
export const MAX_UNAUTHENTICATED_LINE = 4096;
/** Control connections open at once (a run needs a handful). */
export const MAX_CONNECTIONS = 64;
/** Data sessions open at once on one agent. */
export const MAX_SESSIONS = 64;
/** An authenticated control connection silent this long is closed (runs send a request per trial). */
export const IDLE_TIMEOUT_MS = 60 * 60 * 1000;
/** Message sizes the agent allocates buffers for (the plan's own limit). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
const MAX_RATE = 1e9;
const MAX_TRIAL_S = 3 * 3600;

export type Checked = { ok: true; request: ControlRequest } | { ok: false; id: number | null; error: string };

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const isInt = (value: unknown, min: number, max: number): value is number =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
const isNumber = (value: unknown, min: number, max: number): value is number =>
  typeof value === "number" && Number.isFinite(value) && value >= min && value <= max;

function sizeProblem(fields: Fields, ...names: string[]): string | null {
  for (const name of names)
    if (!isInt(fields[name], 1, MAX_MESSAGE_BYTES))
      return `${name}: expected a whole number of bytes, 1 to ${MAX_MESSAGE_BYTES}`;
  return null;
}

function trafficProblem(traffic: unknown): string | null {
  if (!isObject(traffic)) return "traffic: expected an object";
  if (!(PROTOCOLS as readonly unknown[]).includes(traffic.protocol)) return "traffic.protocol: unknown";
  if (!(PATTERNS as readonly unknown[]).includes(traffic.pattern)) return "traffic.pattern: unknown";
  const size = sizeProblem(traffic, "requestSize", "responseSize");
  if (size) return `traffic.${size}`;
  if (traffic.rate !== "max" && !isNumber(traffic.rate, 0, MAX_RATE))
    return "traffic.rate: expected max or 0 to 1e9 messages/s";
  if (!isNumber(traffic.durationS, 0.001, MAX_TRIAL_S)) return "traffic.durationS: out of range";
  if (!isNumber(traffic.warmupS, 0, MAX_TRIAL_S)) return "traffic.warmupS: out of range";
  return null;
}

function problem(message: Fields): string | null {
  switch (message.op) {
    case "open":
      if (message.protocol !== "tcp" && message.protocol !== "udp") return "protocol: expected tcp or udp";
      if (!(PATTERNS as readonly unknown[]).includes(message.pattern) || message.pattern === "flood")
        return "pattern: unknown";
      if (!isNumber(message.rate, 0, MAX_RATE)) return "rate: expected 0 to 1e9 datagrams/s";
      return sizeProblem(message, "requestSize", "responseSize");
    case "mark":
      if (message.stop !== undefined && typeof message.stop !== "boolean")
        return "stop: expected true or false";
      return isInt(message.session, 1, Number.MAX_SAFE_INTEGER) ? null : "session: expected a session number";
    case "close":
      return isInt(message.session, 1, Number.MAX_SAFE_INTEGER) ? null : "session: expected a session number";
    case "drive": {
      const target = message.target;
      if (!isObject(target)) return "target: expected an object";
      if (typeof target.host !== "string" || target.host.length === 0 || target.host.length > 255)
        return "target.host: expected a host name or address";
      if (!isInt(target.port, 1, 65535)) return "target.port: expected 1 to 65535";
      if (typeof target.token !== "string" || target.token.length > 1024)
        return "target.token: expected a string";
      return trafficProblem(message.traffic);
    }
    default:
      // Operations with no fields to check (counters), and unknown ones, which the agent answers itself.
      return typeof message.op === "string" ? null : "op: expected an operation name";
  }
}

/** A parsed control line → a request the agent can act on, or why not (with the id to answer, if any). */
export function checkRequest(message: unknown): Checked {
  if (!isObject(message)) return { ok: false, id: null, error: "expected a JSON object" };
  const id = isInt(message.id, 0, Number.MAX_SAFE_INTEGER) ? message.id : null;
  if (id === null) return { ok: false, id: null, error: "id: expected a whole number" };
  const why = problem(message);
  return why ? { ok: false, id, error: why } : { ok: true, request: message as unknown as ControlRequest };
}
