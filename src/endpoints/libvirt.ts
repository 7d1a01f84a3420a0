// The libvirt endpoint: a running domain of this machine's libvirtd, found by name with virsh. Commands
// run in the guest through the virtio-serial control channel of the project's guest image (the
// domain's XML names its unix sockets); its vCPU threads come from QMP through
// `virsh qemu-monitor-command`, its pins are set with `virsh vcpupin`/`emulatorpin`, and
// `virsh domstats` is read around every trial. Parsers of virsh's output are pure.

import type { HypervisorTasks } from "../analysis/cpu-components.js";
import type { DomainStats, TrialDomainStats } from "../domain/cell.js";
import { RunError } from "../errors.js";
import type { QmpCommand } from "../guests/qmp.js";
import { CommandError, execCommand } from "../util/process.js";
import type { EndpointRole } from "./endpoint.js";
import { QemuGuestEndpoint, qemuPidOf } from "./qemu.js";

export const DEFAULT_LIBVIRT_URI = "qemu:///system";
const VIRSH_TIMEOUT_MS = 20_000;

export interface DomainInterface {
  interface: string;
  type: string;
  source: string;
  model: string;
  mac: string;
}

/** Rows under the dashes of a virsh table, split on runs of spaces. Pure. */
function tableRows(text: string): string[][] {
  const lines = text.split("\n");
  const rule = lines.findIndex((line) => /^-{3,}\s*$/.test(line.trim()));
  return lines
    .slice(rule + 1)
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => line.split(/\s+/));
}

/** `virsh domiflist DOMAIN`. Pure. */
export function parseDomiflist(text: string): DomainInterface[] {
  return tableRows(text).flatMap((cells) =>
    cells.length >= 5
      ? [{ interface: cells[0]!, type: cells[1]!, source: cells[2]!, model: cells[3]!, mac: cells[4]! }]
      : [],
  );
}

/** `virsh vcpupin DOMAIN` → the CPU list of each vCPU by index. Pure. */
export function parseVcpupin(text: string): Map<number, string> {
  const pins = new Map<number, string>();
  for (const cells of tableRows(text)) {
    const [vcpu, cpus] = cells;
    if (cells.length === 2 && /^\d+$/.test(vcpu!)) pins.set(Number(vcpu), cpus!);
  }
  return pins;
}

/** `virsh emulatorpin DOMAIN` → the emulator threads' CPU list. Pure. */
export function parseEmulatorpin(text: string): string | null {
  return /^\s*\*:\s*(\S+)\s*$/m.exec(text)?.[1] ?? null;
}

/** `virsh domstats DOMAIN` → its `key=value` lines (numbers as numbers). Pure. */
export function parseDomstats(text: string): DomainStats {
  const stats: DomainStats = {};
  for (const line of text.split("\n")) {
    const match = /^\s+([\w.-]+)=(.*)$/.exec(line);
    if (!match) continue;
    const value = match[2]!.trim();
    stats[match[1]!] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  return stats;
}

/** What changed between two domstats: each numeric counter's difference. Pure. */
export function domstatsDelta(before: DomainStats, after: DomainStats): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) {
    const old = before[key];
    if (typeof value === "number" && typeof old === "number" && value !== old) delta[key] = value - old;
  }
  return delta;
}

/** `virsh qemu-monitor-command --pretty DOMAIN '{"execute":"query-cpus-fast"}'` → vCPU threads. Pure. */
export function parseQueryCpusFast(text: string): { vcpu: number; tid: number }[] {
  const reply = JSON.parse(text) as { return?: { "cpu-index": number; "thread-id": number }[] };
  if (!Array.isArray(reply.return)) throw new RunError(`query-cpus-fast: no return value in ${text.trim()}`);
  return reply.return.map((cpu) => ({ vcpu: cpu["cpu-index"], tid: cpu["thread-id"] }));
}

/**
 * The unix sockets of a domain's virtio-serial channels (`virsh dumpxml`), the control channel of
 * the project's guest image: libvirt binds them (`mode='bind'`), we connect. Pure.
 */
