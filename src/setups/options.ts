// An option's apply and revert steps: argument arrays run, in order, on named endpoints; and its
// kernel settings, read before they are set so that the revert puts back what was there.

import type { Endpoint } from "../endpoints/endpoint.js";
import { RunError } from "../errors.js";
import type { Step, SysctlSetting } from "../matrix/matrix.js";
import { describeArgv } from "../util/process.js";

const DEFAULT_STEP_TIMEOUT_S = 120;
const SYSCTL_TIMEOUT_MS = 15_000;

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

/** The settings' current values on their endpoints: what reverting the option restores. */
export async function readSysctls(
  settings: readonly SysctlSetting[],
  endpointOf: (name: string) => Endpoint,
  what: string,
): Promise<SysctlSetting[]> {
  const before: SysctlSetting[] = [];
  for (const setting of settings) {
    try {
      const { stdout } = await endpointOf(setting.on).exec(["sysctl", "-n", setting.name], {
        timeoutMs: SYSCTL_TIMEOUT_MS,
      });
      before.push({ ...setting, value: stdout.replace(/\n$/, "") });
    } catch (error) {
      throw new RunError(
        `${what}: reading sysctl ${setting.name} on ${setting.on}: ${(error as Error).message}`,
      );
    }
  }
  return before;
}

/** Sets each value, in order; the first failure stops them. */
export async function writeSysctls(
  settings: readonly SysctlSetting[],
  endpointOf: (name: string) => Endpoint,
  what: string,
): Promise<void> {
  for (const { on, name, value } of settings) {
    try {
      await endpointOf(on).exec(["sysctl", "-qw", `${name}=${value}`], { timeoutMs: SYSCTL_TIMEOUT_MS });
    } catch (error) {
      throw new RunError(`${what}: setting sysctl ${name}=${value} on ${on}: ${(error as Error).message}`);
    }
  }
}
