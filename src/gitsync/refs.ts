// Which commit a GitSync's ref points at, from `git ls-remote` output: a branch head, a tag (peeled to its commit),
// the highest tag inside a semver range, or a pinned commit. Pure: lines in, a decision out.

import { maxSatisfying } from './semver.js';
import type { GitRef } from './spec.js';

export interface RemoteRef { readonly name: string; readonly sha: string }

/** Parses `<sha>\t<refname>` lines; annotated tags' peeled lines (`^{}`) replace the tag object's SHA. */
export function parseLsRemote(text: string): Map<string, string> {
  const refs = new Map<string, string>();
  const peeled = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{40,64})\t(\S+)$/.exec(line.trim());
    if (!m) continue;
    if (m[2]!.endsWith('^{}')) peeled.set(m[2]!.slice(0, -3), m[1]!);
    else refs.set(m[2]!, m[1]!);
  }
  for (const [name, sha] of peeled) refs.set(name, sha);
  return refs;
}

export interface Resolved {
  /** The full ref to fetch (refs/heads/main, refs/tags/v1.0.0), or the SHA itself for a pinned commit. */
  readonly fetchRef: string;
  /** Short name for the revision string: "main", "v1.0.0"; undefined for a bare commit. */
  readonly name: string | undefined;
  /** The commit SHA, known from ls-remote (or pinned). */
  readonly sha: string;
}

export class RefError extends Error {
  override readonly name = 'RefError';
}

/** The patterns for `git ls-remote` that are enough to resolve ref (keeps the answer small on big repos). */
export function lsRemotePatterns(ref: GitRef): string[] {
  switch (ref.kind) {
    case 'branch': return [`refs/heads/${ref.name}`];
    case 'tag': return [`refs/tags/${ref.name}`, `refs/tags/${ref.name}^{}`];
    case 'semver': return ['refs/tags/*'];
    case 'commit': return ref.branch ? [`refs/heads/${ref.branch}`] : [];
  }
}

export function resolveRef(ref: GitRef, refs: ReadonlyMap<string, string>): Resolved {
  switch (ref.kind) {
    case 'branch': {
      const sha = refs.get(`refs/heads/${ref.name}`);
      if (!sha) throw new RefError(`branch "${ref.name}" not found in the repository`);
      return { fetchRef: `refs/heads/${ref.name}`, name: ref.name, sha };
    }
    case 'tag': {
      const sha = refs.get(`refs/tags/${ref.name}`);
      if (!sha) throw new RefError(`tag "${ref.name}" not found in the repository`);
      return { fetchRef: `refs/tags/${ref.name}`, name: ref.name, sha };
    }
    case 'semver': {
      const tags = [...refs.keys()].filter((r) => r.startsWith('refs/tags/')).map((r) => r.slice('refs/tags/'.length));
      const best = maxSatisfying(tags, ref.range);
      if (!best) throw new RefError(`no tag matches semver range "${ref.range}" (${tags.length} tags seen)`);
      return { fetchRef: `refs/tags/${best}`, name: best, sha: refs.get(`refs/tags/${best}`)! };
    }
    case 'commit':
      return { fetchRef: ref.sha, name: ref.branch, sha: ref.sha };
  }
}
