import { describe, expect, it } from "vitest";
import { githubRepoOf } from "./gh.js";

describe("githubRepoOf", () => {
  it("reads the host and OWNER/NAME of the URL forms git takes", () => {
    expect(githubRepoOf("https://github.com/acme/widget.git")).toEqual({ host: "github.com", slug: "acme/widget" });
    expect(githubRepoOf("https://x-access-token:ghs_abc@github.com/acme/widget")).toEqual({ host: "github.com", slug: "acme/widget" });
    expect(githubRepoOf("git@github.com:acme/widget.git")).toEqual({ host: "github.com", slug: "acme/widget" });
    expect(githubRepoOf("ssh://git@GHE.example.com:2222/acme/widget.git/")).toEqual({ host: "ghe.example.com", slug: "acme/widget" });
  });

  it("is undefined for a path on this machine or a URL that names no OWNER/NAME", () => {
    expect(githubRepoOf("/srv/git/widget.git")).toBeUndefined();
    expect(githubRepoOf("../origin.git")).toBeUndefined();
    expect(githubRepoOf("file:///srv/git/widget.git")).toBeUndefined();
    expect(githubRepoOf("https://example.com/widget.git")).toBeUndefined();
  });
});
