// How far up the offered rates an open-loop generator kept its schedule on each path: across
// cells that differ only in their rate, the highest rate with no generator-limited trial below the
// lowest rate with one. Above it the figures are the tool's, so such cells belong to another
// driver (a matrix's `driver: auto` picks sockperf where it is installed).

import type { Cell } from "../domain/cell.js";

export interface GeneratorReach<C extends Cell> {
  /** The lowest-rate cell of the group where the generator was limited. */
  firstLimited: C;
  /** The highest rate below it where it was not, or null when it was limited from the lowest rate tried. */
  keptUpTo: number | null;
}

/** Rate-less identity of a cell: everything but the offered rate. */
function groupOf(cell: Cell): string {
  return JSON.stringify({ setup: cell.setup, traffic: { ...cell.traffic, rate: null } });
}

export function generatorReach<C extends Cell>(
  cells: readonly C[],
  isLimited: (cell: C) => boolean,
): GeneratorReach<C>[] {
  const groups = new Map<string, C[]>();
  for (const cell of cells) {
    if (typeof cell.traffic.rate !== "number") continue;
    const group = groupOf(cell);
    groups.set(group, [...(groups.get(group) ?? []), cell]);
  }
  const reach: GeneratorReach<C>[] = [];
  for (const group of groups.values()) {
    const byRate = [...group].sort((a, b) => (a.traffic.rate as number) - (b.traffic.rate as number));
    const firstLimited = byRate.find(isLimited);
    if (!firstLimited) continue;
    const below = byRate.filter(
      (cell) => (cell.traffic.rate as number) < (firstLimited.traffic.rate as number),
    );
    reach.push({ firstLimited, keptUpTo: below.length > 0 ? (below.at(-1)!.traffic.rate as number) : null });
  }
  return reach;
}
