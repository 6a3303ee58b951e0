// The `scripted` agent: replays a scripted session from a file in a real child process (player.ts), so the
// demo and dry runs exercise the same supervision, journaling and verification as a real CLI.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { AgentEvent } from "../../core/agent-event.js";
import type { AgentAdapter, AgentCommand, AgentInvocation } from "../agent.js";
import { classifyExit } from "../classify-text.js";
import { orchEnv } from "../env.js";
import { parseJson } from "../parse-line.js";
import { loadScript } from "./script.js";

/**
 * The player's built file, started by path. From the built CLI this module sits in a chunk under dist/cjs/
 * and the player is its own entry, dist/agents/scripted/player.js; compiled module by module (dist-bench/) it is
 * the sibling; from sources (under the test runner) the built copy in dist/ is used, which `npm test` builds
 * first.
 */
export function playerPath(): string {
  const candidates = ["./player.js", "../agents/scripted/player.js", "../../../dist/agents/scripted/player.js"].map((relative) =>
    fileURLToPath(new URL(relative, import.meta.url)),
  );
  const found = candidates.find((file) => existsSync(file));
  if (found !== undefined) return found;
  throw new Error(`the scripted agent's player is missing (looked at ${candidates.join(", ")}); run \`npm run build\``);
}

export function createScriptedAdapter(scriptPath: string): AgentAdapter {
  // Validate up front so that a bad script is a usage error before anything is written.
  loadScript(scriptPath);
  const player = playerPath();
  return {
    name: "scripted",
    build(invocation: AgentInvocation): AgentCommand {
      return { file: process.execPath, args: [player, scriptPath, String(invocation.attempt)], env: orchEnv(invocation) };
    },
    createParser() {
      return {
        parseLine(line: string) {
          if (line.trim() === "") return [];
          // The player prints normalized events itself; a line that is not one is kept whole.
          const json = parseJson(line);
          const parsed = json === undefined ? undefined : AgentEvent.safeParse(json.value);
          return [parsed?.success === true ? parsed.data : { type: "unknown" as const, raw: line }];
        },
      };
    },
    classify(exit) {
      if (exit.exitCode === 0 && exit.signal === null && exit.result?.ok !== false) {
        return exit.result === undefined ? { kind: "bad_output", detail: "the scripted agent printed no result" } : undefined;
      }
      return classifyExit(exit.exitCode, exit.signal, `${exit.stderrTail}\n${exit.result?.text ?? ""}`);
    },
  };
}

