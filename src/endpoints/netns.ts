// The netns endpoint: a network namespace on this host, entered with `ip netns exec`.

import { readFile } from "node:fs/promises";
import { type ExecOptions, execCommand, startProcess } from "../util/process.js";
import type { Endpoint, EndpointRole } from "./endpoint.js";
import { localVnetbenchCommand } from "./local.js";

export class NetnsEndpoint implements Endpoint {
  readonly kind = "netns" as const;

  constructor(
    readonly name: string,
    /** The namespace's name as `ip netns list` shows it. */
    readonly namespace: string,
    readonly role: EndpointRole,
    readonly address: string,
  ) {}

  /** argv prefixed so that it runs inside the namespace. */
  wrap(argv: readonly string[]): string[] {
    return ["ip", "netns", "exec", this.namespace, ...argv];
  }

  exec(argv: readonly string[], options?: ExecOptions) {
    return execCommand(this.wrap(argv), options);
  }

  // `ip netns exec` execs the command in place (no fork), so the PID startProcess signals on
  // stop is the command's own PID inside the namespace.
  start(argv: readonly string[]) {
    return startProcess(this.wrap(argv));
  }

  // Read through `ip netns exec` because it mounts a sysfs of the namespace: /sys/class/net
  // read from here would show this process's namespace instead. /proc outside its per-namespace
  // net/ is this machine's own: read here, without a spawn per read (the CPU monitor's samples).
  async readFile(path: string): Promise<string> {
    if (
      /^\/proc\/(?!(net|sys\/net|self\/net|thread-self\/net|\d+\/net|\d+\/task\/\d+\/net)(\/|$))/.test(path)
    )
      return readFile(path, "utf8");
    return (await this.exec(["cat", "--", path], { timeoutMs: 10_000 })).stdout;
  }

  vnetbenchCommand(): string[] {
    return localVnetbenchCommand();
  }
}
