// Setup: the options of the non-traffic categories a cell combines.

export const DIRECTIONS = ["one-way", "bidirectional"] as const;
export type Direction = (typeof DIRECTIONS)[number];

export interface NetworkSetupRef {
  /** Name of a network setup, e.g. `loopback`, `host-to-guest`. */
  network: string;
  direction: Direction;
}

export interface SetupSelection extends NetworkSetupRef {
  cpu: string;
  guest: string;
  hypervisor: string;
}

export const DEFAULT_SETUP: SetupSelection = {
  network: "loopback",
  direction: "one-way",
  cpu: "none",
  guest: "default",
  hypervisor: "default",
};
