// The order a run's trials go in. sequential: all trials of a cell back to back; interleaved:
// rounds of one trial of every cell (A B A B — slow drift hits every cell alike); shuffled: rounds
// too, each in a fresh seeded random order (a randomized block design), so the order can be replayed.

import { mulberry32 } from "../analysis/random.js";

export const TRIAL_ORDERS = ["sequential", "shuffled", "interleaved"] as const;
export type TrialOrder = (typeof TRIAL_ORDERS)[number];

export interface ScheduledTrial {
  cellIndex: number;
  /** 1-based repetition number. */
  trial: number;
}

/** Every trial of every cell, in the order they run. Pure: the same input gives the same schedule. */
export function scheduleTrials(
  cells: number,
  trials: number,
  order: TrialOrder = "sequential",
  seed = 1,
): ScheduledTrial[] {
  const indexes = Array.from({ length: cells }, (_, i) => i);
  if (order === "sequential")
    return indexes.flatMap((cellIndex) =>
      Array.from({ length: trials }, (_, i) => ({ cellIndex, trial: i + 1 })),
    );
  const random = mulberry32(seed);
  const schedule: ScheduledTrial[] = [];
  for (let trial = 1; trial <= trials; trial++) {
    const round = [...indexes];
    // Fisher–Yates (Knuth, TAOCP vol. 2, algorithm P).
    if (order === "shuffled")
      for (let i = round.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [round[i], round[j]] = [round[j]!, round[i]!];
      }
    for (const cellIndex of round) schedule.push({ cellIndex, trial });
  }
  return schedule;
}
