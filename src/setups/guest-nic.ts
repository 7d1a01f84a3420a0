// A guest option's NIC settings on every lab guest: what was there is read first (the revert puts
// it back), then MTU, ethtool -K offloads and ethtool -L channels are set and read back.

import { RunError } from "../errors.js";
import { type NicSettings, nicCommands, nicMismatches, nicReadBack } from "../guests/settings.js";
import type { GuestNic } from "../labs/guest-control.js";
import { describeArgv } from "../util/process.js";

const TIMEOUT_MS = 15_000;

/** One guest's NIC settings as read, and how they differ from what was expected. */
export interface NicState {
  node: string;
  settings: NicSettings;
  mismatches: string[];
}

/** Reads the fields `asked` names on each guest's NIC; compared with `expected` when given. */
export async function readNics(
  nics: readonly GuestNic[],
  asked: NicSettings,
  expected?: NicSettings,
): Promise<NicState[]> {
  return Promise.all(
    nics.map(async ({ node, endpoint, ifname }): Promise<NicState> => {
      const read = async (argv: string[]) => (await endpoint.exec(argv, { timeoutMs: TIMEOUT_MS })).stdout;
      const settings = nicReadBack(asked, {
        mtu: await endpoint.readFile(`/sys/class/net/${ifname}/mtu`),
        ...(asked.offloads ? { features: await read(["ethtool", "-k", ifname]) } : {}),
        ...(asked.channels !== undefined ? { channels: await read(["ethtool", "-l", ifname]) } : {}),
      });
      return { node, settings, mismatches: expected ? nicMismatches(expected, settings) : [] };
    }),
  );
}

async function setNic(nic: GuestNic, settings: NicSettings, what: string): Promise<void> {
  for (const argv of nicCommands(nic.ifname, settings)) {
    try {
      await nic.endpoint.exec(argv, { timeoutMs: TIMEOUT_MS });
    } catch (error) {
      throw new RunError(`${what} on ${nic.node} (${describeArgv(argv)}): ${(error as Error).message}`);
    }
  }
}

/** Puts the settings in place on every guest. */
export async function applyNic(
  nics: readonly GuestNic[],
  settings: NicSettings,
  what: string,
): Promise<void> {
  for (const nic of nics) await setNic(nic, settings, what);
}

/** Puts back what readNics read before the option applied (every guest is tried). */
export async function restoreNics(
  nics: readonly GuestNic[],
  before: readonly NicState[],
  what: string,
): Promise<void> {
  const failures: string[] = [];
  for (const state of before) {
    const nic = nics.find((n) => n.node === state.node);
    if (!nic) continue;
    await setNic(nic, state.settings, what).catch((error: Error) => failures.push(error.message));
  }
  if (failures.length > 0) throw new RunError(failures.join("; "));
}
