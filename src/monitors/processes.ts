// Finding the processes and threads to attribute CPU to, on an endpoint (pgrep and find, run there).

import type { Endpoint } from "../endpoints/endpoint.js";

/** A process selection: by a regular expression on its name or command line, and/or by PIDs. */
export interface ProcessSelector {
  /** The name the selection is reported under, e.g. "qemu" or "vhost". */
  name: string;
  /** Extended regular expression (pgrep's), matched against the command line and the process name. */
  pattern?: string;
  pids?: number[];
  /** Also the children of `pids` (the native data path's processes, which the agents start from their main thread). */
  withChildren?: boolean;
}

/** Parses pgrep output: one PID a line. */
export function parsePidList(text: string): number[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /^\d+$/.test(line))
    .map(Number);
}

/** Parses `find /proc/P/task -mindepth 1 -maxdepth 1` lines ("/proc/P/task/T") into pid/tid pairs. */
export function parseTaskList(text: string): Array<{ pid: number; tid: number }> {
  return [...text.matchAll(/^\/proc\/(\d+)\/task\/(\d+)$/gm)].map((m) => ({
    pid: Number(m[1]),
    tid: Number(m[2]),
  }));
}

/** PIDs matching a selector now; a pattern matches the full command line or (kernel threads) the name. */
export async function resolvePids(endpoint: Endpoint, selector: ProcessSelector): Promise<number[]> {
  const pids = new Set(selector.pids ?? []);
  if (selector.pattern !== undefined) {
    // pgrep exits 1 when nothing matches: not an error, the selection is just empty for now.
    for (const flags of [["-f"], []]) {
      const result = await endpoint.exec(["pgrep", ...flags, "--", selector.pattern], {
        allowFailure: true,
        timeoutMs: 5_000,
      });
      if (result.code !== 0 && result.code !== 1) {
        throw new Error(
          `cannot select processes "${selector.name}" on ${endpoint.name}: pgrep ${selector.pattern} failed: ${result.stderr.trim()}`,
        );
      }
      for (const pid of parsePidList(result.stdout)) pids.add(pid);
    }
  }
  if (selector.withChildren) {
    // Node starts children from its main thread, whose task lists them: a read, not a pgrep.
    const lists = await Promise.all(
      (selector.pids ?? []).map((pid) =>
        endpoint.readFile(`/proc/${pid}/task/${pid}/children`).catch(() => ""),
      ),
    );
    for (const list of lists) for (const pid of list.split(" ").filter(Boolean)) pids.add(Number(pid));
  }
  return [...pids].sort((a, b) => a - b);
}

/** The threads of the given processes now (a process that has exited is simply absent). */
export async function listTasks(
  endpoint: Endpoint,
  pids: number[],
): Promise<Array<{ pid: number; tid: number }>> {
  if (pids.length === 0) return [];
  const dirs = pids.map((pid) => `/proc/${pid}/task`);
  const result = await endpoint.exec(["find", ...dirs, "-mindepth", "1", "-maxdepth", "1"], {
    allowFailure: true,
    timeoutMs: 5_000,
  });
  return parseTaskList(result.stdout);
}
