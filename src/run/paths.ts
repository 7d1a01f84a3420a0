// Resolves a cell's network setup to the endpoints its traffic flows between.

import type { SetupSelection } from "../domain/setup.js";
import type { TrafficPath } from "../drivers/driver.js";
import { LocalEndpoint } from "../endpoints/local.js";
import { InputError } from "../errors.js";

export const LOOPBACK_SETUP = "loopback";

export function loopbackPath(address = "127.0.0.1"): TrafficPath {
  const host = new LocalEndpoint("local", address, "host");
  return { client: host, server: host, serverAddress: address };
}

export type PathResolver = (setup: SetupSelection) => Promise<TrafficPath>;

export const loopbackOnly: PathResolver = async (setup) => {
  if (setup.network === LOOPBACK_SETUP) return loopbackPath();
  throw new InputError(`network setup '${setup.network}' is unknown; valid: ${LOOPBACK_SETUP}`);
};
