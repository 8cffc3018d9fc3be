// The GitSync page's diff, side by side: what `keelson diff` computes (cli/diff.ts, Secret values already masked)
// turned into rows of old | new per changed object, from jsdiff's structured hunks. Pure; the Myers diff of each
// object is bounded by jsdiff's edit-length cap and a time budget shared by the whole diff, so one request never holds
// the event loop for long: past the budget an object is shown whole, removed then added.

import { structuredPatch } from 'diff';
import type { GitSyncDiff } from '../cli/diff.js';

/** Most bytes of YAML (before + after, all objects) one diff may carry to the page. */
export const MAX_DIFF_BYTES = 2 * 1024 * 1024;
const MAX_EDITS = 1000;
const CONTEXT = 3;

export interface Cell { readonly n: number; readonly text: string; readonly kind: 'same' | 'del' | 'add' }
/** One line of the side-by-side table; a side is null where the other side has extra lines. */
export interface SideRow { readonly left: Cell | null; readonly right: Cell | null }
export interface SideHunk { readonly header: string; readonly rows: readonly SideRow[] }

export interface DiffViewItem {
  readonly action: 'create' | 'update' | 'deferred' | 'prune';
  readonly what: string;
  readonly file: string;
  readonly hunks: readonly SideHunk[];
}

export interface DiffView {
  readonly revision: string;
  readonly lastApplied: string;
  readonly as: string;
  readonly items: readonly DiffViewItem[];
}

const split = (s: string): string[] => (s === '' ? [] : s.replace(/\n$/, '').split('\n'));

/** Unified hunk lines (" x", "-x", "+x") as rows: context on both sides, each run of removals paired with the additions after it. */
export function hunkRows(lines: readonly string[], oldStart: number, newStart: number): SideRow[] {
  const rows: SideRow[] = [];
  let o = oldStart;
  let n = newStart;
  let i = 0;
  while (i < lines.length) {
    const l = lines[i]!;
    if (l.startsWith('\\')) { i++; continue; } // "\ No newline at end of file"
    if (l[0] !== '-' && l[0] !== '+') { rows.push({ left: { n: o++, text: l.slice(1), kind: 'same' }, right: { n: n++, text: l.slice(1), kind: 'same' } }); i++; continue; }
    const dels: Cell[] = [];
    const adds: Cell[] = [];
    while (i < lines.length && (lines[i]![0] === '-' || lines[i]!.startsWith('\\'))) { if (lines[i]![0] === '-') dels.push({ n: o++, text: lines[i]!.slice(1), kind: 'del' }); i++; }
    while (i < lines.length && (lines[i]![0] === '+' || lines[i]!.startsWith('\\'))) { if (lines[i]![0] === '+') adds.push({ n: n++, text: lines[i]!.slice(1), kind: 'add' }); i++; }
    for (let k = 0; k < Math.max(dels.length, adds.length); k++) rows.push({ left: dels[k] ?? null, right: adds[k] ?? null });
  }
  return rows;
}

/** Side-by-side hunks of two YAML texts; past MAX_EDITS or `timeoutMs` the whole text, removed then added. */
export function sideBySide(before: string, after: string, timeoutMs: number): SideHunk[] {
  const patch = timeoutMs > 0 ? structuredPatch('live', 'git', before, after, undefined, undefined, { context: CONTEXT, maxEditLength: MAX_EDITS, timeout: timeoutMs }) : undefined;
  if (patch) return patch.hunks.map((h) => ({ header: `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`, rows: hunkRows(h.lines, h.oldStart, h.newStart) }));
  const a = split(before);
  const b = split(after);
  if (a.length + b.length === 0) return [];
  return [{ header: `@@ -1,${a.length} +1,${b.length} @@ (shown whole: too large to diff line by line)`, rows: hunkRows([...a.map((l) => `-${l}`), ...b.map((l) => `+${l}`)], 1, 1) }];
}

/** Bytes of YAML the diff carries. */
export function diffBytes(d: GitSyncDiff): number {
  return d.items.reduce((sum, i) => sum + Buffer.byteLength(i.before) + Buffer.byteLength(i.after), 0);
}

/**
 * The page's view of a diff, or the size when it is over `maxBytes`. Every object shares `budgetMs` of diff time
 * (measured with `clock`), so many large objects cannot add up to a long block of the event loop.
 */
export function diffView(d: GitSyncDiff, budgetMs = 2000, maxBytes = MAX_DIFF_BYTES, clock: () => number = () => performance.now()): DiffView | { readonly tooLarge: number } {
  const bytes = diffBytes(d);
  if (bytes > maxBytes) return { tooLarge: bytes };
  const deadline = clock() + budgetMs;
  return {
    revision: d.revision, lastApplied: d.lastApplied, as: d.as,
    items: d.items.map((i) => ({ action: i.action, what: i.what, file: i.file, hunks: sideBySide(i.before, i.after, Math.min(500, Math.floor(deadline - clock()))) })),
  };
}
