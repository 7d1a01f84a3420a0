// One trial's samples and host CPU → the point the peak search judges.

import type { Sample } from "../domain/sample.js";
import type { CpuSummary } from "./cpu.js";
import type { PointResult } from "./peak-search.js";
import type { ServiceDemand } from "./service-demand.js";

/**
 * The point of a trial at `offered` messages/s: a bidirectional trial is as good as its worse
 * direction (lowest delivered and sent rates, highest loss, the latency with the highest p99).
 * The generator's CPU is kept on the curve but not judged: the built-in paced sender spins near
 * every due time, so its CPU reads saturated at any rate that keeps it spinning; its lateness
 * (the driver's generatorLimited) is the saturation signal.
 */
export function pointOf(
  offered: number,
  samples: readonly Sample[],
  cpu: CpuSummary | null,
  serviceDemand: ServiceDemand | null,
): PointResult {
  if (samples.length === 0) throw new RangeError("a peak-search trial returned no sample");
  const rateOf = (count: number, sample: Sample) => (sample.durationS > 0 ? count / sample.durationS : 0);
  const latencies = samples.flatMap((sample) => (sample.latencyUs ? [sample.latencyUs] : []));
  const lateness = samples.flatMap((sample) => (sample.lateness ? [sample.lateness.p99Us] : []));
  return {
    offeredMessagesPerSecond: offered,
    sentMessagesPerSecond: Math.min(...samples.map((s) => rateOf(s.messagesSent, s))),
    messagesPerSecond: Math.min(...samples.map((s) => rateOf(s.messagesReceived, s))),
    // A direction that delivered nothing has no latency: the point has none either.
    latencyUs:
      latencies.length === samples.length ? latencies.reduce((a, b) => (b.p99 > a.p99 ? b : a)) : null,
    lossRatio: Math.max(...samples.map((s) => s.loss.ratio)),
    latenessP99Us: lateness.length > 0 ? Math.max(...lateness) : null,
    generatorLimited: samples.some((s) => s.generatorLimited),
    durationS: Math.max(...samples.map((s) => s.durationS)),
    cpu: cpu
      ? {
          hostSeconds: cpu.hostSeconds,
          perWallSecond: cpu.perWallSecond,
          generatorSeconds: cpu.generatorSeconds,
        }
      : null,
    serviceDemand,
  };
}
