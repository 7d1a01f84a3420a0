// Byte counters of a network interface as an endpoint sees them (sysfs, read on the endpoint).

import type { Endpoint } from "./endpoint.js";

export interface InterfaceBytes {
  rxBytes: number;
  txBytes: number;
}

export async function readInterfaceBytes(endpoint: Endpoint, ifname: string): Promise<InterfaceBytes> {
  const read = async (counter: string) =>
    Number((await endpoint.readFile(`/sys/class/net/${ifname}/statistics/${counter}`)).trim());
  return { rxBytes: await read("rx_bytes"), txBytes: await read("tx_bytes") };
}
