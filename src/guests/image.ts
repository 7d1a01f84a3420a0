// `vnetbench image build`: a guest kernel and initramfs made from Debian packages, cached under a
// key of everything that goes into them, so a rebuild with the same inputs is the same bytes.
// Only vmlinuz and the modules of init-script.ts are taken from the kernel package (8 of 391 MB).

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { InputError, RunError } from "../errors.js";
import { type CommandError, describeArgv, execCommand } from "../util/process.js";
import { type CpioEntry, cpioArchive } from "./cpio.js";
import { GUEST_MODULES, INIT_SCRIPT } from "./init-script.js";

/** A guest's boot files: built here, or the user's own. */
export interface GuestImage {
  kernel: string;
  initrd: string;
  /** The kernel's release (uname -r) when known. */
  kernelRelease?: string;
  /** Where it came from: the Debian packages and versions, or "user". */
  source: Record<string, string>;
}

export interface ImageBuildOptions {
  /** Debian kernel package (default: the one linux-image-amd64 depends on). */
  kernelPackage?: string;
  /** Cache directory (default $VNETBENCH_CACHE, else $XDG_CACHE_HOME/vnetbench, else ~/.cache/vnetbench). */
  cacheDir?: string;
  /** Rebuild even when the cache holds this image. */
  force?: boolean;
}

export interface BuiltImage extends GuestImage {
  key: string;
  cached: boolean;
  directory: string;
}

const BUSYBOX_PACKAGE = "busybox-static";
const BUSYBOX_BINARY = "/bin/busybox";
const META_PACKAGE = "linux-image-amd64";

export function defaultCacheDir(): string {
  if (process.env.VNETBENCH_CACHE) return process.env.VNETBENCH_CACHE;
  const xdg = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(xdg, "vnetbench");
}

/** The image's cache key: every input that changes its bytes. */
export function imageKey(inputs: { kernelPackage: string; kernelVersion: string; busyboxVersion: string }) {
  const hash = createHash("sha256");
  hash.update(JSON.stringify({ ...inputs, modules: GUEST_MODULES, init: INIT_SCRIPT }));
  return hash.digest("hex").slice(0, 16);
}

/** The kernel package linux-image-amd64 depends on, from `apt-cache depends` output. */
export function parseKernelDependency(output: string): string | undefined {
  return /Depends:\s*(linux-image-\S+-amd64)\b/.exec(output)?.[1];
}

async function aptVersion(pkg: string): Promise<string> {
  const result = await execCommand(["apt-cache", "policy", pkg], { timeoutMs: 30_000 }).catch(() => null);
  const candidate = result && /Candidate:\s*(\S+)/.exec(result.stdout)?.[1];
  if (!candidate || candidate === "(none)") {
    throw new InputError(
      `Debian package ${pkg} is not available: run \`apt-get update\` (and check the package name)`,
    );
  }
  return candidate;
}

async function installedVersion(pkg: string): Promise<string> {
  // dpkg-query's own ${field} syntax, not a template.
  const format = "-f=$" + "{Status} $" + "{Version}";
  const result = await execCommand(["dpkg-query", "-W", format, pkg], {
    allowFailure: true,
    timeoutMs: 10_000,
  }).catch(() => null);
  const match = result && /install ok installed (\S+)/.exec(result.stdout);
  if (!match || !existsSync(BUSYBOX_BINARY)) {
    throw new InputError(`Debian package ${pkg} is not installed: apt-get install ${pkg}`);
  }
  return match[1]!;
}

/** Runs `producer | consumer`, failing with the first one's error; both are killed past the timeout. */
function pipeline(producer: string[], consumer: string[], cwd: string, timeoutMs = 600_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const a = spawn(producer[0]!, producer.slice(1), { cwd, stdio: ["ignore", "pipe", "pipe"] });
    const b = spawn(consumer[0]!, consumer.slice(1), { cwd, stdio: ["pipe", "ignore", "pipe"] });
    const timer = setTimeout(() => {
      a.kill("SIGKILL");
      b.kill("SIGKILL");
      reject(
        new RunError(
          `image build: ${describeArgv(producer)} | ${describeArgv(consumer)} did not end within ${timeoutMs / 1000} s`,
        ),
      );
    }, timeoutMs);
    a.stdout.pipe(b.stdin);
    b.stdin.on("error", () => {});
    const errors: string[] = [];
    a.stderr.on("data", (chunk) => errors.push(String(chunk)));
    b.stderr.on("data", (chunk) => errors.push(String(chunk)));
    let pending = 2;
    const done = (name: string) => (code: number | null) => {
      if (code !== 0) errors.unshift(`${name} exited ${code}`);
      if (--pending === 0) {
        clearTimeout(timer);
        if (errors.length) reject(new RunError(`image build: ${errors.join(" | ").trim()}`));
        else resolve();
      }
    };
    a.on("error", (error) => reject(new RunError(`image build: ${producer[0]}: ${error.message}`)));
    b.on("error", (error) => reject(new RunError(`image build: ${consumer[0]}: ${error.message}`)));
    a.on("close", done(producer[0]!));
    b.on("close", done(consumer[0]!));
  });
}

