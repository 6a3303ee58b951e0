import { describe, expect, it } from "vitest";
import { FAKE_ENV, FAKE_SHAPES, fakePem } from "../../test/support/fake-secrets.js";
import { MAX_PEM_LINES } from "./pem-block.js";
import { createRedactor } from "./redact.js";
import { isSecretName, secretParts, secretValuesOf } from "./secret-shapes.js";

const bare = createRedactor({});

describe("which environment variables are secrets", () => {
  it("goes by name, case-insensitively: KEY, TOKEN, SECRET, PASSWORD, CREDENTIAL, AUTH", () => {
    for (const name of ["ANTHROPIC_API_KEY", "GITHUB_TOKEN", "gh_token", "AWS_SECRET_ACCESS_KEY", "PGPASSWORD", "GOOGLE_CREDENTIALS", "OAUTH_CLIENT", "my_Auth"]) {
      expect(isSecretName(name), name).toBe(true);
    }
    for (const name of ["PATH", "HOME", "GIT_AUTHOR_NAME", "XAUTHORITY", "SSH_AUTH_SOCK", "GOOGLE_API_KEY_FILE", "ANTHROPIC_BASE_URL", "CI"]) {
      expect(isSecretName(name), name).toBe(false);
    }
  });

  it("skips trivially short or boolean-ish values, so ordinary text is not mangled", () => {
    for (const value of ["", "1", "true", "FALSE", "yes", "off", "none", "abc", "1234567", "4096", "  true  ", "100000000"]) {
      expect(secretParts(value), JSON.stringify(value)).toEqual([]);
    }
    expect(secretParts("  s3cr3t-value  ")).toEqual(["s3cr3t-value"]);
  });

  it("hides the token-like lines of a value that spans lines, not its JSON braces", () => {
    expect(secretParts('{\n  "provider": "x",\n  "apiKey": "abc"\n}')).toEqual([]);
    expect(secretParts("line-one-token\nline-two-token\nshort")).toEqual(["line-one-token", "line-two-token"]);
  });

  it("adds the names an adapter passes whatever they are called, and the JSON-escaped form of a value", () => {
    const values = secretValuesOf({ CUSTOM_HEADERS: "X-Api: hunter22hunter", PLAIN: "not-a-secret-name", QUOTED_SECRET: 'pa"ss\\word99' }, ["CUSTOM_HEADERS"]);
    expect(values.get("X-Api: hunter22hunter")).toBe("CUSTOM_HEADERS");
    expect(values.has("not-a-secret-name")).toBe(false);
    expect(values.get('pa\\"ss\\\\word99')).toBe("QUOTED_SECRET");
  });
});

