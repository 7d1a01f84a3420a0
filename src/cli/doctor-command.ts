// `vnetbench doctor`: per endpoint, which drivers and monitors are usable and why not.

import type { Command } from "commander";
import type { Endpoint } from "../endpoints/endpoint.js";
import { formatTable } from "../report/table.js";

async function endpointsFor(options: { lab?: string; endpoints?: string }): Promise<readonly Endpoint[]> {
  if (options.endpoints) {
    const { loadEndpointsFile } = await import("../endpoints/endpoints-file.js");
    return (await loadEndpointsFile(options.endpoints)).endpoints;
  }
  if (options.lab) {
    const { openLab } = await import("../labs/netns-lab.js");
    return Object.values((await openLab(options.lab)).endpoints);
  }
  const { LocalEndpoint } = await import("../endpoints/local.js");
  return [new LocalEndpoint("local", "127.0.0.1", "host")];
}

export function registerDoctorCommand(program: Command): void {
  program
    .command("doctor")
    .description("which drivers and monitors each endpoint can use, and why not")
    .option("--lab <name>", "check the endpoints of this lab")
    .option("--endpoints <file>", "check the endpoints an endpoints file describes")
    .option("--json", "print as JSON")
    .action(async (options) => {
      const { doctor } = await import("../doctor.js");
      const report = await doctor(await endpointsFor(options));
      if (options.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return;
      }
      const rows = report.flatMap((entry) =>
        entry.capabilities.map((capability) => [
          `${entry.endpoint} (${entry.kind}, ${entry.role})`,
          capability.name,
          capability.usable ? "yes" : "no",
          capability.detail,
        ]),
      );
      process.stdout.write(
        `${formatTable(["endpoint", "capability", "usable", "detail"], rows, [1, 2, 3])}\n`,
      );
    });
}
