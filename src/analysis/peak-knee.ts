// The knee of a latency–load curve, reported beside the peak for information: where p99 latency
// starts rising faster than the load, by Kneedle (Satopää, Albrecht, Irwin, Raghavan, "Finding a
// 'Kneedle' in a Haystack", ICDCS workshops 2011), offline form.

export interface Knee {
  messagesPerSecond: number;
  p99Us: number;
}

/**
 * Kneedle on (offered rate, p99) points: both axes normalised to [0, 1], the knee of a convex
 * increasing curve is where it lies furthest below the chord, i.e. the maximum of x − y. Several
 * trials at one rate count by their lowest p99 (interference only ever adds latency). Null with
 * fewer than three rates or when no point lies below the chord (no knee).
 */
export function kneeOf(
  points: ReadonlyArray<{ offeredMessagesPerSecond: number; latencyUs: { p99: number } | null }>,
): Knee | null {
  const best = new Map<number, number>();
  for (const point of points) {
    if (!point.latencyUs) continue;
    const rate = point.offeredMessagesPerSecond;
    best.set(rate, Math.min(best.get(rate) ?? Number.POSITIVE_INFINITY, point.latencyUs.p99));
  }
  const curve = [...best.entries()].sort((a, b) => a[0] - b[0]);
  if (curve.length < 3) return null;
  const xs = curve.map(([x]) => x);
  const ys = curve.map(([, y]) => y);
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  const [yMin, yMax] = [Math.min(...ys), Math.max(...ys)];
  if (yMax === yMin) return null;
  let knee: Knee | null = null;
  let widest = 0;
  for (const [x, y] of curve) {
    const difference = (x - xMin) / (xMax - xMin) - (y - yMin) / (yMax - yMin);
    if (difference > widest) {
      widest = difference;
      knee = { messagesPerSecond: x, p99Us: y };
    }
  }
  return knee;
}
