// A newc ("070701") cpio archive, the format the kernel unpacks as an initramfs. Written here rather
// than by cpio(1) so the bytes depend on the contents alone: no inode numbers, owners or times.

export interface CpioEntry {
  /** Path inside the archive, without a leading slash (e.g. "bin/busybox"). */
  path: string;
  type: "file" | "directory" | "symlink";
  /** Permission bits, e.g. 0o755. */
  mode: number;
  /** File contents, or the target of a symlink. */
  data?: Buffer;
}

const TYPE_BITS = { file: 0o100000, directory: 0o040000, symlink: 0o120000 } as const;
const TRAILER = "TRAILER!!!";

function hex8(value: number): string {
  return value.toString(16).padStart(8, "0");
}

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

function record(ino: number, name: string, mode: number, data: Buffer): Buffer[] {
  const nameBytes = Buffer.from(`${name}\0`, "utf8");
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  const fields = [ino, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, nameBytes.length, 0];
  const header = Buffer.from(`070701${fields.map(hex8).join("")}`, "ascii");
  return [header, nameBytes, pad4(header.length + nameBytes.length), data, pad4(data.length)];
}

/** The archive of the entries, in the order given (parents before children), ending in its trailer. */
export function cpioArchive(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((entry, i) => {
    const data = entry.type === "directory" ? Buffer.alloc(0) : (entry.data ?? Buffer.alloc(0));
    parts.push(...record(i + 1, entry.path, TYPE_BITS[entry.type] | (entry.mode & 0o7777), data));
  });
  parts.push(...record(0, TRAILER, 0, Buffer.alloc(0)));
  return Buffer.concat(parts);
}
