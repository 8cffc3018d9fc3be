// The git CLI, run with execFile semantics (no shell), a private HOME and no user or system config, no terminal
// prompts, and credentials only through GIT_ASKPASS, environment-passed config, or GIT_SSH_COMMAND files in a
// private temp folder that is removed afterwards. Whatever git prints is redacted before it leaves this module.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summariseGitError } from './redact.js';

/** Credentials from spec.secretRef; every field optional. */
export interface GitAuth {
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly bearerToken?: string | undefined;
  readonly identity?: string | undefined;
  readonly knownHosts?: string | undefined;
  /** PEM CA bundle for an HTTPS server whose certificate the system store does not trust. */
  readonly caCert?: string | undefined;
}

/** A git failure; the message is already free of credentials. */
export class GitError extends Error {
  override readonly name = 'GitError';
}

const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const MAX_OUTPUT = 256 * 1024 * 1024;

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly input?: string | Buffer;
  readonly signal?: AbortSignal;
  /** Values scrubbed from error text, besides credential-shaped text. */
  readonly secrets?: readonly string[];
}

/** Runs a program without a shell; resolves stdout, rejects with a redacted GitError naming what failed. */
export function run(program: string, args: readonly string[], opts: RunOptions = {}): Promise<{ stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new GitError(`${program} ${args[0] ?? ''}: cancelled (timeout or shutdown)`));
    const child = spawn(program, args, { cwd: opts.cwd, env: { ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'], signal: opts.signal });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    child.stdout.on('data', (c: Buffer) => { size += c.length; if (size > MAX_OUTPUT) child.kill('SIGKILL'); else out.push(c); });
    child.stderr.on('data', (c: Buffer) => { if (err.length < 1024) err.push(c); });
    child.stdin.on('error', () => { /* the program may exit without reading its input */ });
    child.on('error', (e) => {
      const what = e.name === 'AbortError' ? 'cancelled (timeout or shutdown)' : e.message;
      reject(new GitError(`${program} ${args[0] ?? ''}: ${what}`));
    });
    child.on('close', (code, sig) => {
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) return resolve({ stdout: Buffer.concat(out), stderr });
      if (opts.signal?.aborted) return reject(new GitError(`${program} ${args[0] ?? ''}: cancelled (timeout or shutdown)`));
      const detail = summariseGitError(stderr, opts.secrets ?? []) || (sig ? `killed by ${sig}` : `exit code ${code}`);
      reject(Object.assign(new GitError(`${program} ${args[0] ?? ''} failed: ${detail}`), { exitCode: code, stderr: summariseGitError(stderr, opts.secrets ?? []) }));
    });
    child.stdin.end(opts.input);
  });
}

const ASKPASS = `#!/bin/sh
# Answers git's username/password prompts from the environment; never from arguments (visible in ps).
case "$1" in
  Username*|username*) printf '%s\\n' "$KEELSON_GIT_USERNAME" ;;
  *) printf '%s\\n' "$KEELSON_GIT_PASSWORD" ;;
esac
`;

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A private folder with HOME, askpass, SSH identity and known_hosts for one git invocation; removed by dispose(). */
export interface GitSession {
  readonly env: Readonly<Record<string, string>>;
  readonly secrets: readonly string[];
  readonly dir: string;
  dispose(): Promise<void>;
}