describe("redact", () => {
  it("replaces env secrets with a marker naming their variable, wherever they stand", () => {
    const r = createRedactor(FAKE_ENV);
    const text = `ANTHROPIC_API_KEY=${FAKE_ENV.ANTHROPIC_API_KEY}\ntoken:${FAKE_ENV.GITHUB_TOKEN}!\npw=${FAKE_ENV.DATABASE_PASSWORD}`;
    expect(r.redact(text)).toBe("ANTHROPIC_API_KEY=[redacted:ANTHROPIC_API_KEY]\ntoken:[redacted:GITHUB_TOKEN]!\npw=[redacted:DATABASE_PASSWORD]");
  });

  it("hides a JSON-escaped env secret inside an agent's JSON line", () => {
    const r = createRedactor({ DB_PASSWORD: 'quote"and\\slash-9' });
    const line = JSON.stringify({ type: "text", text: `the password is quote"and\\slash-9` });
    expect(r.redact(line)).toBe(JSON.stringify({ type: "text", text: "the password is [redacted:DB_PASSWORD]" }));
  });

  it("prefers the longest of two env secrets that overlap", () => {
    const r = createRedactor({ SHORT_TOKEN: "abcdefgh1", LONG_TOKEN: "abcdefgh1234" });
    expect(r.redact("abcdefgh1234 abcdefgh1")).toBe("[redacted:LONG_TOKEN] [redacted:SHORT_TOKEN]");
  });

  it.each([
    ["anthropic-key", FAKE_SHAPES["anthropic-key"]],
    ["openai-key", FAKE_SHAPES["openai-key"]],
    ["openai-key", FAKE_SHAPES["openai-legacy-key"]],
    ["google-api-key", FAKE_SHAPES["google-api-key"]],
    ["github-token", FAKE_SHAPES["github-token"]],
    ["github-token", FAKE_SHAPES["github-pat"]],
    ["slack-token", FAKE_SHAPES["slack-token"]],
    ["aws-access-key-id", FAKE_SHAPES["aws-access-key-id"]],
  ])("knows the shape of a %s", (label, secret) => {
    expect(bare.redact(`key "${secret}" here`)).toBe(`key "[redacted:${label}]" here`);
    expect(bare.redact(secret)).toBe(`[redacted:${label}]`);
  });

  it("keeps the name of an assignment or header and hides its value", () => {
    const aws = FAKE_SHAPES["aws-secret-key"];
    expect(bare.redact(`aws_secret_access_key = ${aws}`)).toBe("aws_secret_access_key = [redacted:aws-secret-key]");
    expect(bare.redact(`"AWS_SECRET_KEY": "${aws}"`)).toBe('"AWS_SECRET_KEY": "[redacted:aws-secret-key]"');
    const bearer = FAKE_SHAPES["bearer-token"];
    expect(bare.redact(`Authorization: Bearer ${bearer}`)).toBe("Authorization: Bearer [redacted:bearer-token]");
    expect(bare.redact(`curl -H 'authorization: bearer ${bearer}'`)).toBe("curl -H 'authorization: bearer [redacted:bearer-token]'");
    expect(bare.redact("Authorization: Basic dXNlcjpodW50ZXIy")).toBe("Authorization: Basic [redacted:authorization]");
    const pw = FAKE_SHAPES["url-password"];
    expect(bare.redact(`ORCH_DB=postgres://orch:${pw}@127.0.0.1:5432/orch`)).toBe("ORCH_DB=postgres://orch:[redacted:url-password]@127.0.0.1:5432/orch");
  });

  it("hides the rest of a secret whose start another match swallowed, and keeps no secret in clear", () => {
    const r = createRedactor({ DB_PASSWORD: "abcdefghijklmnopq&rest-of-it", PG_PASSWORD: "postgres" });
    expect(r.redact("Bearer abcdefghijklmnopq&rest-of-it done")).toBe("Bearer [redacted:bearer-token] done");
    expect(r.redact(`Bearer aws_secret_access_key=${FAKE_SHAPES["aws-secret-key"]} x`)).toBe("Bearer [redacted:bearer-token] x");
    expect(r.redact("postgres://u:hunter22@db")).toBe("[redacted:PG_PASSWORD]://u:[redacted:url-password]@db");
    expect(createRedactor({ URL_SECRET: "://admin" }).redact("db://admin:hunter22@h")).toBe("db[redacted:url-password]@h");
  });

  it("removes a PEM private key spread over lines, up to and with its END line", () => {
    const pem = fakePem();
    expect(bare.redact(`before\n${pem}\nafter\n`)).toBe("before\n[redacted:private-key]\nafter\n");
    expect(bare.redact(`KEY=${pem}`)).toBe("KEY=[redacted:private-key]");
    expect(bare.redact(`before\r\n${fakePem(3, "\r\n", "OPENSSH ")}\r\nafter`)).toBe("before\r\n[redacted:private-key]\nafter");
    expect(bare.redact(`${fakePem(2, "\n", "")} trailing words`)).toBe("[redacted:private-key] trailing words");
  });

  it("removes a PEM key held in one JSON line, escaped newlines and all", () => {
    const line = JSON.stringify({ type: "tool.result", output: `cat id_rsa:\n${fakePem()}\ndone` });
    expect(bare.redact(line)).toBe(JSON.stringify({ type: "tool.result", output: "cat id_rsa:\n[redacted:private-key]\ndone" }));
  });

  it("closes a key block without an END at the first line that is no key body (a truncated tool output)", () => {
    const pem = fakePem().split("\n").slice(0, 4).join("\n");
    expect(bare.redact(`${pem}\n{"type":"next"}\nmore`)).toBe('[redacted:private-key]\n{"type":"next"}\nmore');
    const cut = JSON.stringify({ output: pem.slice(0, 100) });
    expect(bare.redact(`${cut}\n{"type":"next"}`)).toBe('{"output":"[redacted:private-key]\n{"type":"next"}');
    const endless = ["-----BEGIN PRIVATE KEY-----", ...Array.from({ length: MAX_PEM_LINES + 5 }, () => "QUJD")].join("\n");
    expect(bare.redact(endless).split("\n")).toHaveLength(6);
  });

  it("leaves ordinary code and text alone", () => {
    const ordinary = [
      "the risk-assessment and task-sk-ant-style names stay; sk-learn is a library",
      "commit 9f2c1e4b7a3d5e6f8091a2b3c4d5e6f708192a3b",
      '{"token": 123, "max_tokens": 4096, "type":"usage"}',
      "Bearer token authentication is described in RFC 6750",
      "see http://localhost:3000/api and git@github.com:org/repo.git",
      "const key = process.env.ANTHROPIC_API_KEY ?? '';",
      "AKIANOTAKEY and MY_AKIAIOSFODNN7EXAMPLEX",
      "-----BEGIN CERTIFICATE-----",
      "a-sk-proj-like-word and ghp_short",
    ].join("\n");
    expect(bare.redact(ordinary)).toBe(ordinary);
    expect(createRedactor({ HOME: "/home/someone", CI: "true", MAX_TOKENS: "8192", SSH_AUTH_SOCK: "/tmp/ssh-agent.sock" }).redact(ordinary)).toBe(ordinary);
  });

  it("is idempotent: a marker is never redacted again", () => {
    const r = createRedactor(FAKE_ENV);
    const { "aws-secret-key": aws, "bearer-token": bearer, "url-password": pw, ...standalone } = FAKE_SHAPES;
    const text = `${Object.values(standalone).join(" ")} ${Object.values(FAKE_ENV).join(" ")} postgres://u:${pw}@h aws_secret_key=${aws} Bearer ${bearer}`;
    const once = r.redact(text);
    expect(r.redact(once)).toBe(once);
    for (const secret of [...Object.values(FAKE_SHAPES), ...Object.values(FAKE_ENV)]) expect(once).not.toContain(secret);
  });
});

describe("redactDeep", () => {
  it("redacts every string of a JSON value and keeps untouched parts as they were", () => {
    const r = createRedactor(FAKE_ENV);
    const clean = { n: 1, list: ["a", { b: true }] };
    const value = { type: "verify.completed", clean, criteria: [{ command: "env", outputTail: `GITHUB_TOKEN=${FAKE_ENV.GITHUB_TOKEN}`, exitCode: 1 }] };
    const redacted = r.redactDeep(value);
    expect(redacted.criteria[0]?.outputTail).toBe("GITHUB_TOKEN=[redacted:GITHUB_TOKEN]");
    expect(redacted.clean).toBe(clean);
    expect(value.criteria[0]?.outputTail).toContain(FAKE_ENV.GITHUB_TOKEN);
    expect(r.redactDeep(clean)).toBe(clean);
  });
});
