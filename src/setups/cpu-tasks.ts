// Processes and threads of an endpoint as `ps` lists them, and the selection a CPU setup acts on.
// Parsers are pure; listing runs `ps` on the endpoint.

import type { Endpoint } from "../endpoints/endpoint.js";

export interface TaskEntry {
  pid: number;
  tid: number;
  comm: string;
}

/** `ps -eLo pid=,lwp=,comm=` → one entry per thread (comm last: it may hold spaces, "CPU 0/KVM"). */
export function parsePsThreads(text: string): TaskEntry[] {
  return text.split("\n").flatMap((line) => {
    const match = /^\s*(\d+)\s+(\d+)\s(.*)$/.exec(line);
    return match ? [{ pid: Number(match[1]), tid: Number(match[2]), comm: match[3]!.trim() }] : [];
  });
}

/** `ps -eo pid=,args=` → command line by PID. */
export function parsePsArgs(text: string): Map<number, string> {
  const result = new Map<number, string>();
  for (const line of text.split("\n")) {
    const match = /^\s*(\d+)\s(.*)$/.exec(line);
    if (match) result.set(Number(match[1]), match[2]!.trim());
  }
  return result;
}

export interface TaskSelection {
  /** PIDs to take (the generator's), or a pattern over process name and command line, or one PID. */
  pids?: readonly number[];
  process?: string;
  pid?: number;
  threads?: string;
}

/** Threads matching a selection, from parsed ps output. Pure. */
export function selectTasks(
  threads: readonly TaskEntry[],
  args: ReadonlyMap<number, string>,
  selection: TaskSelection,
): TaskEntry[] {
  const processPattern = selection.process === undefined ? null : new RegExp(selection.process);
  const threadPattern = selection.threads === undefined ? null : new RegExp(selection.threads);
  const mainComm = new Map(threads.filter((t) => t.pid === t.tid).map((t) => [t.pid, t.comm]));
  const processMatches = (pid: number) => {
    if (selection.pids) return selection.pids.includes(pid);
    if (selection.pid !== undefined) return pid === selection.pid;
    const comm = mainComm.get(pid) ?? "";
    const command = args.get(pid) ?? "";
    // ps itself would match a pattern given on its own command line.
    return (
      processPattern !== null &&
      !command.startsWith("ps -e") &&
      (processPattern.test(comm) || processPattern.test(command))
    );
  };
  return threads.filter(
    (t) => processMatches(t.pid) && (threadPattern === null || threadPattern.test(t.comm)),
  );
}

/** The endpoint's threads matching the selection. */
export async function listTasks(endpoint: Endpoint, selection: TaskSelection): Promise<TaskEntry[]> {
  const threads = parsePsThreads(
    (await endpoint.exec(["ps", "-eLo", "pid=,lwp=,comm="], { timeoutMs: 10_000 })).stdout,
  );
  const args =
    selection.process === undefined
      ? new Map<number, string>()
      : parsePsArgs((await endpoint.exec(["ps", "-eo", "pid=,args="], { timeoutMs: 10_000 })).stdout);
  return selectTasks(threads, args, selection);
}

/** Cpus_allowed_list from a /proc/PID/task/TID/status text, or null. */
export function allowedCpus(status: string): string | null {
  return /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1] ?? null;
}
