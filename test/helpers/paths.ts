// Paths for tests: loopback on this host.

import type { TrafficPath } from "../../src/drivers/driver.js";
import { LocalEndpoint } from "../../src/endpoints/local.js";

export function loopbackPath(): TrafficPath {
  const host = new LocalEndpoint("local", "127.0.0.1", "host");
  return { client: host, server: host, serverAddress: "127.0.0.1" };
}
