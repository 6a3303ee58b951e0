// Obviously fake credentials in the shapes orch redacts, built at run time so that no key-shaped literal sits in
// the repository (and no scanner mistakes one for a leak). Shared by the redactor's unit and property tests and
// the end-to-end secrets test.

/** `count` characters cycling through `alphabet`, starting at `offset`: fake, but not one repeated letter. */
function run(alphabet: string, count: number, offset = 0): string {
  let out = "";
  for (let i = 0; i < count; i++) out += alphabet[(i + offset) % alphabet.length] ?? "x";
  return out;
}

const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64 = `${ALNUM}+/`;

/** A PEM private key of `lines` body lines, with `\n` (or `newline`) between its lines. */
export function fakePem(lines = 6, newline = "\n", kind = "RSA "): string {
  const body = Array.from({ length: lines }, (_, i) => run(BASE64, 64, i * 7));
  return [`-----BEGIN ${kind}PRIVATE KEY-----`, ...body, `${run(BASE64, 20, 3)}==`, `-----END ${kind}PRIVATE KEY-----`].join(newline);
}

/** A fake credential of every shape the redactor knows, by its marker label. */
export const FAKE_SHAPES = {
  "anthropic-key": `sk-ant-api03-${run(ALNUM, 40)}`,
  "openai-key": `sk-proj-${run(ALNUM, 48, 5)}`,
  "openai-legacy-key": `sk-${run(ALNUM, 48, 9)}`,
  "google-api-key": `AIza${run(ALNUM, 35, 2)}`,
  "github-token": `ghp_${run(ALNUM, 36, 11)}`,
  "github-pat": `github_pat_${run(ALNUM, 22, 4)}_${run(ALNUM, 59, 8)}`,
  "slack-token": `xoxb-${run("0123456789", 12)}-${run(ALNUM, 24, 6)}`,
  "aws-access-key-id": `AKIA${run(UPPER, 16, 3)}`,
  "aws-secret-key": run(BASE64, 40, 13),
  "bearer-token": `${run(ALNUM, 30, 17)}.${run(ALNUM, 12, 1)}`,
  "url-password": `pw${run(ALNUM, 14, 21)}`,
} as const;

/** The fake values the environment of a test run holds. */
export const FAKE_ENV = {
  ANTHROPIC_API_KEY: FAKE_SHAPES["anthropic-key"],
  GITHUB_TOKEN: FAKE_SHAPES["github-token"],
  // A secret of no known shape: only its variable's name gives it away.
  DATABASE_PASSWORD: `Tr0ub4dor&3-${run(ALNUM, 10, 29)}`,
} as const;
