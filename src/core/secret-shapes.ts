// What counts as a secret: which environment variables hold one (by name, or because an agent adapter says it
// passes it), which of their values are too trivial to hide, and the shapes of well-known credentials. Pure
// data and predicates; the redactor (redact.ts) compiles them into one regular expression.

/** A credential recognised by its form. Sources hold no capture groups of their own. */
export interface Shape {
  /** What the marker says was removed: `[redacted:github-token]`. */
  label: string;
  /** What every match starts with: a cheap search for these finds where a match may start. */
  anchor: string;
  /** A lookbehind that keeps the shape from matching inside a longer word. */
  before: string;
  /** Text matched with the secret but kept in the output (`Bearer `, `aws_secret_access_key=`). */
  keep?: string;
  secret: string;
  after?: string;
}

/** Each letter of `word` in either case: the combined expression has one set of flags. */
const ci = (word: string): string => word.replace(/[a-z]/g, (c) => `[${c.toUpperCase()}${c}]`);

const WORD_START = "(?<![A-Za-z0-9_-])";

export const SHAPES: readonly Shape[] = [
  { label: "anthropic-key", anchor: "sk-", before: WORD_START, secret: "sk-ant-[A-Za-z0-9_-]{20,}" },
  // Project, service-account and admin keys carry a second prefix; legacy keys are one long alphanumeric run.
  { label: "openai-key", anchor: "sk-", before: WORD_START, secret: "sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{32,})" },
  { label: "google-api-key", anchor: "AIza", before: WORD_START, secret: "AIza[0-9A-Za-z_-]{35,}" },
  { label: "github-token", anchor: "gh[pousr]_|github_pat_", before: "(?<![A-Za-z0-9_])", secret: "(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})" },
  { label: "slack-token", anchor: "xox[abprs]-", before: WORD_START, secret: "xox[abprs]-[A-Za-z0-9-]{10,}" },
  { label: "aws-access-key-id", anchor: "A[KS]IA", before: "(?<![A-Za-z0-9])", secret: "(?:AKIA|ASIA)[0-9A-Z]{16}", after: "(?![0-9A-Za-z])" },
  {
    label: "aws-secret-key",
    anchor: `${ci("aws")}_?${ci("sec")}`,
    before: "(?<![A-Za-z0-9_])",
    keep: `${ci("aws")}_?${ci("secret")}_?(?:${ci("access")}_?)?${ci("key")}["']?[ \\t]{0,4}[:=][ \\t]{0,4}["']?`,
    secret: "[A-Za-z0-9/+=]{40}",
    after: "(?![A-Za-z0-9/+=])",
  },
  { label: "bearer-token", anchor: ci("bearer"), before: WORD_START, keep: `${ci("bearer")}[ \\t]{1,4}`, secret: "[A-Za-z0-9._~+/-]{16,}=*" },
  {
    label: "authorization",
    anchor: ci("authorization"),
    before: WORD_START,
    keep: `${ci("authorization")}["']?[ \\t]{0,4}[:=][ \\t]{0,4}["']?(?:${ci("basic")}|${ci("token")})[ \\t]{1,4}`,
    secret: "[A-Za-z0-9._~+/-]{8,}=*",
  },
  // The password of `scheme://user:password@host` (a database URL in ORCH_DB, a git remote with a token).
  {
    label: "url-password",
    anchor: "://",
    before: "(?<=[A-Za-z0-9+.-])",
    keep: "://[^\\s/:@'\"]{1,64}:",
    secret: "[^\\s/@'\"]{1,128}",
    after: "(?=@)",
  },
];

/** A private key in PEM form; its body may follow on the next lines (see pem-block.ts). */
const PEM_LABEL = "(?:[A-Z0-9]{1,16} ){0,4}PRIVATE KEY(?: BLOCK)?-----";
export const PEM_BEGIN = `-----BEGIN ${PEM_LABEL}`;
export const PEM_END = `-----END ${PEM_LABEL}`;
export const PEM_ANCHOR = "-----BEGIN ";

/**
 * From where a match starts, the characters within which every shape is decided (matched, or ruled out)
 * unless its secret runs on to the end of the text: the longest is the URL password (3 + 64 + 1 + 128 + 1).
 * Every quantifier of a shape is bounded except a secret's own tail, so this bound holds.
 */
export const SHAPE_WINDOW = 256;

/** Shorter values are not hidden: they would turn up in ordinary text ("1", "dev", a port). */
export const MIN_SECRET_LENGTH = 8;

const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH(?!OR)/i;
/** Where such a name says the value is a place, not the secret (SSH_AUTH_SOCK, GOOGLE_API_KEY_FILE). */
const PLACE_NAME = /(?:_PATH|_FILE|_DIR|_SOCK|_SOCKET)$/i;
const TRIVIAL_VALUE = /^(?:true|false|yes|no|on|off|null|none|nil|undefined|enabled|disabled|[0-9]+)$/i;

/** Whether a variable of this name holds a secret, by name alone. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) && !PLACE_NAME.test(name);
}

/**
 * The strings of `value` worth hiding: the value itself, or, when it spans lines, each of its lines that
 * looks like a token (no blank inside) — a key file's lines, not the braces of a JSON config.
 */
export function secretParts(value: string): string[] {
  const trimmed = value.trim();
  if (!trimmed.includes("\n")) return worthHiding(trimmed) ? [trimmed] : [];
  return trimmed
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => worthHiding(line) && !/\s/.test(line));
}

function worthHiding(value: string): boolean {
  return value.length >= MIN_SECRET_LENGTH && !TRIVIAL_VALUE.test(value);
}

/**
 * The secret values of `env`, each with the name of the variable it came from (the first name, sorted, when
 * several share a value). `extraNames` are hidden whatever they are called.
 */
export function secretValuesOf(env: Readonly<Record<string, string | undefined>>, extraNames: readonly string[] = []): Map<string, string> {
  const extra = new Set(extraNames);
  const values = new Map<string, string>();
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (value === undefined || !(extra.has(name) || isSecretName(name))) continue;
    for (const part of secretParts(value)) {
      if (!values.has(part)) values.set(part, name);
      // The same value as a JSON string holds it escaped: a password with a quote in an agent's JSON line.
      const escaped = JSON.stringify(part).slice(1, -1);
      if (escaped !== part && !values.has(escaped)) values.set(escaped, name);
    }
  }
  return values;
}
