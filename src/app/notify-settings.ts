// The webhooks a supervisor tells, from orch.config.yaml as it is when driving starts (a resume reads it again):
// URLs and headers stay in the file and in memory, never in the journal, since they may hold tokens.
import type { Config } from "../config/schema.js";
import { parseDuration } from "../core/duration.js";
import type { NotifySettings } from "../core/notify.js";

export function notifySettings(config: Config): NotifySettings {
  const { webhooks, timeout, endWait, rollUp } = config.notify;
  // The schema has checked every duration.
  const ms = (text: string) => parseDuration(text) ?? 0;
  return { webhooks, timeoutMs: ms(timeout), endWaitMs: ms(endWait), windowMs: ms(rollUp) };
}
