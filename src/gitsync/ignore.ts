// Ignore rules for a revision: `.keelsonignore` at the repository root, then spec.ignore (so the spec can re-include
// with "!"), gitignore syntax, one pattern a line, matched against repository-relative paths with the `ignore`
// package. Pure, except ignoredPaths, which runs the matching in a worker with a deadline (see there why).

import { Worker } from 'node:worker_threads';
import ignore from 'ignore';

/** The ignore file read at the repository root. */
export const IGNORE_FILE = '.keelsonignore';
/** Largest .keelsonignore or spec.ignore, in characters; more is refused (patterns are a few lines in practice). */
export const MAX_IGNORE_CHARS = 64 * 1024;
/** Most patterns, over both sources. */
export const MAX_PATTERNS = 1000;
/** Longest single pattern. */
export const MAX_PATTERN_CHARS = 1024;
/** How long matching one revision's paths may take; `ignore` compiles patterns to backtracking regexes. */
export const MATCH_DEADLINE_MS = 5000;

/** Ignore rules that are too large or too costly; the message names the source and the fix. */
export class IgnoreRulesError extends Error {
  override readonly name = 'IgnoreRulesError';
}

/** The patterns of both sources, in order (.keelsonignore first, then spec.ignore); comments and blanks dropped. */
export function ignorePatterns(fileText: string | undefined, specText: string | undefined): string[] {
  const out: string[] = [];
  for (const [where, text] of [[IGNORE_FILE, fileText], ['spec.ignore', specText]] as const) {
    if (text === undefined) continue;
    if (text.length > MAX_IGNORE_CHARS) throw new IgnoreRulesError(`${where} is over ${MAX_IGNORE_CHARS / 1024} KiB; keep the ignore rules to a few patterns`);
    for (const raw of text.split('\n')) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.trim() === '' || line.startsWith('#')) continue;
      if (line.length > MAX_PATTERN_CHARS) throw new IgnoreRulesError(`${where}: a pattern is over ${MAX_PATTERN_CHARS} characters`);
      out.push(line);
      if (out.length > MAX_PATTERNS) throw new IgnoreRulesError(`${IGNORE_FILE} and spec.ignore hold over ${MAX_PATTERNS} patterns; use fewer, broader ones`);
    }
  }
  return out;
}

/** The paths the patterns ignore (a folder pattern such as ".github/" ignores every file below it). Pure, synchronous. */
export function matchIgnored(patterns: readonly string[], paths: readonly string[]): boolean[] {
  if (patterns.length === 0) return paths.map(() => false);
  const ig = ignore({ allowRelativePaths: true }).add([...patterns]);
  return paths.map((p) => ig.ignores(p));
}

const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './ignore-worker.ts' : './ignore-worker.js', import.meta.url);

/**
 * matchIgnored in a worker thread, stopped after deadlineMs. `ignore` turns "**" into backtracking regexes: on a
 * deep path a few of them take seconds (3 "**" against a 400-level path: 10 s), and both the patterns and the paths
 * come from the repository. In a worker such a pattern costs its GitSync a failed sync, never the event loop.
 */
export async function ignoredPaths(patterns: readonly string[], paths: readonly string[], signal?: AbortSignal, deadlineMs = MATCH_DEADLINE_MS): Promise<boolean[]> {
  if (patterns.length === 0 || paths.length === 0) return paths.map(() => false);
  const worker = new Worker(WORKER_URL, { stdin: false, workerData: { patterns, paths } });
  try {
    return await new Promise<boolean[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new IgnoreRulesError(`matching the ignore rules (${IGNORE_FILE}, spec.ignore) against ${paths.length} paths took over ${deadlineMs / 1000}s; use fewer "**" in the patterns`)), deadlineMs);
      const stop = () => reject(new IgnoreRulesError('matching the ignore rules: cancelled (timeout or shutdown)'));
      signal?.addEventListener('abort', stop, { once: true });
      const done = () => { clearTimeout(timer); signal?.removeEventListener('abort', stop); };
      worker.once('message', (m: { ignored?: boolean[]; error?: string }) => {
        done();
        if (m.ignored) resolve(m.ignored); else reject(new IgnoreRulesError(`invalid ignore rules (${IGNORE_FILE}, spec.ignore): ${m.error ?? 'unknown error'}`));
      });
      worker.once('error', (e) => { done(); reject(new IgnoreRulesError(`matching the ignore rules failed: ${e.message}`)); });
    });
  } finally {
    await worker.terminate();
  }
}
