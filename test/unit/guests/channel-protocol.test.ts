import assert from "node:assert/strict";
import { test } from "node:test";
import { ReplyParser, requestLine } from "../../../src/guests/channel-protocol.js";

function parse(chunks: string[]) {
  const out = { pid: 0, stdout: "", code: -1, stderr: "" };
  const parser = new ReplyParser("n1", {
    pid: (pid) => (out.pid = pid),
    stdout: (chunk) => (out.stdout += chunk.toString()),
    end: (code, stderr) => {
      out.code = code;
      out.stderr = stderr.toString();
    },
  });
  for (const chunk of chunks) parser.push(Buffer.from(chunk));
  return { ...out, done: parser.done };
}

test("a reply is read whole however the bytes are split, skipping what came before its pid line", () => {
  const reply = "stale output\x01n0 rc 0 0\nn1 pid 42\nhello\nworld\x01n1 rc 3 4\noops";
  for (let size = 1; size <= reply.length; size++) {
    const chunks = reply.match(new RegExp(`[\\s\\S]{1,${size}}`, "g"))!;
    const result = parse(chunks);
    assert.deepEqual(
      result,
      { pid: 42, stdout: "hello\nworld", code: 3, stderr: "oops", done: true },
      `split ${size}`,
    );
  }
});

test("stdout that looks like another command's marker is passed through", () => {
  const result = parse(["n1 pid 7\n\x01n2 rc 1 0\nx\n\x01n1 rc 0 0\n"]);
  assert.equal(result.stdout, "\x01n2 rc 1 0\nx\n");
  assert.equal(result.code, 0);
});

test("a reply is not done until all of its stderr arrived", () => {
  assert.equal(parse(["n1 pid 7\n\x01n1 rc 1 5\nabc"]).done, false);
});

test("one-line commands go as they are, multi-line ones base64-encoded with an upper-case mode", () => {
  assert.equal(requestLine("n", "x", "exec cat /proc/stat"), "n x exec cat /proc/stat\n");
  const encoded = requestLine("n", "s", "printf %s 'a\nb'");
  assert.match(encoded, /^n S [A-Za-z0-9+/=]+\n$/);
  assert.equal(Buffer.from(encoded.split(" ")[2]!, "base64").toString(), "printf %s 'a\nb'");
});

test("stdout is passed on at once unless its tail could begin the end marker", () => {
  const seen: string[] = [];
  const parser = new ReplyParser("n1", {
    pid: () => {},
    stdout: (chunk) => seen.push(chunk.toString()),
    end: () => {},
  });
  parser.push(Buffer.from('n1 pid 1\n{"event":"listening"}\n'));
  assert.equal(seen.join(""), '{"event":"listening"}\n');
  parser.push(Buffer.from("more\n\x01n1 r"));
  assert.equal(seen.join(""), '{"event":"listening"}\nmore\n');
});
