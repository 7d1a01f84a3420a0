// How a plan's skipped cells are told: light, so `plan` and `run` print it without loading more.

/** Skipped cells, one line per reason (an option skipped here skips many cells). */
export function skippedLines(skipped: readonly { reason: string }[]): string[] {
  const byReason = new Map<string, number>();
  for (const item of skipped) byReason.set(item.reason, (byReason.get(item.reason) ?? 0) + 1);
  return [...byReason].map(([reason, count]) => `skipped ${count} cell${count === 1 ? "" : "s"}: ${reason}`);
}
