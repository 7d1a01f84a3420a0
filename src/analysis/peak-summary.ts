// A cell's `summary.peak`: the peak search of its trials.

import type { PeakResult } from "./peak-search.js";

export interface PeakSummary extends PeakResult {
  /** Trials of the cell that ran a search. */
  searches: number;
}

/**
 * The search of the trial with the median peak (the lower one of an even count) stands for the
 * cell; searches that found no peak stand only when none did (the last of them).
 */
export function summarizePeaks(
  trials: ReadonlyArray<{ status: string; peak?: PeakResult }>,
): PeakSummary | null {
  const searches = trials.flatMap((trial) =>
    trial.status === "completed" && trial.peak ? [trial.peak] : [],
  );
  if (searches.length === 0) return null;
  const found = searches
    .filter((peak) => peak.messagesPerSecond !== null)
    .sort((a, b) => a.messagesPerSecond! - b.messagesPerSecond!);
  const chosen = found.length > 0 ? found[Math.floor((found.length - 1) / 2)]! : searches.at(-1)!;
  return { ...chosen, searches: searches.length };
}
