// Delivery of a run that succeeded: its run branch pushed to the remote, then a pull request opened or updated
// with gh. Invariant: nothing here fails the run or hangs it — every outcome, a refusal too, is journaled as a
// `run.delivered` event and shown by the report, each git and gh call is bounded, nothing is forced, and only the
// run's own branch (orch/<run>/_run) is ever pushed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, isAbsolute, join, relative } from "node:path";
import { pullRequestBody, pullRequestTitle, shellWord } from "../core/delivery-text.js";
import { toError } from "../core/errors.js";
import type { DeliveryOutcome, NewEvent } from "../core/journal.js";
import { pushBranch, readRemoteConfig, withoutCredentials } from "../git/index.js";
import { revParse } from "../git/compare.js";
import type { RunRecord } from "../store/store.js";
import { createPullRequest, editPullRequest, ghReady, githubRepoOf, openPullRequest, type GhOptions } from "./gh.js";
import type { Logger } from "./logger.js";

/** A push gets two minutes, each gh call one: delivery must never hold a run's end for long. */
export const PUSH_TIMEOUT_MS = 120_000;
export const GH_TIMEOUT_MS = 60_000;

export interface DeliverInput {
  run: RunRecord;
  /** The run's report, already written: the pull request's body. */
  report: string;
  write(...events: NewEvent[]): Promise<unknown>;
  log: Logger;
  /** The environment gh runs in (its PATH finds gh; GH_TOKEN and GH_HOST are gh's own). */
  env: Readonly<Record<string, string | undefined>>;
  pushTimeoutMs?: number;
  ghTimeoutMs?: number;
  /** Why the run is not to be delivered (its whole-run review still asks for changes): journaled as the push's skip. */
  held?: string | undefined;
}

/** Delivers a run that succeeded, as its settings say; returns what was journaled (nothing for a run made without delivery settings). */
export async function deliverRun(input: DeliverInput): Promise<DeliveryOutcome[]> {
  const outcomes: DeliveryOutcome[] = [];
  const journal = async (outcome: DeliveryOutcome) => {
    outcomes.push(outcome);
    input.log.info("delivery", { outcome: outcome.outcome });
    await input.write({ type: "run.delivered", runId: input.run.id, data: outcome });
  };
  try {
    if (input.held === undefined) await deliver(input, journal);
    else if (input.run.settings.delivery !== undefined) await journal({ outcome: "push-skipped", reason: `${input.held}; \`orch deliver ${input.run.id}\` delivers it as it stands` });
  } catch (error) {
    // A journal that refuses the write (a lost lease) ends delivery too; anything else is reported as the push's failure.
    const message = withoutCredentials(error instanceof Error ? error.message : String(error));
    input.log.warn("delivery failed inside orch", { error: message });
    if (outcomes.length === 0) await journal({ outcome: "push-skipped", reason: `orch could not deliver the run: ${message}` }).catch(() => undefined);
  }
  return outcomes;
}

async function deliver(input: DeliverInput, journal: (outcome: DeliveryOutcome) => Promise<void>): Promise<void> {
  const { run } = input;
  const settings = run.settings.delivery;
  if (settings === undefined || run.status !== "succeeded") return;
  const root = run.repoRoot;
  const branch = run.branch;
  // Only the run's own branch: a user's branch is never pushed, whatever the run record says.
  if (!branch.startsWith(`orch/${run.id}/`)) {
    await journal({ outcome: "push-skipped", reason: `${branch} is not a branch of the run` });
    return;
  }
  // Both read at once; the remotes matter only once the branch has work to push.
  const [tip, remotesRead] = await Promise.all([revParse(root, branch).catch(() => undefined), readRemoteConfig(root).catch((error: unknown) => toError(error))]);
  if (tip === undefined || tip === run.baseSha) {
    await journal({ outcome: "push-skipped", reason: tip === undefined ? `the run branch ${branch} is gone` : "the run branch holds no work beyond its base" });
    return;
  }
  if (remotesRead instanceof Error) throw remotesRead;
  const remotes = remotesRead;
  const remote = settings.remote ?? remotes.upstream(run.baseBranch) ?? "origin";
  const push = `git push ${shellWord(remote)} ${shellWord(branch)}:${shellWord(branch)}`;
  const reportFile = isAbsolute(input.report) && !relative(root, input.report).startsWith("..") ? relative(root, input.report) : input.report;
  const create = [
    "gh pr create",
    `--head ${shellWord(branch)}`,
    `--base ${shellWord(run.baseBranch)}`,
    `--title ${shellWord(pullRequestTitle(run.goal))}`,
    `--body-file ${shellWord(reportFile)}`,
    ...settings.labels.map((label) => `--label ${shellWord(label)}`),
    ...(settings.draft ? ["--draft"] : []),
  ].join(" ");

  if (settings.push === false) {
    // One outcome where nothing was pushed: no pull request can follow it, and the report names the push.
    await journal({ outcome: "push-skipped", reason: "pushing was turned off (--no-push, or delivery.push: false)", command: push });
    return;
  }
  const url = remotes.url(remote);
  if (url === undefined) {
    await journal({ outcome: "push-skipped", reason: `the repository has no remote named ${remote}; add it (\`git remote add ${shellWord(remote)} URL\`), then push`, command: push });
    return;
  }
  const pushed = await pushBranch({ root, remote, branch, timeoutMs: input.pushTimeoutMs ?? PUSH_TIMEOUT_MS });
  if (!pushed.pushed) {
    input.log.warn("push failed", { remote, reason: pushed.reason });
    await journal({ outcome: "push-failed", remote, branch, sha: tip, reason: pushed.reason, command: push });
    return;
  }
  await journal({ outcome: "pushed", remote, branch, sha: tip });
  if (!settings.pr) return;

  const repo = githubRepoOf(url);
  if (repo === undefined) {
    await journal({ outcome: "pr-skipped", reason: `the remote ${remote} is not a GitHub repository gh can reach`, command: create });
    return;
  }
  const gh: GhOptions = { cwd: root, env: input.env, timeoutMs: input.ghTimeoutMs ?? GH_TIMEOUT_MS };
  const ready = await ghReady(repo.host, gh);
  if (!ready.ready) {
    await journal({ outcome: "pr-skipped", reason: ready.why, command: create });
    return;
  }
  const folder = mkdtempSync(join(tmpdir(), "orch-pr-"));
  try {
    const bodyFile = join(folder, "body.md");
    writeFileSync(bodyFile, pullRequestBody(readFileSync(input.report, "utf8"), basename(input.report)), { mode: 0o600 });
    const text = { title: pullRequestTitle(run.goal), bodyFile, labels: settings.labels };
    const existing = await openPullRequest(repo, branch, gh);
    if (existing !== undefined) {
      const edited = await editPullRequest(repo, existing, text, gh);
      await journal(edited.ok ? { outcome: "pr-updated", url: existing.url, number: existing.number } : { outcome: "pr-failed", reason: edited.why, command: create });
      return;
    }
    const created = await createPullRequest(repo, { ...text, head: branch, base: run.baseBranch, draft: settings.draft }, gh);
    await journal(created.ok ? { outcome: "pr-opened", ...created.pr } : { outcome: "pr-failed", reason: created.why, command: create });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
