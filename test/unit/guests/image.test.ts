import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { cpioArchive } from "../../../src/guests/cpio.js";
import { imageKey, initramfsEntries, parseKernelDependency } from "../../../src/guests/image.js";
import { GUEST_MODULES } from "../../../src/guests/init-script.js";

const cpioAvailable = spawnSync("cpio", ["--version"]).status === 0;

test("the newc archive lists back with cpio(1), with types, modes and contents", {
  skip: !cpioAvailable,
}, () => {
  const archive = cpioArchive([
    { path: "bin", type: "directory", mode: 0o755 },
    { path: "bin/tool", type: "file", mode: 0o755, data: Buffer.from("abc") },
    { path: "bin/sh", type: "symlink", mode: 0o777, data: Buffer.from("tool") },
  ]);
  const listed = spawnSync("cpio", ["-itv", "--quiet"], { input: archive });
  assert.equal(listed.status, 0, String(listed.stderr));
  const lines = String(listed.stdout).trim().split("\n");
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^drwxr-xr-x .* bin$/);
  assert.match(lines[1]!, /^-rwxr-xr-x .* 3 .* bin\/tool$/);
  assert.match(lines[2]!, /^lrwxrwxrwx .* bin\/sh -> tool$/);
  const extracted = spawnSync("cpio", ["-i", "--to-stdout", "--quiet", "bin/tool"], { input: archive });
  assert.equal(String(extracted.stdout), "abc");
});

test("the same entries give the same bytes", () => {
  const entries = () => initramfsEntries(Buffer.from("busybox"), modules());
  assert.deepEqual(cpioArchive(entries()), cpioArchive(entries()));
});

function modules(): Map<string, Buffer> {
  return new Map(GUEST_MODULES.map((m) => [m.split("/").pop()!, Buffer.from(m)]));
}

test("a module missing from the kernel package is named", () => {
  const partial = modules();
  partial.delete("virtio_net");
  assert.throws(
    () => initramfsEntries(Buffer.from("x"), partial),
    /module virtio_net is not in the kernel package/,
  );
});

test("the kernel package is read from apt-cache depends", () => {
  const output = "linux-image-amd64\n  Depends: linux-image-6.1.0-57-amd64\n";
  assert.equal(parseKernelDependency(output), "linux-image-6.1.0-57-amd64");
  assert.equal(parseKernelDependency("linux-image-amd64\n"), undefined);
});

test("the cache key changes with each input", () => {
  const base = {
    kernelPackage: "linux-image-6.1.0-57-amd64",
    kernelVersion: "6.1.192-3",
    busyboxVersion: "1.35",
  };
  const key = imageKey(base);
  assert.equal(imageKey({ ...base }), key);
  assert.notEqual(imageKey({ ...base, kernelVersion: "6.1.192-4" }), key);
  assert.notEqual(imageKey({ ...base, busyboxVersion: "1.36" }), key);
});
