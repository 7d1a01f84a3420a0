// libvirtd for a test, without systemd (GUESTLAB.md): only when none runs, and undone afterwards —
// the daemons it started ended by their PIDs, the user, directories and qemu.conf it made removed.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { execCommand } from "../../src/util/process.js";

const URI = "qemu:///system";
const QEMU_CONF = "/etc/libvirt/qemu.conf";
const RUNTIME_DIR = "/run/libvirt";
const DIRS = ["/var/log/libvirt/qemu", "/var/lib/libvirt/qemu", "/var/cache/libvirt/qemu"];
const DAEMONS = [
  { binary: "/usr/sbin/virtlogd", pidFile: "/run/virtlogd.pid" },
  { binary: "/usr/sbin/libvirtd", pidFile: "/run/libvirtd.pid" },
];

export interface Libvirtd {
  /** Why libvirtd cannot run here, when it cannot (the test then skips). */
  unusable?: string;
  stop(): Promise<void>;
}

function answers(): boolean {
  return spawnSync("virsh", ["-c", URI, "uri"], { timeout: 10_000 }).status === 0;
}

/** The PID in a pidfile, when that process is `binary`. */
function runningPid(pidFile: string, binary: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] === binary ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<void> {
  for (let waited = 0; waited < timeoutMs; waited += 100) {
    if (!existsSync(`/proc/${pid}`)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  process.kill(pid, "SIGKILL");
}

export async function ensureLibvirtd(): Promise<Libvirtd> {
  const nothing = async () => {};
  if (process.getuid?.() !== 0) return { unusable: "needs root", stop: nothing };
  if (!DAEMONS.every((d) => existsSync(d.binary)) || spawnSync("virsh", ["--version"]).status !== 0)
    return { unusable: "needs libvirt-daemon and libvirt-clients", stop: nothing };
  if (answers()) return { stop: nothing };

  const undo: Array<() => void> = [];
  const started: number[] = [];
  const stop = async () => {
    for (const pid of started.reverse()) {
      process.kill(pid, "SIGTERM");
      await waitGone(pid, 10_000);
    }
    for (const step of undo.reverse()) step();
  };
  try {
    // libvirtd looks its default qemu user up before it reads qemu.conf.
    if (spawnSync("getent", ["passwd", "libvirt-qemu"]).status !== 0) {
      await execCommand([
        "useradd",
        "--system",
        "--no-create-home",
        "--shell",
        "/usr/sbin/nologin",
        "libvirt-qemu",
      ]);
      undo.push(() => spawnSync("userdel", ["libvirt-qemu"]));
    }
    for (const dir of DIRS) {
      const top = dir.split("/").slice(0, 4).join("/");
      if (!existsSync(top)) undo.push(() => rmSync(top, { recursive: true, force: true }));
      mkdirSync(dir, { recursive: true });
    }
    const before = existsSync(QEMU_CONF) ? readFileSync(QEMU_CONF, "utf8") : undefined;
    undo.push(() =>
      before === undefined ? rmSync(QEMU_CONF, { force: true }) : writeFileSync(QEMU_CONF, before),
    );
    writeFileSync(QEMU_CONF, `${before ?? ""}\nuser = "root"\ngroup = "root"\n`);
    // The daemons' runtime directory goes with them when they made it.
    if (!existsSync(RUNTIME_DIR)) undo.push(() => rmSync(RUNTIME_DIR, { recursive: true, force: true }));
    for (const { binary, pidFile } of DAEMONS) {
      if (runningPid(pidFile, binary) !== undefined) continue;
      await execCommand([binary, "-d"], { timeoutMs: 30_000 });
      const pid = runningPid(pidFile, binary);
      if (pid === undefined) throw new Error(`${binary} -d started no process (no ${pidFile})`);
      started.push(pid);
    }
    for (let waited = 0; !answers(); waited += 500) {
      if (waited > 60_000) throw new Error(`libvirtd does not answer on ${URI} after 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return { stop };
  } catch (error) {
    await stop();
    return { unusable: `libvirtd cannot run here: ${(error as Error).message}`, stop: nothing };
  }
}
