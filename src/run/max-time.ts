// `run --max-time`: a duration the whole run must end within. Pure: the runner asks before each
// trial whether it still fits, and stops the run cut short (resumable) when it does not.

import { InputError } from "../errors.js";

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600 };
/** A week: anything longer is a typo, not a cap. */
const MAX_CAP_S = 7 * 24 * 3600;

/** `90s`, `10m`, `2h`, `1h30m` or plain seconds (`45`, `2.5`) → seconds; anything else is bad input. */
export function parseDuration(value: string, flag = "--max-time"): number {
  const text = value.trim();
  const bad = () =>
    new InputError(
      `${flag}: '${value}' is not a duration: expected e.g. 90s, 10m, 2h or 1h30m (more than 0, at most a week)`,
    );
  let seconds: number;
  if (/^\d+(\.\d+)?$/.test(text)) seconds = Number(text);
  else {
    const parts = [...text.matchAll(/(\d+(?:\.\d+)?)([smh])/g)];
    if (parts.length === 0 || parts.map((part) => part[0]).join("") !== text) throw bad();
    const units = parts.map((part) => part[2]!);
    if (new Set(units).size !== units.length) throw bad();
    seconds = parts.reduce((sum, part) => sum + Number(part[1]) * UNITS[part[2]!]!, 0);
  }
  if (!(seconds > 0) || seconds > MAX_CAP_S) throw bad();
  return seconds;
}

/** The cap of one run: when it ends (on the monotonic clock of this process, ms) and how long it was. */
export interface RunCap {
  maxTimeS: number;
  deadlineMs: number;
}

/** A cap of `maxTimeS` counted from `startMs` (performance.now()). */
export function runCap(maxTimeS: number, startMs: number): RunCap {
  return { maxTimeS, deadlineMs: startMs + maxTimeS * 1000 };
}

/**
 * Whether the next trial may start: only if it is expected to end (after its pause) before the
 * cap, so a run ends with whole trials rather than one aborted at the cap. No cap: always.
 */
export function fitsBeforeCap(cap: RunCap | undefined, nowMs: number, nextTrialMs: number): boolean {
  return cap === undefined || nowMs + nextTrialMs <= cap.deadlineMs;
}

/** Milliseconds left before the cap (Infinity without one, never below 0). */
export function msLeft(cap: RunCap | undefined, nowMs: number): number {
  return cap === undefined ? Number.POSITIVE_INFINITY : Math.max(0, cap.deadlineMs - nowMs);
}
