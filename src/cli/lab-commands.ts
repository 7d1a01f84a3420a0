// `vnetbench lab up|down|status|link`: the netns lab by hand (run brings one up by itself).

import type { Command } from "commander";
import type { NetnsEndpoint } from "../endpoints/netns.js";
import { InputError } from "../errors.js";
import type { LinkOptions, LinkShaping } from "../labs/link-options.js";
import type { LabGuest } from "../labs/qemu-lab.js";
import { DEFAULT_LAB_NAME, LAB_LINKS, LAB_NODES, type LabLinkName, type LabNode } from "../labs/topology.js";
import { formatTable } from "../report/table.js";

function number(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0)
    throw new InputError(`--${flag}: '${value}' is not a non-negative number`);
  return parsed;
}

function linkOptionsFrom(options: Record<string, string | boolean | undefined>): LinkOptions {
  const shaping: LinkShaping = {
    delayMs: number("delay-ms", options.delayMs as string | undefined),
    jitterMs: number("jitter-ms", options.jitterMs as string | undefined),
    lossPercent: number("loss-percent", options.lossPercent as string | undefined),
    rateMbit: number("rate-mbit", options.rateMbit as string | undefined),
  };
  const anyShaping = Object.values(shaping).some((value) => value !== undefined);
  return {
    mtu: number("mtu", options.mtu as string | undefined),
    shaping: options.clear ? null : anyShaping ? shaping : undefined,
    direction: options.direction as string | undefined,
  };
}

function linkName(value: string): LabLinkName {
  if (!(LAB_LINKS as readonly string[]).includes(value)) {
    throw new InputError(`link '${value}' is not one of ${LAB_LINKS.join(", ")}`);
  }
  return value as LabLinkName;
}

const print = (json: boolean | undefined, value: unknown, text: string) =>
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);

