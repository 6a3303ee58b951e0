import { describe, expect, it } from "vitest";
import { HeadTailBuffer } from "./head-tail-buffer.js";

const utf8 = (text: string): Buffer => Buffer.from(text, "utf8");

describe("HeadTailBuffer", () => {
  it("returns everything when under the limit, joining a character split between head and tail", () => {
    const buffer = new HeadTailBuffer(8);
    const bytes = utf8("abé🎉"); // 2 + 2 + 4 = 8 bytes; the head (4) ends inside nothing, the tail starts at 🎉
    buffer.push(bytes.subarray(0, 3));
    buffer.push(bytes.subarray(3));
    expect(buffer.toString()).toBe("abé🎉");
    const split = new HeadTailBuffer(6);
    split.push(utf8("aéb")); // head is 3 bytes: "a" and half of "é"
    split.push(utf8("c"));
    expect(split.toString()).toBe("aébc");
  });

  it("keeps the head and the tail with a marker when over the limit", () => {
    const buffer = new HeadTailBuffer(10);
    buffer.push(utf8("start-"));
    buffer.push(utf8("x".repeat(1000)));
    buffer.push(utf8("-end"));
    expect(buffer.toString()).toBe("start\n… [1000 bytes omitted] …\nx-end");
    expect(buffer.omittedBytes).toBe(1000);
    expect(buffer.totalBytes).toBe(1010);
  });

  it("drops a character cut at the end of the head rather than garbling it", () => {
    const buffer = new HeadTailBuffer(4);
    buffer.push(utf8("aé" + "z".repeat(20)));
    expect(buffer.toString().startsWith("a\n")).toBe(true);
  });
});
