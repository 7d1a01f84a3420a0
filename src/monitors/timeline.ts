// The report's timeline: one point per sampling interval, merged down to a bounded number of points.

import type { CpuTimelinePoint } from "./cpu-report.js";

/** Joins host intervals with the attributed seconds read at the same samples (same index). */
export function buildTimeline(
  host: Array<{ t: number; dt: number; hostSeconds: number }>,
  attributed: Array<Record<string, number>>,
  generatorGroup: string,
): CpuTimelinePoint[] {
  return host.map((interval, i) => {
    const { [generatorGroup]: generatorSeconds = 0, ...processes } = attributed[i] ?? {};
    return { ...interval, generatorSeconds, processes };
  });
}

/** Merges consecutive points (summing seconds) so that at most maxPoints remain; plots need no more. */
export function downsampleTimeline(points: CpuTimelinePoint[], maxPoints: number): CpuTimelinePoint[] {
  if (points.length <= maxPoints) return points;
  const size = Math.ceil(points.length / maxPoints);
  const merged: CpuTimelinePoint[] = [];
  for (let i = 0; i < points.length; i += size) {
    const chunk = points.slice(i, i + size);
    const processes: Record<string, number> = {};
    for (const p of chunk)
      for (const [name, s] of Object.entries(p.processes)) processes[name] = (processes[name] ?? 0) + s;
    merged.push({
      t: chunk.at(-1)!.t,
      dt: chunk.reduce((s, p) => s + p.dt, 0),
      hostSeconds: chunk.reduce((s, p) => s + p.hostSeconds, 0),
      generatorSeconds: chunk.reduce((s, p) => s + p.generatorSeconds, 0),
      processes,
    });
  }
  return merged;
}