export async function openSession(auth: GitAuth | undefined, extraEnv: Record<string, string> = {}): Promise<GitSession> {
  const dir = await mkdtemp(join(tmpdir(), 'keelson-git-'));
  await chmod(dir, 0o700);
  const home = join(dir, 'home');
  await mkdir(home, { mode: 0o700 });
  const askpass = join(dir, 'askpass.sh');
  await writeFile(askpass, ASKPASS, { mode: 0o700 });
  const knownHosts = join(dir, 'known_hosts');
  await writeFile(knownHosts, auth?.knownHosts ?? '', { mode: 0o600 });
  const sshArgs = ['ssh', '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${shellQuote(knownHosts)}`,
    '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'IdentitiesOnly=yes', '-o', 'ConnectTimeout=20'];
  if (auth?.identity) {
    const identity = join(dir, 'identity');
    await writeFile(identity, auth.identity.endsWith('\n') ? auth.identity : auth.identity + '\n', { mode: 0o600 });
    sshArgs.push('-i', shellQuote(identity));
  }
  const env: Record<string, string> = {
    PATH: SAFE_PATH, HOME: home, LANG: 'C', LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ASKPASS: askpass, SSH_ASKPASS: askpass, GIT_SSH_COMMAND: sshArgs.join(' '), GIT_SSH_VARIANT: 'ssh',
    KEELSON_GIT_USERNAME: auth?.username ?? (auth?.password ? 'git' : ''), KEELSON_GIT_PASSWORD: auth?.password ?? '',
    ...extraEnv,
  };
  if (auth?.caCert) {
    const ca = join(dir, 'ca.crt');
    await writeFile(ca, auth.caCert, { mode: 0o600 });
    env.GIT_SSL_CAINFO = ca;
  }
  // Config through the environment, not `-c` (arguments are visible in process listings). Only the plain
  // transports are allowed: never ext:: or other remote helpers that run commands.
  const config: [string, string][] = [['protocol.allow', 'never'], ...['https', 'http', 'ssh', 'git', 'file'].map((p): [string, string] => [`protocol.${p}.allow`, 'always'])];
  if (auth?.bearerToken) config.push(['http.extraHeader', `Authorization: Bearer ${auth.bearerToken}`]);
  env.GIT_CONFIG_COUNT = String(config.length);
  config.forEach(([k, v], i) => { env[`GIT_CONFIG_KEY_${i}`] = k; env[`GIT_CONFIG_VALUE_${i}`] = v; });
  const secrets = [auth?.password, auth?.bearerToken, auth?.identity, auth?.username && auth.password ? `${auth.username}:${auth.password}` : undefined]
    .filter((s): s is string => typeof s === 'string' && s !== '');
  return { env, secrets, dir, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** Serialises work per key (one fetch per repository URL at a time), across GitSyncs. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async with<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => { release = r; });
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    try { return await fn(); } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/** The cache folder of one GitSync's repository: stable per (GitSync, URL), so a changed URL starts clean. */
export function repoDirFor(cacheDir: string, namespace: string, name: string, url: string): string {
  const h = createHash('sha256').update(`${namespace}/${name}\u0000${url}`).digest('hex').slice(0, 16);
  return join(cacheDir, `${namespace}_${name}_${h}`);
}

export async function git(session: GitSession, args: readonly string[], opts: Omit<RunOptions, 'env' | 'secrets'> = {}): Promise<Buffer> {
  return (await run('git', args, { ...opts, env: session.env, secrets: session.secrets })).stdout;
}

export async function lsRemote(session: GitSession, url: string, patterns: readonly string[], signal?: AbortSignal): Promise<string> {
  return (await git(session, ['ls-remote', '--', url, ...patterns], { signal })).toString('utf8');
}

export async function ensureRepo(session: GitSession, dir: string, signal?: AbortSignal): Promise<void> {
  if (existsSync(join(dir, 'HEAD'))) return;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await git(session, ['init', '--bare', '--quiet', dir], { signal });
}

export async function hasCommit(session: GitSession, dir: string, sha: string): Promise<boolean> {
  try { await git(session, ['-C', dir, 'cat-file', '-e', `${sha}^{commit}`]); return true; } catch { return false; }
}

/**
 * Makes `sha` present in the cache: nothing if it already is, else a shallow fetch of fetchRef; a pinned commit
 * that the server will not serve by SHA falls back to fetching the branches' full history.
 */
export async function fetchCommit(session: GitSession, dir: string, url: string, fetchRef: string, sha: string, signal?: AbortSignal): Promise<void> {
  if (await hasCommit(session, dir, sha)) return;
  const isSha = /^[0-9a-f]{40}$/.test(fetchRef);
  const refspec = isSha ? fetchRef : `+${fetchRef}:refs/keelson/target`;
  try {
    await git(session, ['-C', dir, 'fetch', '--quiet', '--depth=1', '--no-tags', '--', url, refspec], { signal });
  } catch (err) {
    if (!isSha) throw err;
    const shallow = existsSync(join(dir, 'shallow'));
    await git(session, ['-C', dir, 'fetch', '--quiet', '--no-tags', ...(shallow ? ['--unshallow'] : []), '--', url, '+refs/heads/*:refs/keelson/heads/*'], { signal });
  }
  if (!(await hasCommit(session, dir, sha))) throw new GitError(`commit ${sha} is not in the repository after fetching ${fetchRef}`);
}

/** Paths and blob ids of regular files under basePath at sha ("." = whole tree). */
export async function listFiles(session: GitSession, dir: string, sha: string, basePath: string): Promise<{ path: string; oid: string }[]> {
  if (basePath !== '.') {
    try { await git(session, ['-C', dir, 'cat-file', '-e', `${sha}:${basePath}`]); } catch {
      throw new GitError(`spec.path "${basePath}" does not exist at commit ${sha}`);
    }
  }
  const args = ['-C', dir, 'ls-tree', '-r', '-z', '--full-tree', sha, ...(basePath === '.' ? [] : ['--', basePath])];
  const out = (await git(session, args)).toString('utf8');
  const files: { path: string; oid: string }[] = [];
  for (const entry of out.split('\0')) {
    const m = /^(\d{6}) (\w+) ([0-9a-f]+)\t(.*)$/s.exec(entry);
    // Regular files only: symlinks (120000) could point outside the path, submodules (commit) are not manifests.
    if (m && m[2] === 'blob' && (m[1] === '100644' || m[1] === '100755')) files.push({ path: m[4]!, oid: m[3]! });
  }
  return files;
}

/** Contents of blobs in one `git cat-file --batch` process. */
export async function readBlobs(session: GitSession, dir: string, oids: readonly string[]): Promise<Buffer[]> {
  if (oids.length === 0) return [];
  const out = await git(session, ['-C', dir, 'cat-file', '--batch'], { input: oids.join('\n') + '\n' });
  const blobs: Buffer[] = [];
  let at = 0;
  for (const oid of oids) {
    const nl = out.indexOf(0x0a, at);
    const header = out.subarray(at, nl).toString('utf8');
    const m = /^([0-9a-f]+) blob (\d+)$/.exec(header);
    if (!m) throw new GitError(`could not read blob ${oid}: ${header.slice(0, 80)}`);
    const size = Number(m[2]);
    blobs.push(out.subarray(nl + 1, nl + 1 + size));
    at = nl + 1 + size + 1;
  }
  return blobs;
}
