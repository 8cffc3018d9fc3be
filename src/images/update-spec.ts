// `GitSync.spec.imageUpdate` as data: which branch and path to rewrite, the commit author and message. Validation
// gives a message naming the field; the commit message always lists every change. Pure.

import { type GitSyncSpec, SpecError, normalisePath } from '../gitsync/spec.js';
import type { SetterChange } from './setters.js';

export interface ImageUpdateSpec {
  readonly branch: string;
  readonly path: string;
  readonly author: { readonly name: string; readonly email: string };
  /** The commit subject; the list of changes follows it. */
  readonly subject: string;
  /** Secret (same namespace) with the signing key: `git.asc` (armored PGP private key) or `identity` (SSH). */
  readonly signingKeyRef: string | undefined;
}

export const DEFAULT_SUBJECT = 'Update images';
const MAX_FIELD = 256;

const text = (v: unknown, field: string, required: boolean): string | undefined => {
  if (v === undefined || v === null || v === '') { if (required) throw new SpecError(`spec.imageUpdate.${field} is required`); return undefined; }
  if (typeof v !== 'string' || v.length > MAX_FIELD || /[\n\r\0<>]/.test(v)) throw new SpecError(`spec.imageUpdate.${field} must be one line of at most ${MAX_FIELD} characters, without < or >`);
  return v;
};

/** The image update part of a GitSync, or undefined when it has none. Throws SpecError. */
export function imageUpdateOf(rawSpec: Record<string, unknown> | undefined, sync: GitSyncSpec): ImageUpdateSpec | undefined {
  const u = rawSpec?.imageUpdate as Record<string, unknown> | undefined | null;
  if (u === undefined || u === null) return undefined;
  if (typeof u !== 'object') throw new SpecError('spec.imageUpdate must be an object');
  const defaultBranch = sync.ref.kind === 'branch' ? sync.ref.name : sync.ref.kind === 'commit' ? sync.ref.branch : undefined;
  const branch = text(u.branch, 'branch', false) ?? defaultBranch;
  if (branch === undefined) throw new SpecError('spec.imageUpdate.branch is required when spec.ref is not a branch');
  if (branch.startsWith('-') || branch.includes('..') || /[\s~^:?*[\\]/.test(branch) || branch.endsWith('/') || branch.endsWith('.lock')) throw new SpecError(`spec.imageUpdate.branch "${branch}" is not a valid branch name`);
  const path = typeof u.path === 'string' && u.path !== '' ? normalisePath(u.path) : sync.path;
  const author = (u.author ?? {}) as Record<string, unknown>;
  const name = text(author.name, 'author.name', true)!;
  const email = text(author.email, 'author.email', true)!;
  const subject = text(u.messageTemplate, 'messageTemplate', false) ?? DEFAULT_SUBJECT;
  const ref = u.signingKeyRef as { name?: unknown } | undefined | null;
  if (ref !== undefined && ref !== null && (typeof ref.name !== 'string' || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(ref.name))) {
    throw new SpecError('spec.imageUpdate.signingKeyRef.name must name a Secret in the GitSync\'s namespace');
  }
  return { branch, path, author: { name, email }, subject, signingKeyRef: ref?.name as string | undefined };
}

/** Subject, blank line, one line per change (file:line policy from → to); bounded to 200 lines. */
export function commitMessage(subject: string, changes: readonly (SetterChange & { file: string })[]): string {
  const lines = changes.slice(0, 200).map((c) => `- ${c.file}:${c.line} ${c.policy}${c.field === 'ref' ? '' : ` (${c.field})`}: ${c.from} -> ${c.to}`);
  if (changes.length > 200) lines.push(`- and ${changes.length - 200} more`);
  return `${subject}\n\n${lines.join('\n')}\n`;
}
