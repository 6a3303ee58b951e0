// The CLI's only way to the terminal: results on stdout, progress and errors on stderr. Keeping it in one
// place lets tests capture it and keeps `--json` output free of anything else.
export interface Output {
  out(text: string): void;
  err(text: string): void;
  json(value: unknown): void;
  readonly errIsTTY: boolean;
  readonly columns: number;
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
  json: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  get errIsTTY() {
    return process.stderr.isTTY === true;
  },
  get columns() {
    return process.stderr.columns ?? 100;
  },
};
