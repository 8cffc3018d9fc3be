// status.history of a GitSync: the last applied revisions, oldest first, as Argo CD's status.history. Pure: the
// syncer passes the previous list and what it just applied; the commit subject comes from Git (hostile text), so it
// is cut to one line of bounded length here, linearly.

export const HISTORY_LIMIT = 10;
/** Most characters of a commit subject kept in status (a commit may carry megabytes on one line). */
export const MAX_SUBJECT_CHARS = 200;

export interface HistoryEntry {
  readonly revision: string;
  /** The first line of the commit message, at most MAX_SUBJECT_CHARS, control characters replaced by spaces. */
  readonly message: string;
  readonly appliedAt: string;
  /** Objects the revision holds (its inventory). */
  readonly objects: number;
  /** What the apply did, e.g. "2 created, 1 configured, 5 unchanged, 0 pruned". */
  readonly result: string;
}

/** The first line of `text`, control characters as spaces, trimmed, cut at `max` code points with "…". Linear. */
export function subjectLine(text: string, max = MAX_SUBJECT_CHARS): string {
  let out = '';
  let count = 0;
  for (const ch of text) {
    if (ch === '\n' || ch === '\r') break;
    if (count === max) return `${out.trimEnd()}…`;
    const c = ch.codePointAt(0)!;
    out += c < 0x20 || (c >= 0x7f && c < 0xa0) || c === 0x2028 || c === 0x2029 ? ' ' : c >= 0xd800 && c <= 0xdfff ? '\ufffd' : ch;
    count++;
  }
  return out.trim();
}

const isEntry = (e: unknown): e is HistoryEntry => {
  const x = e as Record<string, unknown> | null;
  return !!x && typeof x === 'object' && typeof x.revision === 'string' && typeof x.message === 'string'
    && typeof x.appliedAt === 'string' && typeof x.objects === 'number' && typeof x.result === 'string';
};

/**
 * The history after applying `entry`: appended unless the newest entry already names the same revision (a drift
 * re-apply or a restart is not a new revision), trimmed to the newest `limit`. Malformed entries (status is
 * writable by anyone with the status subresource) are dropped.
 */
export function withApplied(history: readonly unknown[] | undefined, entry: HistoryEntry, limit = HISTORY_LIMIT): HistoryEntry[] {
  const kept = (Array.isArray(history) ? history : []).filter(isEntry);
  if (kept.at(-1)?.revision === entry.revision) return kept.slice(-limit);
  const next: HistoryEntry = { ...entry, message: subjectLine(entry.message) };
  return [...kept, next].slice(-limit);
}
