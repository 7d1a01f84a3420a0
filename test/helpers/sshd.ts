// A throw-away OpenSSH server on 127.0.0.1 for tests: its own host key, a client key, an ssh_config
// that points at it, all in a temp dir removed on stop.

import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execCommand, type LongRunning, startProcess } from "../../src/util/process.js";

export interface TestSshd {
  port: number;
  /** A Host alias of `configFile` that logs in as this user with the throw-away key. */
  hostAlias: string;
  configFile: string;
  dir: string;
  stop(): Promise<void>;
}

/** A TCP port free right now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== "object" || !address) throw new Error("no port");
  return address.port;
}

const PRIVSEP_DIR = "/run/sshd";

export async function startSshd(): Promise<TestSshd> {
  const dir = await mkdtemp(join(tmpdir(), "vnb-sshd-"));
  const port = await freePort();
  const user = (await execCommand(["id", "-un"])).stdout.trim();
  await execCommand(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")]);
  await execCommand(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", join(dir, "client_key")]);
  await writeFile(join(dir, "authorized_keys"), await readFile(join(dir, "client_key.pub")));
  const hostKey = (await readFile(join(dir, "host_key.pub"), "utf8")).split(" ").slice(0, 2).join(" ");
  await writeFile(join(dir, "known_hosts"), `[127.0.0.1]:${port} ${hostKey}\n`);
  await writeFile(
    join(dir, "sshd_config"),
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${join(dir, "host_key")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "StrictModes no",
      "UsePAM no",
      "PermitRootLogin yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "LogLevel INFO",
      "",
    ].join("\n"),
  );
  const hostAlias = "vnb-test-sshd";
  const configFile = join(dir, "ssh_config");
  await writeFile(
    configFile,
    [
      `Host ${hostAlias}`,
      "  HostName 127.0.0.1",
      `  Port ${port}`,
      `  User ${user}`,
      `  IdentityFile ${join(dir, "client_key")}`,
      "  IdentitiesOnly yes",
      `  UserKnownHostsFile ${join(dir, "known_hosts")}`,
      "  StrictHostKeyChecking yes",
      "  LogLevel ERROR",
      "",
    ].join("\n"),
  );
  // sshd refuses to start without its privilege separation directory, which Debian's service
  // unit creates at boot; where no sshd service ever ran, the test makes it (and removes it after).
  const madePrivsep = !existsSync(PRIVSEP_DIR);
  if (madePrivsep) await mkdir(PRIVSEP_DIR, { mode: 0o755 });
  const sshd: LongRunning = startProcess(["/usr/sbin/sshd", "-D", "-e", "-f", join(dir, "sshd_config")]);
  let log = "";
  sshd.stderr.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  const stop = async () => {
    await sshd.stop();
    await rm(dir, { recursive: true, force: true });
    if (madePrivsep) await rmdir(PRIVSEP_DIR).catch(() => {});
  };
  const deadline = Date.now() + 10_000;
  while (!/Server listening/.test(log)) {
    const exited = await Promise.race([sshd.exited.then(() => true), sleep(50).then(() => false)]);
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`sshd did not start: ${log.trim()}`);
    }
  }
  return { port, hostAlias, configFile, dir, stop };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
