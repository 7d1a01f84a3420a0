// An option's apply and revert steps: argument arrays run, in order, on named endpoints.

import type { Endpoint } from "../endpoints/endpoint.js";
import { RunError } from "../errors.js";
import type { Step } from "../matrix/matrix.js";
import { describeArgv } from "../util/process.js";

const DEFAULT_STEP_TIMEOUT_S = 120;

/** Runs steps one after the other; the first failure stops them and names the option and step. */
export async function runSteps(
  steps: readonly Step[],
  endpointOf: (name: string) => Endpoint,
  what: string,
): Promise<void> {
  for (const [i, step] of steps.entries()) {
    try {
      await endpointOf(step.on).exec(step.run, {
        timeoutMs: (step.timeoutS ?? DEFAULT_STEP_TIMEOUT_S) * 1000,
      });
    } catch (error) {
      throw new RunError(
        `${what} step ${i + 1} on ${step.on} (${describeArgv(step.run)}): ${(error as Error).message}`,
      );
    }
  }
}
