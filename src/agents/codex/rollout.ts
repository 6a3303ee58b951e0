// Reads from Codex's own record of a thread (its rollout file) the token totals the thread had reached, so
// that a resumed attempt counts only its own tokens: `turn.completed` reports the whole thread's totals.
// Best effort: a missing or unreadable record gives `undefined` (the attempt is then charged the whole
// thread, an overcount that can only stop a budget early, never let it overrun).
import { readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import type { TokenUsage } from "../../core/agent-event.js";
import { parseJson } from "../parse-line.js";

const count = z.number().nonnegative();
const TokenCountLine = z.object({
  type: z.literal("event_msg"),
  payload: z.object({
    type: z.literal("token_count"),
    info: z.object({
      total_token_usage: z.object({
        input_tokens: count,
        output_tokens: count,
        cached_input_tokens: count.optional(),
        cache_write_input_tokens: count.optional(),
      }),
    }),
  }),
});

/** `$CODEX_HOME`, else `~/.codex`: where the CLI keeps its config, sessions and credentials. */
export function codexHome(env: NodeJS.ProcessEnv): string {
  const fromEnv = env["CODEX_HOME"];
  if (fromEnv !== undefined && fromEnv.trim() !== "") return fromEnv;
  return join(env["HOME"] ?? homedir(), ".codex");
}

/** The thread's totals in the same shape the parser reports (input without its cached part). */
export function threadUsage(env: NodeJS.ProcessEnv, threadId: string): TokenUsage | undefined {
  const file = findRollout(join(codexHome(env), "sessions"), threadId);
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i];
    if (line === undefined || !line.includes('"token_count"')) continue;
    const json = parseJson(line);
    if (json === undefined) continue;
    const parsed = TokenCountLine.safeParse(json.value);
    if (!parsed.success) continue;
    const total = parsed.data.payload.info.total_token_usage;
    const cached = total.cached_input_tokens ?? 0;
    return {
      inputTokens: Math.max(0, total.input_tokens - cached),
      outputTokens: total.output_tokens,
      cacheReadTokens: cached,
      ...(total.cache_write_input_tokens !== undefined ? { cacheWriteTokens: total.cache_write_input_tokens } : {}),
    };
  }
  return undefined;
}

/** `sessions/YYYY/MM/DD/rollout-<time>-<thread id>.jsonl`, newest days first. */
function findRollout(dir: string, threadId: string, depth = 0): string | undefined {
  let entries: { name: string; isDirectory(): boolean; isFile(): boolean }[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  const suffix = `-${threadId}.jsonl`;
  for (const entry of entries) {
    if (entry.isFile() && entry.name.startsWith("rollout-") && entry.name.endsWith(suffix)) return join(dir, entry.name);
  }
  if (depth >= 3) return undefined;
  const subdirs = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort().reverse();
  for (const name of subdirs) {
    const found = findRollout(join(dir, name), threadId, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}
