import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TailBuffer, firstCharBoundary } from "./tail-buffer.js";

const utf8 = (text: string): Buffer => Buffer.from(text, "utf8");

describe("TailBuffer", () => {
  it("keeps everything while under the limit", () => {
    const tail = new TailBuffer(100);
    tail.push(utf8("hello "));
    tail.push(utf8("world"));
    expect(tail.toString()).toBe("hello world");
    expect(tail.droppedBytes).toBe(0);
  });

  it("keeps only the last bytes, across and within chunks", () => {
    const tail = new TailBuffer(5);
    tail.push(utf8("abc"));
    tail.push(utf8("defg"));
    expect(tail.toString()).toBe("cdefg");
    tail.push(utf8("0123456789"));
    expect(tail.toString()).toBe("56789");
    expect(tail.totalBytes).toBe(17);
    expect(tail.droppedBytes).toBe(12);
  });

  it("starts at a whole character when the cut fell inside one", () => {
    const tail = new TailBuffer(5);
    tail.push(utf8("ab🎉cd")); // the cut leaves the last 3 bytes of 🎉
    expect(tail.toString()).toBe("cd");
    expect(firstCharBoundary(utf8("é").subarray(1))).toBe(1);
  });

  it("does not keep a reference to the caller's buffer", () => {
    const tail = new TailBuffer(10);
    const chunk = utf8("abc");
    tail.push(chunk);
    chunk.fill(0x7a);
    expect(tail.toString()).toBe("abc");
  });

  it("with a limit of 0 keeps nothing but counts", () => {
    const tail = new TailBuffer(0);
    tail.push(utf8("abc"));
    expect(tail.toString()).toBe("");
    expect(tail.totalBytes).toBe(3);
  });

  it("holds the same bytes as the end of the whole stream, for any chunking", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 20 }), fc.nat(64), (chunks, limit) => {
        const tail = new TailBuffer(limit);
        for (const chunk of chunks) tail.push(chunk);
        const all = Buffer.concat(chunks);
        expect(tail.bytes().equals(all.subarray(Math.max(0, all.length - limit)))).toBe(true);
      }),
    );
  });
});
