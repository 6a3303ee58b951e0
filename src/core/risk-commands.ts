// The built-in command checks of the risk rules: what in a shell command an agent ran is worth a human's look (a
// push, a publish, a download piped to a shell, `rm -r` outside the worktree, sudo, a world-writable chmod). Pure:
// each check reads the simple commands of one command line (core/shell-words.ts) and says what fired, or nothing.
import { effectiveWords, runsAsAnotherUser, simpleCommands, type SimpleCommand } from "./shell-words.js";

export const COMMAND_CHECKS = ["push", "publish", "pipe-to-shell", "rm-outside", "sudo", "chmod-world"] as const;
export type CommandCheck = (typeof COMMAND_CHECKS)[number];

/** git's options that come before its subcommand and take a value of their own (`git -C dir push`). */
const GIT_VALUE_OPTIONS = new Set(["-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path", "--config-env"]);

/** Publishing commands: a program and the words that follow it (`npm publish`, `twine upload`). */
const PUBLISH: readonly (readonly string[])[] = [
  ["npm", "publish"],
  ["pnpm", "publish"],
  ["yarn", "publish"],
  ["yarn", "npm", "publish"],
  ["bun", "publish"],
  ["cargo", "publish"],
  ["twine", "upload"],
  ["poetry", "publish"],
  ["uv", "publish"],
  ["flit", "publish"],
  ["hatch", "publish"],
  ["gem", "push"],
  ["mvn", "deploy"],
  ["gradle", "publish"],
  ["gradlew", "publish"],
  ["dotnet", "nuget", "push"],
  ["docker", "push"],
  ["podman", "push"],
  ["helm", "push"],
  ["gh", "release", "create"],
];

const SHELLS = new Set(["sh", "bash", "zsh", "dash", "ksh", "fish", "ash"]);
const DOWNLOADERS = new Set(["curl", "wget", "fetch"]);

/** Whether `check` fires for the command line `text`; `worktree` (absolute) is where `rm` may reach. */
export function commandFires(check: CommandCheck, text: string, worktree?: string): boolean {
  const commands = simpleCommands(text);
  switch (check) {
    case "push":
      return commands.some((c) => gitSubcommand(effectiveWords(c.words)) === "push");
    case "publish":
      return commands.some((c) => isPublish(effectiveWords(c.words)));
    case "pipe-to-shell":
      return pipesToShell(commands);
    case "rm-outside":
      return commands.some((c) => removesOutside(effectiveWords(c.words), worktree));
    case "sudo":
      return commands.some((c) => runsAsAnotherUser(c.words));
    case "chmod-world":
      return commands.some((c) => makesWorldWritable(effectiveWords(c.words)));
  }
}

function gitSubcommand(words: readonly string[]): string | undefined {
  if (words[0] !== "git") return undefined;
  let i = 1;
  while (i < words.length && (words[i] ?? "").startsWith("-")) {
    const option = words[i] ?? "";
    i += GIT_VALUE_OPTIONS.has(option) ? 2 : 1;
  }
  return words[i];
}

function isPublish(words: readonly string[]): boolean {
  // Options between the program and its subcommand (`npm --workspace x publish`) are skipped, values too.
  const plain = words.filter((w) => !w.startsWith("-"));
  return PUBLISH.some(([program, ...rest]) => plain[0] === program && plain.some((_, at) => at > 0 && rest.every((part, k) => plain[at + k] === part)));
}

/** A download fed to a shell: `curl … | sh`, `sh -c "$(curl …)"`, `bash <(wget -O- …)`. */
function pipesToShell(commands: readonly SimpleCommand[]): boolean {
  const isShell = (c: SimpleCommand | undefined): boolean => c !== undefined && SHELLS.has(effectiveWords(c.words)[0] ?? "");
  const isDownload = (c: SimpleCommand | undefined): boolean => c !== undefined && DOWNLOADERS.has(effectiveWords(c.words)[0] ?? "");
  for (let i = 0; i < commands.length; i++) {
    if (!isDownload(commands[i])) continue;
    // Piped on: every later command up to the shell is joined by a pipe.
    for (let j = i + 1; j < commands.length && commands[j]?.joint === "|"; j++) if (isShell(commands[j])) return true;
    // Substituted into a shell's arguments.
    const joint = commands[i]?.joint;
    if ((joint === "$(" || joint === "<(" || joint === "`") && isShell(commands[i - 1])) return true;
  }
  return false;
}

/** `rm -r` (or `-rf`, `--recursive`) of an absolute path, a home path, or a path that climbs out with `..`. */
function removesOutside(words: readonly string[], worktree: string | undefined): boolean {
  if (words[0] !== "rm") return false;
  let recursive = false;
  const operands: string[] = [];
  let options = true;
  for (const word of words.slice(1)) {
    if (options && word === "--") options = false;
    else if (options && word.startsWith("--")) recursive ||= word === "--recursive";
    else if (options && word.startsWith("-") && word.length > 1) recursive ||= /[rR]/.test(word);
    else operands.push(word);
  }
  return recursive && operands.some((path) => isOutside(path, worktree));
}

/** Whether `path`, as `rm` in the worktree reads it, is outside the worktree (or cannot be told to be inside). */
export function isOutside(path: string, worktree: string | undefined): boolean {
  if (path.startsWith("~") || /^\$\{?HOME\b/.test(path)) return true;
  if (path.startsWith("/")) {
    if (worktree === undefined) return true;
    const root = worktree.replace(/\/+$/, "");
    return !(path === root || path.startsWith(`${root}/`)) || climbsOut(path.slice(root.length));
  }
  return climbsOut(path);
}

/** Whether a relative path goes above where it starts (`..`, `a/../../b`). */
function climbsOut(path: string): boolean {
  let depth = 0;
  for (const part of path.split("/")) {
    if (part === "..") depth--;
    else if (part !== "" && part !== ".") depth++;
    if (depth < 0) return true;
  }
  return false;
}

/** `chmod 777`, `chmod -R 0666`, `chmod o+w`, `chmod a+rwx`: a mode that lets everyone write. */
function makesWorldWritable(words: readonly string[]): boolean {
  if (words[0] !== "chmod") return false;
  const mode = words.slice(1).find((w) => !/^-[A-Za-z]+$/.test(w) && !w.startsWith("--"));
  if (mode === undefined) return false;
  if (/^[0-7]{3,4}$/.test(mode)) return ["2", "3", "6", "7"].includes(mode[mode.length - 1] ?? "");
  return mode.split(",").some((clause) => /^[ugoa]*[ao][ugoa]*[+=][rwxXst]*w/.test(clause));
}
