// Writes image updates into Git: a fresh shallow clone of the branch, the setter rewrite of the YAML files under the
// path, one commit by the configured author, and a plain push (never forced). A rejected push (someone else
// committed meanwhile) is retried on the new tip, rewriting from scratch, so their commit is kept. Runs through the
// GitSync's git session (transport policy and credentials as for fetching).

import { lstat, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { GitError, type GitSession, git, run } from '../gitsync/git.js';
import { type SetterChange, rewriteSetters } from './setters.js';
import { commitMessage, type ImageUpdateSpec } from './update-spec.js';

export interface UpdateLimits {
  readonly maxFiles: number;
  readonly maxBytes: number;
  readonly attempts: number;
}

export const DEFAULT_UPDATE_LIMITS: UpdateLimits = { maxFiles: 10_000, maxBytes: 64 * 1024 * 1024, attempts: 3 };
/** A YAML file bigger than this is not rewritten (as Git sync refuses documents over 4 MiB): one rewrite stays short on the event loop. */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;

export interface UpdateResult {
  /** The pushed commit, or undefined when every marker was already up to date. */
  readonly commit: string | undefined;
  readonly changes: readonly (SetterChange & { file: string })[];
}

export class UpdateError extends Error {
  override readonly name = 'UpdateError';
}

/** A commit signing key: an armored PGP private key, or an OpenSSH private key. Neither may have a passphrase. */
export type SigningKey = { readonly kind: 'pgp'; readonly armored: string } | { readonly kind: 'ssh'; readonly privateKey: string };

/** Git config arguments (and environment) that make `git commit -S` sign with the key; files go into the session folder. */
async function signingSetup(session: GitSession, key: SigningKey, signal?: AbortSignal): Promise<{ args: string[]; env: Record<string, string> }> {
  if (key.kind === 'ssh') {
    const path = join(session.dir, 'signing-key');
    await writeFile(path, key.privateKey.endsWith('\n') ? key.privateKey : `${key.privateKey}\n`, { mode: 0o600 });
    return { args: ['-c', 'gpg.format=ssh', '-c', `user.signingKey=${path}`], env: {} };
  }
  const gnupg = await mkdtemp(join(session.dir, 'gnupg-'));
  const env = { ...session.env, GNUPGHOME: gnupg };
  await run('gpg', ['--batch', '--quiet', '--no-tty', '--import'], { env, input: key.armored, signal, secrets: [key.armored] }).catch(() => {
    throw new UpdateError('the signing key in spec.imageUpdate.signingKeyRef (git.asc) could not be imported as a PGP private key');
  });
  const listing = (await run('gpg', ['--batch', '--with-colons', '--list-secret-keys'], { env, signal })).stdout.toString('utf8');
  const fpr = /^fpr:(?:[^:]*:){8}([0-9A-F]{40,64}):/m.exec(listing)?.[1];
  if (!fpr) throw new UpdateError('the signing key in spec.imageUpdate.signingKeyRef (git.asc) holds no PGP secret key');
  return { args: ['-c', 'gpg.format=openpgp', '-c', `user.signingKey=${fpr}`], env: { GNUPGHOME: gnupg } };
}

/** YAML files under dir/base (regular files only; symlinks could lead out of the clone), bounded. */
async function yamlFiles(root: string, base: string, limits: UpdateLimits): Promise<string[]> {
  const out: string[] = [];
  let bytes = 0;
  const start = base === '.' ? root : join(root, base);
  const st = await lstat(start).catch(() => undefined);
  if (!st?.isDirectory()) throw new UpdateError(`spec.imageUpdate.path "${base}" is not a folder on the branch`);
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.name === '.git') continue;
      const full = join(dir, e.name);
      if (e.isDirectory()) { await walk(full); continue; }
      if (!e.isFile() || !/\.ya?ml$/.test(e.name)) continue;
      const size = (await lstat(full)).size;
      if (size > MAX_FILE_BYTES) continue;
      bytes += size;
      out.push(full);
      if (out.length > limits.maxFiles || bytes > limits.maxBytes) throw new UpdateError(`the files under spec.imageUpdate.path "${base}" exceed ${limits.maxFiles} files or ${limits.maxBytes} bytes; narrow the path`);
    }
  };
  await walk(start);
  return out.sort();
}

