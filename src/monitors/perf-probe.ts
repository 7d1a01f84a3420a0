// Whether `perf stat` counts CPU cycles system-wide on an endpoint's machine: asked once per
// endpoint, shared by `doctor` and by the CPU monitor, which counts cycles by default where it does.

import type { Endpoint } from "../endpoints/endpoint.js";
import { parsePerfStat } from "./perf-stat.js";

export interface PerfSupport {
  /** `perf stat -a -e cycles` counts them there. */
  counts: boolean;
  /** Why not, when it does not. */
  reason: string | null;
}

/** The argv of the probe: exits at once, and counts like the monitor does (all CPUs). */
const PERF_PROBE_ARGV = ["perf", "stat", "-a", "-x,", "-e", "cycles,instructions", "true"];

/**
 * Pure: the verdict from the probe's exit code and stderr, and perf_event_paranoid (null when it
 * could not be read), on the named endpoint.
 */
export function perfSupportOf(
  result: { code: number | null; stderr: string },
  paranoid: number | null,
  where: string,
): PerfSupport {
  const cycles = parsePerfStat(result.stderr, "plain").find((row) => row.event.startsWith("cycles"));
  if (result.code === 0 && cycles?.status === "counted") return { counts: true, reason: null };
  if (result.code === 0 && cycles)
    return {
      counts: false,
      reason: `perf stat: cycles ${cycles.status} on ${where} (no hardware counters, as in many VMs)`,
    };
  const last = result.stderr.trim().split("\n").pop() || `exit ${result.code}`;
  const hint =
    paranoid !== null && paranoid > 0
      ? ` (perf_event_paranoid is ${paranoid}: counting all CPUs needs root, CAP_PERFMON or a value ≤ 0)`
      : "";
  return { counts: false, reason: `perf stat failed on ${where}: ${last}${hint}` };
}

const probes = new WeakMap<Endpoint, Promise<PerfSupport>>();

/** Whether perf counts cycles on the endpoint's machine (asked once per endpoint). */
export function probePerf(endpoint: Endpoint): Promise<PerfSupport> {
  let probe = probes.get(endpoint);
  if (!probe) {
    probe = (async () => {
      const paranoid = await endpoint
        .readFile("/proc/sys/kernel/perf_event_paranoid")
        .then((text) => Number.parseInt(text, 10))
        .catch(() => Number.NaN);
      const result = await endpoint
        .exec(PERF_PROBE_ARGV, { allowFailure: true, timeoutMs: 15_000 })
        .catch(() => null);
      if (!result)
        return { counts: false, reason: `perf is not installed on ${endpoint.name} (Debian: linux-perf)` };
      // Debian's perf wrapper exits 2 when no perf matches the running kernel; the shell says 127.
      if (result.code === 127)
        return { counts: false, reason: `perf is not installed on ${endpoint.name} (Debian: linux-perf)` };
      return perfSupportOf(result, Number.isFinite(paranoid) ? paranoid : null, endpoint.name);
    })();
    probes.set(endpoint, probe);
  }
  return probe;
}
