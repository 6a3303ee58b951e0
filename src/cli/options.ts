// Commander helpers; the option values themselves are parsed in app/option-values.ts, shared with the server.
export { duration, hours, positiveInt, positiveNumber, size } from "../app/option-values.js";

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
