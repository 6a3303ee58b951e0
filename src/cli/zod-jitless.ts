// Loaded before the program by commands that parse little and end at once (cli/main.ts): zod without its
// compiled fast paths. Generating those (`new Function` per object schema, at its first parse) costs more than
// a short command's few parses gain from them; a run's hot paths keep them.
import { z } from "zod";

z.config({ jitless: true });
