// zod generates and compiles an object schema's fast path (`new Function`) the first time it parses with it: a
// millisecond or more per schema, repaid only over many parses. A command that starts, reads its configuration, a
// run row and a few events, and ends paid for code it hardly ran (a no-op run spent some 30 ms of CPU there). A
// parser made here parses without the fast path until its schema has been parsed often enough in this process to
// repay it; a long run's hot rows (events, attempts) get the fast path soon after it starts.
import type { z } from "zod";

/** Parses before a parser lets zod compile its schema's fast path. */
export const COLD_PARSES = 64;

const COLD = { jitless: true } as const;

/** `schema.parse`, without zod's compiled fast path for its first COLD_PARSES calls. */
export function parserOf<S extends z.ZodType>(schema: S): (value: unknown) => z.output<S> {
  let parses = 0;
  return (value) => {
    if (parses >= COLD_PARSES) return schema.parse(value);
    parses++;
    return schema.parse(value, COLD);
  };
}

/** For a schema parsed once or twice in a process (a configuration file): never its compiled fast path. */
export function parseOnce<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  return schema.parse(value, COLD);
}
