// The kinds of notice a webhook can ask for (core/notify.ts raises them; the journal names them in notify.* events).
export const NOTICE_KINDS = ["task.waiting", "task.escalated", "run.waiting", "run.paused", "run.finished"] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];
