// Driver names → drivers.

import type { DriverName } from "../domain/traffic.js";
import { InputError } from "../errors.js";
import { builtinDriver } from "./builtin/driver.js";
import type { Driver } from "./driver.js";

const DRIVERS: Partial<Record<DriverName, Driver>> = { builtin: builtinDriver };

export function driverFor(name: DriverName): Driver {
  const driver = DRIVERS[name];
  if (!driver)
    throw new InputError(
      `driver '${name}' is not available yet; available: ${Object.keys(DRIVERS).join(", ")}`,
    );
  return driver;
}

/** The reason a driver cannot run the traffic, for planning (an unknown driver is a reason too). */
export function whyUnsupported(traffic: Parameters<Driver["unsupported"]>[0]): string | null {
  const driver = DRIVERS[traffic.driver];
  if (!driver) return `driver ${traffic.driver} is not available`;
  return driver.unsupported(traffic);
}
