import { describe, expect, it } from "vitest";
import { formatSize, parseSize } from "./size.js";

describe("sizes", () => {
  it("parses binary sizes as users type them", () => {
    expect(parseSize("512m")).toBe(512 * 1024 ** 2);
    expect(parseSize("4g")).toBe(4 * 1024 ** 3);
    expect(parseSize("4G")).toBe(4 * 1024 ** 3);
    expect(parseSize("1.5gb")).toBe(1.5 * 1024 ** 3);
    expect(parseSize("100MiB")).toBe(100 * 1024 ** 2);
    expect(parseSize(" 2048 k ")).toBe(2048 * 1024);
    expect(parseSize("1t")).toBe(1024 ** 4);
    expect(parseSize("300b")).toBe(300);
  });

  it("refuses what is not a size, a bare number (bytes or MB?) and zero", () => {
    for (const bad of ["", "abc", "4", "4096", "4x", "g4", "-1g", "0m", "0.0000001k", "4 g b", "1e3m", "4gig"]) {
      expect(parseSize(bad), bad).toBeUndefined();
    }
  });

  it("prints sizes with one decimal at most", () => {
    expect(formatSize(2.3 * 1024 ** 3)).toBe("2.3 GB");
    expect(formatSize(2 * 1024 ** 3)).toBe("2 GB");
    expect(formatSize(100 * 1024 ** 2)).toBe("100 MB");
    expect(formatSize(123.45 * 1024 ** 2)).toBe("123.5 MB");
    expect(formatSize(2.0049 * 1024 ** 3, 2)).toBe("2 GB");
    expect(formatSize(2.05 * 1024 ** 3, 2)).toBe("2.05 GB");
    expect(formatSize(12 * 1024)).toBe("12 KB");
    expect(formatSize(300)).toBe("300 bytes");
  });
});
