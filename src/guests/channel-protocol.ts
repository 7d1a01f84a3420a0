// The guest control protocol, host side and pure: one command per line, "NONCE MODE LINE" (the
// shell line as is, or base64 with the mode in upper case when it spans lines); the guest answers "NONCE pid PID\n", the command's stdout as it
// comes, then "\x01NONCE rc CODE ERRBYTES\n" and that many bytes of stderr (see init-script.ts). The marker
// starts with a byte text never ends in, so stdout is passed on as it comes.

import { randomBytes } from "node:crypto";

export type ChannelMode = "x" | "s";

export function newNonce(): string {
  return randomBytes(8).toString("hex");
}

/** The request line for a shell command line. */
export function requestLine(nonce: string, mode: ChannelMode, shellLine: string): string {
  if (!/[\n\r]/.test(shellLine)) return `${nonce} ${mode} ${shellLine}\n`;
  return `${nonce} ${mode.toUpperCase()} ${Buffer.from(shellLine, "utf8").toString("base64")}\n`;
}

export interface ReplyEvents {
  pid(pid: number): void;
  stdout(chunk: Buffer): void;
  end(code: number, stderr: Buffer): void;
}

/**
 * Reads one reply from the byte stream of a port. Bytes before this nonce's pid line (left over
 * from an earlier connection) are skipped; stdout is passed on as it arrives, holding back only
 * what could be the start of the end marker.
 */
export class ReplyParser {
  private state: "header" | "body" | "trailer" | "stderr" | "done" = "header";
  private buffer: Buffer = Buffer.alloc(0);
  private readonly header: Buffer;
  private readonly marker: Buffer;
  private code = 0;
  private stderrBytes = 0;

  constructor(
    nonce: string,
    private readonly events: ReplyEvents,
  ) {
    this.header = Buffer.from(`${nonce} pid `);
    this.marker = Buffer.from(`\x01${nonce} rc `);
  }

  /** Length of the buffer's tail that could be the start of the end marker (held back). */
  private pendingMarker(): number {
    const from = Math.max(0, this.buffer.length - (this.marker.length - 1));
    for (let at = this.buffer.indexOf(1, from); at >= 0; at = this.buffer.indexOf(1, at + 1)) {
      const tail = this.buffer.subarray(at);
      if (this.marker.subarray(0, tail.length).equals(tail)) return tail.length;
    }
    return 0;
  }

  get done(): boolean {
    return this.state === "done";
  }

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      if (this.state === "header") {
        const at = this.buffer.indexOf(this.header);
        const newline = at < 0 ? -1 : this.buffer.indexOf(10, at);
        if (newline < 0) return;
        this.events.pid(Number(this.buffer.subarray(at + this.header.length, newline).toString()));
        this.buffer = this.buffer.subarray(newline + 1);
        this.state = "body";
      } else if (this.state === "body") {
        const at = this.buffer.indexOf(this.marker);
        if (at < 0) {
          const safe = this.buffer.length - this.pendingMarker();
          if (safe > 0) this.events.stdout(this.buffer.subarray(0, safe));
          this.buffer = this.buffer.subarray(safe);
          return;
        }
        if (at > 0) this.events.stdout(this.buffer.subarray(0, at));
        this.buffer = this.buffer.subarray(at + this.marker.length);
        this.state = "trailer";
      } else if (this.state === "trailer") {
        const newline = this.buffer.indexOf(10);
        if (newline < 0) return;
        const [code, bytes] = this.buffer.subarray(0, newline).toString().trim().split(/\s+/);
        this.code = Number(code);
        this.stderrBytes = Number(bytes) || 0;
        this.buffer = this.buffer.subarray(newline + 1);
        this.state = "stderr";
      } else if (this.state === "stderr") {
        if (this.buffer.length < this.stderrBytes) return;
        const stderr = this.buffer.subarray(0, this.stderrBytes);
        this.buffer = Buffer.alloc(0);
        this.state = "done";
        this.events.end(this.code, stderr);
        return;
      } else {
        return;
      }
    }
  }
}
