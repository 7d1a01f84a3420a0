// The local endpoint: this host, this network namespace.

import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { type ExecOptions, execCommand, startProcess } from "../util/process.js";
import type { Endpoint, EndpointRole } from "./endpoint.js";

/** The compiled CLI, run by the same Node binary (from sources under tsx, the build in dist/). */
export function localVnetbenchCommand(): string[] {
  const fromSource = import.meta.url.endsWith(".ts");
  const main = new URL(fromSource ? "../../dist/src/cli/main.js" : "../cli/main.js", import.meta.url);
  return [process.execPath, fileURLToPath(main)];
}

/** The agent alone (see agent-main.ts), for endpoints where loading the whole CLI is slow. */
export function localAgentCommand(): string[] {
  const fromSource = import.meta.url.endsWith(".ts");
  const main = new URL(
    fromSource ? "../../dist/src/drivers/builtin/agent-main.js" : "../drivers/builtin/agent-main.js",
    import.meta.url,
  );
  return [process.execPath, fileURLToPath(main)];
}

export class LocalEndpoint implements Endpoint {
  readonly kind = "local" as const;

  constructor(
    readonly name = "local",
    readonly address = "127.0.0.1",
    readonly role: EndpointRole = "host",
  ) {}

  exec(argv: readonly string[], options?: ExecOptions) {
    return execCommand(argv, options);
  }

  start(argv: readonly string[]) {
    return startProcess(argv);
  }

  readFile(path: string): Promise<string> {
    // /proc and /sys never wait on a disk, and the async path costs ~20× the CPU (the monitor reads
    // them 10 times a second); everything else stays asynchronous.
    if (path.startsWith("/proc/") || path.startsWith("/sys/")) {
      try {
        return Promise.resolve(readFileSync(path, "utf8"));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return readFile(path, "utf8");
  }

  vnetbenchCommand(): string[] {
    return localVnetbenchCommand();
  }
}
