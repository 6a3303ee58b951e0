// What a shell command starts, where that can be told from its text alone: the first word of a simple command.
// Pure. Anything it cannot judge (quotes, variables, redirections, assignments, builtins, keywords) is no answer,
// so that a check built on it never refuses a command that would work.

/** Builtins and reserved words of POSIX sh, bash and dash: they never need an executable of their own. */
const NOT_AN_EXECUTABLE = new Set([
  ".", ":", "[", "[[", "!", "{", "}", "alias", "bg", "break", "builtin", "case", "cd", "command", "continue", "declare",
  "do", "done", "echo", "elif", "else", "esac", "eval", "exec", "exit", "export", "false", "fc", "fg", "fi", "for",
  "function", "getopts", "hash", "if", "in", "jobs", "kill", "let", "local", "printf", "pwd", "read", "readonly",
  "return", "select", "set", "shift", "source", "test", "then", "time", "times", "trap", "true", "type", "typeset",
  "ulimit", "umask", "unalias", "unset", "until", "wait", "while",
]);

/** A word the shell takes as it is: no quoting, expansion, globbing, redirection, assignment or operator in it. */
const PLAIN_WORD = /^[A-Za-z0-9_./+,:@%-]+$/;

/**
 * The executable `command` starts, when its first word is a plain program name or path (`pytest`, `./fix.sh`,
 * `/usr/bin/make`); undefined for a builtin, a keyword, or a first word with shell syntax in it.
 */
export function commandExecutable(command: string): string | undefined {
  const first = command.trim().split(/\s+/, 1)[0];
  if (first === undefined || first === "" || first.startsWith("-")) return undefined;
  if (!PLAIN_WORD.test(first) || NOT_AN_EXECUTABLE.has(first)) return undefined;
  return first;
}

/** Whether the shell looks `word` up on PATH (a bare name) rather than as a path (it has a slash). */
export function isBareName(word: string): boolean {
  return !word.includes("/");
}