/** The initramfs entries: busybox, /init, the modules, and the directories /init mounts on. */
export function initramfsEntries(busybox: Buffer, modules: Map<string, Buffer>): CpioEntry[] {
  const dir = (path: string): CpioEntry => ({ path, type: "directory", mode: 0o755 });
  const entries: CpioEntry[] = ["bin", "dev", "etc", "host", "lib", "lib/modules", "proc", "sys", "tmp"].map(
    dir,
  );
  entries.push({ path: "bin/busybox", type: "file", mode: 0o755, data: busybox });
  entries.push({ path: "bin/sh", type: "symlink", mode: 0o777, data: Buffer.from("busybox") });
  entries.push({ path: "init", type: "file", mode: 0o755, data: Buffer.from(INIT_SCRIPT) });
  const names = GUEST_MODULES.map((module) => module.split("/").pop()!);
  entries.push({
    path: "etc/vnetbench-modules",
    type: "file",
    mode: 0o644,
    data: Buffer.from(`${names.join("\n")}\n`),
  });
  for (const name of names) {
    const data = modules.get(name);
    if (!data) throw new RunError(`image build: module ${name} is not in the kernel package`);
    entries.push({ path: `lib/modules/${name}.ko`, type: "file", mode: 0o644, data });
  }
  return entries;
}

async function findFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

/** Builds (or finds in the cache) the guest image. */
export async function buildImage(options: ImageBuildOptions = {}): Promise<BuiltImage> {
  let kernelPackage = options.kernelPackage;
  if (!kernelPackage) {
    const depends = await execCommand(["apt-cache", "depends", META_PACKAGE], { timeoutMs: 30_000 }).catch(
      (error: CommandError) => ({ stdout: "", stderr: error.message }),
    );
    kernelPackage = parseKernelDependency(depends.stdout);
    if (!kernelPackage) {
      throw new InputError(
        `Debian package ${META_PACKAGE} is not known to apt: run \`apt-get update\`, or name a kernel package with --kernel-package`,
      );
    }
  }
  const kernelVersion = await aptVersion(kernelPackage);
  const busyboxVersion = await installedVersion(BUSYBOX_PACKAGE);
  const key = imageKey({ kernelPackage, kernelVersion, busyboxVersion });
  const directory = join(options.cacheDir ?? defaultCacheDir(), "images", key);
  const manifestPath = join(directory, "manifest.json");
  const source = { kernelPackage, kernelVersion, busybox: `${BUSYBOX_PACKAGE} ${busyboxVersion}` };
  if (!options.force && existsSync(manifestPath)) {
    const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as { kernelRelease: string };
    return {
      key,
      cached: true,
      directory,
      kernel: join(directory, "vmlinuz"),
      initrd: join(directory, "initrd.img"),
      kernelRelease: manifest.kernelRelease,
      source,
    };
  }
  await mkdir(join(options.cacheDir ?? defaultCacheDir(), "images"), { recursive: true });
  const work = await mkdtemp(join(tmpdir(), "vnetbench-image-"));
  try {
    try {
      await execCommand(["apt-get", "download", `${kernelPackage}=${kernelVersion}`], {
        timeoutMs: 600_000,
        cwd: work,
        env: { ...process.env, LC_ALL: "C" },
      }).then(() => undefined);
    } catch (error) {
      throw new RunError(
        `image build: apt-get download ${kernelPackage} failed: ${(error as Error).message.slice(-300)}`,
      );
    }
    const deb = (await readdir(work)).find((name) => name.endsWith(".deb"));
    if (!deb) throw new RunError(`image build: apt-get download ${kernelPackage} left no .deb`);
    const patterns = ["./boot/vmlinuz-*", ...GUEST_MODULES.map((m) => `./lib/modules/*/${m}.ko`)];
    await pipeline(
      ["dpkg-deb", "--fsys-tarfile", deb],
      ["tar", "-x", "--wildcards", "-f", "-", ...patterns],
      work,
    );
    const bootFiles = await readdir(join(work, "boot"));
    const vmlinuz = bootFiles.find((name) => name.startsWith("vmlinuz-"));
    if (!vmlinuz) throw new RunError(`image build: ${kernelPackage} has no boot/vmlinuz-*`);
    const kernelRelease = vmlinuz.slice("vmlinuz-".length);
    const modules = new Map<string, Buffer>();
    for (const file of await findFiles(join(work, "lib"))) {
      modules.set(file.split("/").pop()!.replace(/\.ko$/, ""), await readFile(file));
    }
    const entries = initramfsEntries(await readFile(BUSYBOX_BINARY), modules);
    const staging = `${directory}.tmp-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    // gzip without a name or time in its header: the same inputs give the same bytes.
    await writeFile(join(staging, "initrd.img"), gzipSync(cpioArchive(entries), { level: 6 }));
    await writeFile(join(staging, "vmlinuz"), await readFile(join(work, "boot", vmlinuz)));
    await writeFile(
      join(staging, "manifest.json"),
      `${JSON.stringify({ key, kernelRelease, ...source, modules: GUEST_MODULES }, null, 2)}\n`,
    );
    await rm(directory, { recursive: true, force: true });
    await rename(staging, directory);
    return {
      key,
      cached: false,
      directory,
      kernel: join(directory, "vmlinuz"),
      initrd: join(directory, "initrd.img"),
      kernelRelease,
      source,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
