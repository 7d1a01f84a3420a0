// Who is using a lab: a small file per lab name, holding the owning process (pid, host, start
// time). A second run on a lab in use, or `lab down`/`lab up --force` of it, is refused at once,
// naming the first; a file left by a killed process is taken over.

import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.js";
import { currentOwner, ownerAlive, type RunOwner } from "../run/owner.js";

export const LAB_LOCK_DIR = "/run/vnetbench";

export interface LabHolder extends RunOwner {
  /** The holder's command line. */
  command: string[];
  since: string;
  /** The run it executes on the lab, and its store: where `lab down` finds what a killed run left applied. */
  run?: { store: string; id: string };
}

function lockPath(name: string, dir: string): string {
  return join(dir, `lab-${name}.json`);
}

function readHolder(path: string): LabHolder | null {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as LabHolder;
  } catch {
    return null; // absent, or half-written by a process killed while writing it
  }
}

/** The live process (not this one) holding the lab, or null. */
export function labHolder(name: string, dir = LAB_LOCK_DIR): LabHolder | null {
  const holder = readHolder(lockPath(name, dir));
  if (!holder || holder.pid === process.pid) return null;
  return ownerAlive(holder) === false ? null : holder;
}

function inUse(name: string, holder: LabHolder): InputError {
  return new InputError(
    `lab ${name} is in use by another vnetbench (pid ${holder.pid} on ${holder.host}, since ${holder.since}: ` +
      `vnetbench ${holder.command.join(" ")}): wait for it to finish, or use another lab (lab up --name, run --lab)`,
  );
}

/** Refuses when another live process holds the lab. */
export function assertLabFree(name: string, dir = LAB_LOCK_DIR): void {
  const holder = labHolder(name, dir);
  if (holder) throw inUse(name, holder);
}

/** Takes the lab for this process, or refuses naming the process that has it. */
export function claimLab(name: string, dir = LAB_LOCK_DIR): void {
  const path = lockPath(name, dir);
  const mine: LabHolder = {
    ...currentOwner(),
    command: process.argv.slice(2),
    since: new Date().toISOString(),
  };
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EACCES") return; // not root: no lab can be built anyway
    throw error;
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(mine), { flag: "wx", mode: 0o644 });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = readHolder(path);
    if (holder?.pid === process.pid) return;
    if (holder && ownerAlive(holder) !== false) throw inUse(name, holder);
    // Left by a process that is gone: take it over (a racing taker makes our next write fail).
    try {
      unlinkSync(path);
    } catch {
      // another process removed it first
    }
  }
  const holder = readHolder(path);
  throw holder ? inUse(name, holder) : new InputError(`lab ${name}: could not take its lock ${path}`);
}

/** Records in this process's lock which run it executes, and in which store. */
export function noteLabRun(name: string, run: { store: string; id: string }, dir = LAB_LOCK_DIR): void {
  const path = lockPath(name, dir);
  const holder = readHolder(path);
  if (holder?.pid !== process.pid) return;
  writeFileSync(`${path}.tmp`, JSON.stringify({ ...holder, run }), { mode: 0o644 });
  renameSync(`${path}.tmp`, path); // atomic: a reader sees the old lock or the new, never half
}

/** The lock of a process that is gone (killed while it held the lab), or null. */
export function abandonedHolder(name: string, dir = LAB_LOCK_DIR): LabHolder | null {
  const holder = readHolder(lockPath(name, dir));
  return holder && holder.pid !== process.pid && ownerAlive(holder) === false ? holder : null;
}

/** Removes the lock a gone process left, once what it left applied is dealt with. */
export function dropAbandonedLock(name: string, dir = LAB_LOCK_DIR): void {
  if (!abandonedHolder(name, dir)) return;
  try {
    unlinkSync(lockPath(name, dir));
  } catch {
    // already gone
  }
}

/** Gives the lab back, if this process holds it. */
export function releaseLab(name: string, dir = LAB_LOCK_DIR): void {
  const path = lockPath(name, dir);
  if (readHolder(path)?.pid !== process.pid) return;
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
