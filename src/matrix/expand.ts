// A matrix → its cells: the cross product of the categories' options (network outermost, traffic
// innermost, so costly option changes happen least often; cells needing the same qemu machine
// grouped, so guests restart least often), filtered by include and exclude. Pure.

import { type Cell, cellKey } from "../domain/cell.js";
import type { Direction, SetupSelection } from "../domain/setup.js";
import { settingsKey } from "../guests/settings.js";
import type { Matrix, Rule } from "./matrix.js";

/** The option names a cell combines, one per category (the network's is its setup name). */
export interface CellOptions {
  network: string;
  direction: Direction;
  cpu: string;
  guest: string;
  hypervisor: string;
  traffic: string;
}

export interface MatrixCell extends Cell {
  options: CellOptions;
}

/**
 * A rule matches when, for every category it names, the combination's option is one it lists (a
 * network by setup name, or `name:direction` for one direction only).
 */
export function ruleMatches(rule: Rule, options: CellOptions): boolean {
  return (Object.entries(rule) as Array<[keyof Rule, string[]]>).every(
    ([category, names]) =>
      names.includes(options[category]) ||
      (category === "network" && names.includes(`${options.network}:${options.direction}`)),
  );
}

/** Kept when it matches an include rule (if there are any) and no exclude rule. */
export function kept(matrix: Pick<Matrix, "include" | "exclude">, options: CellOptions): boolean {
  if (matrix.include.length > 0 && !matrix.include.some((rule) => ruleMatches(rule, options))) return false;
  return !matrix.exclude.some((rule) => ruleMatches(rule, options));
}

export function expandMatrix(
  matrix: Pick<Matrix, "network" | "cpu" | "guest" | "hypervisor" | "traffic" | "include" | "exclude">,
): MatrixCell[] {
  const cells: MatrixCell[] = [];
  for (const network of matrix.network)
    for (const hypervisor of matrix.hypervisor)
      for (const guest of matrix.guest)
        for (const cpu of matrix.cpu)
          for (const traffic of matrix.traffic) {
            const options: CellOptions = {
              network: network.name,
              direction: network.direction,
              cpu: cpu.name,
              guest: guest.name,
              hypervisor: hypervisor.name,
              traffic: traffic.name,
            };
            if (!kept(matrix, options)) continue;
            const setup: SetupSelection = {
              network: network.name,
              direction: network.direction,
              cpu: cpu.name,
              guest: guest.name,
              hypervisor: hypervisor.name,
            };
            for (const t of traffic.traffic)
              cells.push({ key: cellKey(setup, t), setup, traffic: t, options });
          }
  // Cells whose hypervisor option needs the same qemu go together (a restart between groups
  // only); the sort is stable, so matrices without qemu settings keep the order above.
  const groups = restartGroups(matrix, cells);
  return cells
    .map((cell, i) => ({ cell, group: groups[i]! }))
    .sort((a, b) => a.group - b.group)
    .map(({ cell }) => cell);
}

/**
 * Each cell's restart group: cells whose hypervisor options ask for the same qemu settings share
 * one, so the run's order can keep them together and restart the guests only between groups.
 */
export function restartGroups(matrix: Pick<Matrix, "hypervisor">, cells: readonly Cell[]): number[] {
  const keys: string[] = [];
  return cells.map((cell) => {
    const key = settingsKey(matrix.hypervisor.find((o) => o.name === cell.setup.hypervisor)?.qemu);
    if (!keys.includes(key)) keys.push(key);
    return keys.indexOf(key);
  });
}