export function registerLabCommands(program: Command): void {
  const lab = program
    .command("lab")
    .description("the netns lab: host1 (g1, g2 on br0), host2 (g3), ext — needs root");

  lab
    .command("up")
    .description("build the lab")
    .option("--name <name>", "prefix of every namespace and interface", DEFAULT_LAB_NAME)
    .option("--subnet <cidr>", "IPv4 /16 the lab takes its addresses from (default 10.213.0.0/16)")
    .option("--force", "remove a lab of the same name first")
    .option("--guests <kind>", "g1, g2, g3 as netns (namespaces) or qemu (virtual machines on taps)", "netns")
    .option("--kernel <file>", "qemu guests: your own kernel (with --initrd) instead of `image build`'s")
    .option("--initrd <file>", "qemu guests: your own initramfs")
    .option("--queues <n>", "qemu guests: virtio-net queue pairs (multi-queue tap)")
    .option("--no-vhost", "qemu guests: vhost-net off (it is on where /dev/vhost-net exists)")
    .option("--json", "print the lab as JSON")
    .action(async (options) => {
      const { labUp } = await import("../labs/netns-lab.js");
      const { parseGuestKind } = await import("../labs/qemu-lab.js");
      const up = await labUp({
        name: options.name,
        baseSubnet: options.subnet,
        force: options.force,
        guests: parseGuestKind(options.guests),
        qemu: {
          kernel: options.kernel,
          initrd: options.initrd,
          hardware: {
            vhost: options.vhost,
            ...(options.queues !== undefined ? { queues: number("queues", options.queues) } : {}),
          },
        },
      });
      const rows = Object.entries(up.endpoints).map(([node, endpoint]) => {
        const record = up.qemu?.records[node as LabGuest];
        const where = record
          ? `qemu pid ${record.pid} (${record.accelerator.accel}, booted in ${(record.bootMs / 1000).toFixed(1)} s)`
          : `netns ${(endpoint as NetnsEndpoint).namespace}`;
        return [node, where, endpoint.role, endpoint.address];
      });
      print(
        options.json,
        { name: up.name, guests: up.guests, addresses: up.topology.addresses, qemu: up.qemu },
        formatTable(["node", "where", "role", "address"], rows),
      );
    });

  lab
    .command("exec")
    .description("run a command on a lab node (namespace or guest), print its output, exit with its status")
    .argument("<node>", `one of ${LAB_NODES.join(", ")}`)
    .argument("<command...>", "the command and its arguments (after --)")
    .option("--name <name>", "lab name", DEFAULT_LAB_NAME)
    .option("--timeout <seconds>", "give up after this long", "60")
    .action(async (node: string, command: string[], options) => {
      const { openLab } = await import("../labs/netns-lab.js");
      if (!(LAB_NODES as readonly string[]).includes(node))
        throw new InputError(`lab node '${node}' is not one of ${LAB_NODES.join(", ")}`);
      const lab = await openLab(options.name);
      const result = await lab.endpoints[node as LabNode].exec(command, {
        allowFailure: true,
        timeoutMs: (number("timeout", options.timeout) ?? 60) * 1000,
      });
      process.stdout.write(result.stdout);
      process.stderr.write(result.stderr);
      process.exitCode = result.code ?? 1;
    });

  lab
    .command("down")
    .description(
      "remove everything the lab made (idempotent; also cleans a lab left by a killed run, restoring the settings it changed)",
    )
    .option("--name <name>", "lab name", DEFAULT_LAB_NAME)
    .option("--json", "print what was removed (and restored) as JSON")
    .action(async (options) => {
      const { labDownRestoring } = await import("../api.js");
      const { removed, restored } = await labDownRestoring(options.name);
      const lines = [
        ...(restored.length ? [`restored ${restored.join(", ")}`] : []),
        removed.length ? `removed ${removed.join(", ")}` : `lab ${options.name} was not up`,
      ];
      print(options.json, { removed, restored }, lines.join("\n"));
    });

  lab
    .command("status")
    .description("is the lab up, down or partly there, and what is missing")
    .option("--name <name>", "lab name", DEFAULT_LAB_NAME)
    .option("--json", "print as JSON")
    .action(async (options) => {
      const { labStatus } = await import("../labs/netns-lab.js");
      const status = await labStatus(options.name);
      const links = status.links.map((link) => [
        link.name,
        String(link.mtu),
        link.qdiscs.join(" "),
        link.shaped,
      ]);
      const text = [
        `lab ${options.name}: ${status.state}`,
        ...status.problems.map((problem) => `  ${problem}`),
        ...(links.length ? ["", formatTable(["link", "mtu", "qdiscs", "shaped"], links, [2, 3])] : []),
      ].join("\n");
      print(options.json, status, text);
    });

  lab
    .command("link")
    .description(`set a link's MTU and shaping (links: ${LAB_LINKS.join(", ")})`)
    .argument("<link>", "link name")
    .option("--name <name>", "lab name", DEFAULT_LAB_NAME)
    .option("--mtu <bytes>", "MTU of both ends")
    .option("--rate-mbit <n>", "token-bucket rate limit, Mbit/s")
    .option("--delay-ms <n>", "netem one-way delay, ms (needs sch_netem)")
    .option("--jitter-ms <n>", "netem jitter, ms")
    .option("--loss-percent <n>", "netem random loss, %")
    .option(
      "--direction <way>",
      "which way to shape: both (default), or FROM-to-TO between the link's ends, e.g. host1-to-g1",
    )
    .option("--clear", "remove the link's shaping")
    .action(async (link, options) => {
      const { labStatus, openLab, setLinkOptions } = await import("../labs/netns-lab.js");
      await setLinkOptions(await openLab(options.name), linkName(link), linkOptionsFrom(options));
      const status = (await labStatus(options.name)).links.find((item) => item.name === link);
      process.stdout.write(
        `link ${link} of lab ${options.name} updated: mtu ${status?.mtu}, shaped ${status?.shaped}\n`,
      );
    });
}
