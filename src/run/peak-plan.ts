// `vnetbench peak` flags → the one cell it searches and the search's criteria, validated with the
// flag named on every error. Pure.

import type { PeakSearchOptions } from "../analysis/peak-search.js";
import type { Cell } from "../domain/cell.js";
import { InputError } from "../errors.js";
import { cellsFromFlags, parseRates, setupsFromFlags, type TrafficFlags } from "../plan/flags.js";
import { LOOPBACK_SETUP, validateSetupNames } from "./paths.js";

export interface PeakFlags extends Omit<TrafficFlags, "pattern" | "rate"> {
  /** Relative precision: `2%` or `0.02`. */
  precision?: string | number;
  /** Loss goal: `no-drop` (0), `partial-drop` (0.5 %), a percentage or a ratio. */
  lossGoal?: string | number;
  /** k: p99 may grow to k × the unloaded p99. */
  latencyFactor?: string | number;
  /** First rate of the sweep, messages/s. */
  startRate?: string | number;
  /** Extra trials at a rate whose trial was not good. */
  retries?: string | number;
}

const LOSS_GOALS: Record<string, number> = { "no-drop": 0, "partial-drop": 0.005 };

/** `2%` → 0.02, `0.02` → 0.02; null when it is neither. */
function ratioOf(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)(%)?$/.exec(text.trim());
  if (!match) return null;
  return Number(match[1]) / (match[2] ? 100 : 1);
}

function bounded(flag: string, value: string | number, low: number, high: number, expected: string): number {
  const ratio = ratioOf(String(value));
  if (ratio === null || ratio < low || ratio > high)
    throw new InputError(`--${flag}: '${value}' is not ${expected}`);
  return ratio;
}

export function searchOptionsFromFlags(flags: PeakFlags): PeakSearchOptions {
  const options: PeakSearchOptions = {};
  if (flags.precision !== undefined)
    options.precision = bounded(
      "precision",
      flags.precision,
      0.005,
      0.5,
      "a precision from 0.5% to 50% (e.g. 2% or 0.02)",
    );
  if (flags.lossGoal !== undefined)
    options.lossGoal =
      LOSS_GOALS[String(flags.lossGoal)] ??
      bounded(
        "loss-goal",
        flags.lossGoal,
        0,
        0.5,
        "no-drop, partial-drop, or a loss from 0% to 50% (e.g. 0.5% or 0.005)",
      );
  if (flags.latencyFactor !== undefined) {
    const factor = Number(flags.latencyFactor);
    if (!(factor > 1 && factor <= 1000))
      throw new InputError(
        `--latency-factor: '${flags.latencyFactor}' is not a factor above 1 and up to 1000 (e.g. 4)`,
      );
    options.latencyFactor = factor;
  }
  if (flags.startRate !== undefined) {
    const [rate, ...more] = parseRates(String(flags.startRate));
    if (typeof rate !== "number" || more.length > 0)
      throw new InputError(
        `--start-rate: '${flags.startRate}' is not one rate in messages/s (e.g. 1000 or 50k)`,
      );
    options.startRate = rate;
  }
  if (flags.retries !== undefined) {
    const retries = Number(flags.retries);
    if (!(Number.isInteger(retries) && retries >= 0 && retries <= 10))
      throw new InputError(`--retries: '${flags.retries}' is not a whole number of retries from 0 to 10`);
    options.retries = retries;
  }
  return options;
}

/** The one paced cell at rate `peak` the flags describe; lists are refused (one search, one cell). */
export function peakCellFromFlags(
  flags: PeakFlags,
  driverUnsupported: (traffic: Cell["traffic"]) => string | null,
): Cell {
  const setupNames = (flags.setup ?? LOOPBACK_SETUP).split(",").map((name) => name.trim());
  validateSetupNames(setupNames);
  const setups = setupsFromFlags(setupNames, flags.direction);
  const { cells, skipped } = cellsFromFlags(
    { ...flags, pattern: "paced", rate: "peak" },
    driverUnsupported,
    setups,
  );
  if (cells.length > 1 || skipped.length > 0)
    throw new InputError(
      `peak searches one cell, these flags give ${cells.length + skipped.length}: give one --setup, --protocol, --size, --response-size, --driver and --direction`,
    );
  return cells[0]!;
}