async function rewriteTree(work: string, spec: ImageUpdateSpec, latest: (policy: string) => string | undefined, limits: UpdateLimits): Promise<(SetterChange & { file: string })[]> {
  const all: (SetterChange & { file: string })[] = [];
  for (const file of await yamlFiles(work, spec.path, limits)) {
    const before = await readFile(file, 'utf8');
    const { text, changes } = rewriteSetters(before, latest);
    if (changes.length === 0) continue;
    await writeFile(file, text);
    const rel = relative(work, file);
    for (const c of changes) all.push({ ...c, file: rel });
  }
  return all;
}

const rejected = (err: unknown) => err instanceof GitError && /\[rejected\]|non-fast-forward|fetch first|failed to update ref|cannot lock ref/i.test(err.message + String((err as { stderr?: string }).stderr ?? ''));

/** Clones, rewrites, commits and pushes; retries a rejected push on the new tip. */
export async function pushImageUpdates(o: {
  session: GitSession; url: string; spec: ImageUpdateSpec; latest: (policy: string) => string | undefined;
  signal?: AbortSignal | undefined; limits?: UpdateLimits; signingKey?: SigningKey | undefined;
}): Promise<UpdateResult> {
  const limits = o.limits ?? DEFAULT_UPDATE_LIMITS;
  // A fresh folder per run inside the session's private folder (removed with it).
  const work = await mkdtemp(join(o.session.dir, 'work-'));
  const branchRef = `refs/heads/${o.spec.branch}`;
  await git(o.session, ['clone', '--quiet', '--depth=1', '--single-branch', '--no-tags', '--branch', o.spec.branch, '--', o.url, work], { signal: o.signal });
  const env = { GIT_AUTHOR_NAME: o.spec.author.name, GIT_AUTHOR_EMAIL: o.spec.author.email, GIT_COMMITTER_NAME: o.spec.author.name, GIT_COMMITTER_EMAIL: o.spec.author.email };
  const signing = o.signingKey ? await signingSetup(o.session, o.signingKey, o.signal) : undefined;
  const session = { ...o.session, env: { ...o.session.env, ...env, ...signing?.env } };
  const commitArgs = signing ? [...signing.args, 'commit', '-S'] : ['-c', 'commit.gpgSign=false', 'commit'];
  for (let attempt = 1; ; attempt++) {
    const changes = await rewriteTree(work, o.spec, o.latest, limits);
    if (changes.length === 0) return { commit: undefined, changes };
    await git(session, ['-C', work, 'add', '-A', '--', o.spec.path], { signal: o.signal });
    await git(session, ['-C', work, ...commitArgs, '--quiet', '--no-verify', '-F', '-'], { input: commitMessage(o.spec.subject, changes), signal: o.signal });
    const commit = (await git(session, ['-C', work, 'rev-parse', 'HEAD'])).toString('utf8').trim();
    try {
      await git(session, ['-C', work, 'push', '--quiet', '--no-verify', 'origin', `HEAD:${branchRef}`], { signal: o.signal });
      return { commit, changes };
    } catch (err) {
      if (!rejected(err) || attempt >= limits.attempts) throw err;
      // Someone pushed meanwhile: start again from their tip (level-triggered: rewrite what is there now).
      await git(session, ['-C', work, 'fetch', '--quiet', '--depth=1', '--no-tags', 'origin', `+${branchRef}:refs/remotes/origin/${o.spec.branch}`], { signal: o.signal });
      await git(session, ['-C', work, 'reset', '--quiet', '--hard', `refs/remotes/origin/${o.spec.branch}`], { signal: o.signal });
    }
  }
}
