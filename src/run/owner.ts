// Which process is executing a run (pid, host, and the process's start time so a reused pid is
// not mistaken for it): stored with the run, so a run whose process is gone reads `interrupted`.

import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { splitStat } from "../monitors/task-stat.js";

export interface RunOwner {
  pid: number;
  host: string;
  /** Field 22 of /proc/PID/stat (clock ticks since boot), or null where there is no /proc. */
  startTicks: string | null;
}

/** The process start time from /proc/PID/stat, or null when there is no such process (or no /proc). */
export function processStartTicks(pid: number): string | null {
  try {
    const start = splitStat(readFileSync(`/proc/${pid}/stat`, "utf8"))?.field(22);
    return start === undefined || !Number.isFinite(start) ? null : String(start);
  } catch {
    return null;
  }
}

export function currentOwner(): RunOwner {
  return { pid: process.pid, host: hostname(), startTicks: processStartTicks(process.pid) };
}

/**
 * Whether the owner's process still runs: null when that cannot be known from here (another host),
 * false when its pid is gone or now belongs to a process that started at another time.
 */
export function ownerAlive(
  owner: RunOwner,
  here: { host: string; startTicks(pid: number): string | null; exists(pid: number): boolean } = {
    host: hostname(),
    startTicks: processStartTicks,
    exists: pidExists,
  },
): boolean | null {
  if (owner.host !== here.host) return null;
  if (!here.exists(owner.pid)) return false;
  return owner.startTicks === null || here.startTicks(owner.pid) === owner.startTicks;
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
