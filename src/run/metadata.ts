// Facts about the machine a run ran on, recorded with the run so it can be reproduced.

import { readFileSync } from "node:fs";
import os from "node:os";

export function vnetbenchVersion(): string {
  for (const relative of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "vnetbench" && pkg.version) return pkg.version;
    } catch {
      // try the next layout (sources vs dist/)
    }
  }
  return "unknown";
}

function cpuModel(): string {
  return os.cpus()[0]?.model.trim() ?? "unknown";
}

export interface HostMetadata {
  vnetbenchVersion: string;
  hostname: string;
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  kernel: string;
  os: string;
  node: string;
}

export function localHostMetadata(): HostMetadata {
  return {
    vnetbenchVersion: vnetbenchVersion(),
    hostname: os.hostname(),
    cpuModel: cpuModel(),
    cores: os.cpus().length,
    memoryBytes: os.totalmem(),
    kernel: `${os.type()} ${os.release()} ${os.version()}`,
    os: `${os.platform()} ${os.arch()}`,
    node: process.version,
  };
}

export function defaultTester(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? "unknown";
  }
}