export function parseControlSockets(xml: string): string[] {
  const sockets: string[] = [];
  for (const [channel] of xml.matchAll(/<channel type=['"]unix['"]>[\s\S]*?<\/channel>/g)) {
    if (!/<target type=['"]virtio['"]/.test(channel)) continue;
    const path = /<source mode=['"]bind['"] path=['"]([^'"]+)['"]/.exec(channel)?.[1];
    if (path) sockets.push(path);
  }
  return sockets;
}

/** virsh against one libvirt URI; errors name the domain and the URI. */
export class Virsh {
  constructor(
    readonly uri: string,
    readonly domain: string,
  ) {}

  async run(args: readonly string[], timeoutMs = VIRSH_TIMEOUT_MS): Promise<string> {
    try {
      return (await execCommand(["virsh", "-c", this.uri, ...args], { timeoutMs })).stdout;
    } catch (error) {
      const result = error instanceof CommandError ? error.result : undefined;
      const why = result?.stderr.trim().replace(/^error:\s*/gm, "") || (error as Error).message;
      throw new RunError(`libvirt domain ${this.domain} on ${this.uri}: virsh ${args.join(" ")}: ${why}`);
    }
  }

  /** Throws a clear error unless the domain exists and is running. */
  async ensureRunning(): Promise<void> {
    const state = (await this.run(["domstate", this.domain])).trim();
    if (state !== "running")
      throw new RunError(`libvirt domain ${this.domain} on ${this.uri} is ${state}, not running`);
  }
}

/** Each libvirt endpoint's domstats now, by endpoint name. */
export async function readDomainStats(
  endpoints: readonly LibvirtGuestEndpoint[],
): Promise<Record<string, DomainStats>> {
  const stats = await Promise.all(endpoints.map((endpoint) => endpoint.domstats()));
  return Object.fromEntries(endpoints.map((endpoint, i) => [endpoint.name, stats[i]!]));
}

/** What a trial stores: the stats after it and what moved since before it. Pure. */
export function trialDomainStats(
  endpoints: readonly LibvirtGuestEndpoint[],
  before: Record<string, DomainStats>,
  after: Record<string, DomainStats>,
): Record<string, TrialDomainStats> {
  return Object.fromEntries(
    endpoints.map((endpoint) => [
      endpoint.name,
      {
        domain: endpoint.domain,
        uri: endpoint.virsh.uri,
        stats: after[endpoint.name] ?? {},
        delta: domstatsDelta(before[endpoint.name] ?? {}, after[endpoint.name] ?? {}),
      },
    ]),
  );
}

export interface LibvirtSpec {
  name: string;
  role: EndpointRole;
  address: string;
  domain: string;
  uri?: string;
}

/** A running libvirt domain on this machine, reached through its virtio-serial control channel. */
export class LibvirtGuestEndpoint extends QemuGuestEndpoint {
  override readonly kind = "libvirt" as const;
  readonly virsh: Virsh;

  constructor(spec: LibvirtSpec) {
    const virsh = new Virsh(spec.uri ?? DEFAULT_LIBVIRT_URI, spec.domain);
    super(spec.name, spec.role, spec.address, {
      controlSockets: async () => {
        await virsh.ensureRunning();
        const sockets = parseControlSockets(await virsh.run(["dumpxml", spec.domain]));
        if (sockets.length === 0)
          throw new RunError(
            `libvirt domain ${spec.domain} on ${virsh.uri} has no virtio-serial channel of type unix (mode bind): ` +
              "the project's guest image runs commands through one (README: endpoints)",
          );
        return sockets;
      },
    });
    this.virsh = virsh;
  }

  get domain(): string {
    return this.virsh.domain;
  }

  async interfaces(): Promise<DomainInterface[]> {
    return parseDomiflist(await this.virsh.run(["domiflist", this.domain]));
  }

  async domstats(): Promise<DomainStats> {
    return parseDomstats(await this.virsh.run(["domstats", this.domain]));
  }

  protected override async qmpReplies(commands: QmpCommand[]): Promise<unknown[]> {
    await this.virsh.ensureRunning();
    const replies: unknown[] = [];
    for (const command of commands) {
      const reply = await this.virsh.run(["qemu-monitor-command", this.domain, JSON.stringify(command)]);
      replies.push((JSON.parse(reply) as { return?: unknown }).return);
    }
    return replies;
  }

  /** The domain's qemu process and vCPU threads (QMP through libvirt), to split CPU and pin. */
  override async hypervisorTasks(): Promise<HypervisorTasks> {
    await this.virsh.ensureRunning();
    const reply = await this.virsh.run([
      "qemu-monitor-command",
      "--pretty",
      this.domain,
      JSON.stringify({ execute: "query-cpus-fast" }),
    ]);
    const vcpus = parseQueryCpusFast(reply);
    const pid = await qemuPidOf(vcpus.map((v) => v.tid));
    return {
      qemuPids: [pid],
      vcpuTids: vcpus.map((v) => v.tid),
      libvirt: [{ domain: this.domain, uri: this.virsh.uri, pid, vcpus }],
    };
  }
}
