// A shell command line cut into its simple commands and their words, as far as the text alone tells: enough for
// risk rules to see `git push` behind `cd x && git push`, or `curl … | sh`. Pure. Quotes and backslashes are
// honoured; expansions are kept as text (never evaluated); a command inside `$(…)`, `<(…)` or backticks is a
// simple command of its own, opened by that substitution.

/** What comes before a simple command: the start, a list operator, a pipe, or a substitution that opens. */
export type Joint = "start" | ";" | "&&" | "||" | "|" | "&" | "(" | "$(" | "<(" | "`";

export interface SimpleCommand {
  /** The words after quote removal (`'a b'` is one word `a b`); redirections are left out. */
  readonly words: readonly string[];
  readonly joint: Joint;
}

const OPERATORS = ["&&", "||", "$(", "<(", ">(", ";;", ";", "|&", "|", "&", "(", ")", "`", "\n"] as const;

/** Every simple command of `text`, in the order they appear. */
export function simpleCommands(text: string): SimpleCommand[] {
  const commands: SimpleCommand[] = [];
  let words: string[] = [];
  let word = "";
  let inWord = false;
  let joint: Joint = "start";
  let redirect = false; // the next word is a redirection's target, not an argument
  let backticks = false;
  const endWord = (): void => {
    if (inWord) {
      if (redirect) redirect = false;
      else words.push(word);
    }
    word = "";
    inWord = false;
  };
  const endCommand = (next: Joint): void => {
    endWord();
    if (words.length > 0) commands.push({ words, joint });
    words = [];
    joint = next;
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? "";
    if (c === "\\") {
      if (text[i + 1] === "\n") i += 2; // a line continued
      else {
        word += text[i + 1] ?? "";
        inWord = true;
        i += 2;
      }
      continue;
    }
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      word += end < 0 ? text.slice(i + 1) : text.slice(i + 1, end);
      inWord = true;
      i = end < 0 ? text.length : end + 1;
      continue;
    }
    if (c === '"') {
      const substitute = (inner: string, opened: Joint): void => {
        endCommand(opened);
        simpleCommands(inner).forEach((command, k) => commands.push(k === 0 ? { ...command, joint: opened } : command));
        joint = ";";
      };
      i = readDoubleQuoted(text, i + 1, (part) => (word += part), substitute);
      inWord = true;
      continue;
    }
    if (c === "#" && !inWord) {
      const end = text.indexOf("\n", i);
      i = end < 0 ? text.length : end;
      continue;
    }
    if (c === " " || c === "\t") {
      endWord();
      i++;
      continue;
    }
    if (c === ">" || (c === "<" && text[i + 1] !== "(")) {
      // A redirection: `2>&1`, `>out`, `<in`, `>>log`; its target is not an argument.
      if (inWord && /^\d+$/.test(word)) {
        word = "";
        inWord = false;
      } else endWord();
      while (text[i] === ">" || text[i] === "<") i++;
      if (text[i] === "&") {
        i++;
        while (/[0-9-]/.test(text[i] ?? "")) i++;
      } else redirect = true;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op !== undefined && !(op === "$(" && text[i + 2] === "(")) {
      i += op.length;
      if (op === "`") {
        endCommand(backticks ? ";" : "`");
        backticks = !backticks;
      } else if (op === "\n" || op === ";;" || op === ")") endCommand(";");
      else if (op === "|&") endCommand("|");
      else if (op === ">(") endCommand("<(");
      else endCommand(op);
      continue;
    }
    word += c;
    inWord = true;
    i++;
  }
  endCommand(";");
  return commands;
}

/**
 * Reads a double-quoted string from `start` (after the quote); returns the index after its closing quote. A
 * command substitution in it (`"$(curl …)"`, backticks) goes to `substitute`, since its command runs too.
 */
function readDoubleQuoted(text: string, start: number, add: (part: string) => void, substitute: (inner: string, opened: Joint) => void): number {
  let i = start;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') return i + 1;
    if (c === "$" && text[i + 1] === "(" && text[i + 2] !== "(") {
      const end = closingParen(text, i + 2);
      substitute(text.slice(i + 2, end), "$(");
      i = end + 1;
      continue;
    }
    if (c === "`") {
      const found = text.indexOf("`", i + 1);
      const end = found < 0 ? text.length : found;
      substitute(text.slice(i + 1, end), "`");
      i = end + 1;
      continue;
    }
    if (c === "\\" && i + 1 < text.length && '$`"\\\n'.includes(text[i + 1] ?? "")) {
      add(text[i + 1] ?? "");
      i += 2;
      continue;
    }
    add(c ?? "");
    i++;
  }
  return i;
}

/** The index of the `)` that closes a parenthesis opened just before `start` (the text's end if none does). */
function closingParen(text: string, start: number): number {
  let depth = 1;
  for (let i = start; i < text.length; i++) {
    if (text[i] === "(") depth++;
    else if (text[i] === ")" && --depth === 0) return i;
  }
  return text.length;
}

/** Programs that run the command after them (`sudo rm …`, `env X=1 npm publish`), with options of their own. */
const WRAPPERS = new Set(["sudo", "doas", "env", "nohup", "time", "nice", "ionice", "timeout", "exec", "command", "builtin", "xargs", "stdbuf"]);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/**
 * The words of the command a simple command runs in the end: assignments and wrappers (`sudo -u x`, `env A=1`,
 * `timeout 5`) taken off, and the program named by its base name (`/usr/bin/git` → `git`).
 */
export function effectiveWords(words: readonly string[]): string[] {
  let i = 0;
  for (;;) {
    while (i < words.length && ASSIGNMENT.test(words[i] ?? "")) i++;
    const first = words[i];
    if (first === undefined || !WRAPPERS.has(baseName(first))) break;
    const wrapper = baseName(first);
    i++;
    // The wrapper's own options and their values, and timeout's duration.
    while (i < words.length && (words[i] ?? "").startsWith("-")) {
      const option = words[i] ?? "";
      i++;
      if ((wrapper === "sudo" || wrapper === "doas") && /^-[ugChpDRT]$/.test(option)) i++;
      if (wrapper === "nice" && option === "-n") i++;
      if (wrapper === "timeout" && /^-[sk]$/.test(option)) i++;
    }
    if (wrapper === "timeout" && i < words.length) i++;
  }
  const rest = words.slice(i);
  const program = rest[0];
  return program === undefined ? [] : [baseName(program), ...rest.slice(1)];
}

export function baseName(word: string): string {
  const slash = word.lastIndexOf("/");
  return slash < 0 || slash === word.length - 1 ? word : word.slice(slash + 1);
}

/** Whether `words` starts with a wrapper that runs as another user (`sudo`, `doas`), before assignments. */
export function runsAsAnotherUser(words: readonly string[]): boolean {
  return words.some((word, index) => {
    if (!["sudo", "doas"].includes(baseName(word))) return false;
    // Only in the place of a program: everything before it is an assignment or another wrapper.
    return words.slice(0, index).every((w) => ASSIGNMENT.test(w) || WRAPPERS.has(baseName(w)) || w.startsWith("-"));
  });
}
