// A JSON object out of a model's answer: the whole text when it is JSON, else the first ```json (or bare ```) block
// that parses, else the first balanced top-level `{...}`. The planner's plan and a reviewer's verdict are read so.

/** What was found: the parsed value, or why none was (in words a model can act on). */
export type Extracted = { ok: true; value: unknown } | { ok: false; error: string };

export function extractJson(text: string, shape: string): Extracted {
  const whole = tryJson(text.trim());
  if (whole.ok) return whole;
  const fences = [...text.matchAll(/```[ \t]*([A-Za-z]*)[^\n]*\n([\s\S]*?)```/g)];
  const labelled = fences.filter((m) => /^jsonc?$/i.test(m[1] ?? "")).concat(fences.filter((m) => (m[1] ?? "") === ""));
  let firstError: string | undefined;
  for (const fence of labelled) {
    const parsed = tryJson((fence[2] ?? "").trim());
    if (parsed.ok) return parsed;
    firstError ??= parsed.error;
  }
  const object = firstObject(text);
  if (object !== undefined) {
    const parsed = tryJson(object);
    if (parsed.ok) return parsed;
    firstError ??= parsed.error;
  }
  return {
    ok: false,
    error:
      firstError === undefined
        ? `the answer holds no JSON object; reply with one JSON object ${shape} in a \`\`\`json block`
        : `the JSON in the answer does not parse (${firstError}); reply with one valid JSON object ${shape}`,
  };
}

function tryJson(text: string): Extracted {
  if (text === "") return { ok: false, error: "empty" };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/** The first `{` and the `}` that closes it, skipping braces inside JSON strings. */
function firstObject(text: string): string | undefined {
  const start = text.indexOf("{");
  if (start < 0) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === "\\") i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === "{") depth++;
    else if (char === "}" && --depth === 0) return text.slice(start, i + 1);
  }
  return text.slice(start);
}
