// Service demand: host CPU per unit of work, in netperf's units (µs per transaction, µs per KB, K = 1024).

import type { CpuByComponent } from "./cpu-components.js";

export interface ServiceDemand {
  /** Host CPU µs per transaction (rr, crr, paced), when transactional. */
  usPerTransaction?: number;
  /** Host CPU µs per KB delivered (stream), when not transactional. */
  usPerKB?: number;
  /** Cycles per transaction or per KB; null when cycles could not be counted. */
  cyclesPerUnit: number | null;
  /**
   * The same counting only the host CPU outside the traffic generator's processes: what the path
   * cost when the generator shares the host, as on a one-host lab. Kernel work done in the
   * generator's own system calls (sending, receiving) is charged to it, so it is left out too.
   */
  withoutGenerator?: { usPerTransaction?: number; usPerKB?: number };
  /** µs per transaction or per KB of each component (vcpu, qemu, vhost, generator, rest), on guests. */
  byComponent?: CpuByComponent;
  /** µs per transaction or per KB of each host on the path (summary.cpu.byHost); they add up to the total. */
  byHost?: Record<string, { usPerTransaction?: number; usPerKB?: number }>;
}

/**
 * CPU-seconds × 10^6 / units of work (netperf's definition, with host CPU from wall × CPUs − Δidle).
 * Throws when the work needed for the chosen unit is missing or not positive.
 */
export function serviceDemand(
  cpu: { hostSeconds: number; cycles: number | null },
  work: { transactions?: number; bytes?: number },
  transactional: boolean,
): ServiceDemand {
  const units = transactional ? work.transactions : work.bytes === undefined ? undefined : work.bytes / 1024;
  const what = transactional ? "transactions" : "bytes";
  if (units === undefined || !(units > 0)) {
    throw new RangeError(
      `service demand needs a positive count of ${what}, got ${String(transactional ? work.transactions : work.bytes)}`,
    );
  }
  const us = (cpu.hostSeconds * 1e6) / units;
  const cyclesPerUnit = cpu.cycles === null ? null : cpu.cycles / units;
  return transactional ? { usPerTransaction: us, cyclesPerUnit } : { usPerKB: us, cyclesPerUnit };
}
