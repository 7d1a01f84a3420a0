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

/**
 * Every trial of every cell, in the order they run. Pure: the same input gives the same schedule.
 * `groups` gives each cell a group (e.g. the qemu machine it needs): a round keeps each group's
 * cells together and starts with the group the previous round ended with, so a change of group
 * (a guest restart) happens as few times as the order allows.
 */
export function scheduleTrials(
  cells: number,
  trials: number,
  order: TrialOrder = "sequential",
  seed = 1,
  groups?: readonly number[],
): ScheduledTrial[] {
  const indexes = Array.from({ length: cells }, (_, i) => i);
  if (order === "sequential")
    return indexes.flatMap((cellIndex) =>
      Array.from({ length: trials }, (_, i) => ({ cellIndex, trial: i + 1 })),
    );
  const random = mulberry32(seed);
  // Fisher–Yates (Knuth, TAOCP vol. 2, algorithm P).
  const shuffle = <T>(list: T[]): T[] => {
    if (order === "shuffled")
      for (let i = list.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [list[i], list[j]] = [list[j]!, list[i]!];
      }
    return list;
  };
  const groupOf = (cellIndex: number) => groups?.[cellIndex] ?? 0;
  const groupIds = [...new Set(indexes.map(groupOf))];
  const schedule: ScheduledTrial[] = [];
  let last: number | undefined;
  for (let trial = 1; trial <= trials; trial++) {
    const shuffled = shuffle([...groupIds]);
    const sequence = last === undefined ? shuffled : [last, ...shuffled.filter((group) => group !== last)];
    for (const group of sequence)
      for (const cellIndex of shuffle(indexes.filter((i) => groupOf(i) === group)))
        schedule.push({ cellIndex, trial });
    last = sequence.at(-1);
  }
  return schedule;
}
