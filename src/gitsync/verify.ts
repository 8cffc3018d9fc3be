// Commit signature verification for spec.verify: `git verify-commit` against a throw-away GnuPG home holding only
// the trusted armored PGP keys, and an allowed-signers file holding only the trusted SSH public keys. A commit that
// is unsigned, or signed by any other key, fails.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GitError, type GitSession, git, run } from './git.js';

export interface TrustedKeys { readonly pgp: readonly string[]; readonly ssh: readonly string[] }

/** Unsigned or untrusted: the revision must not be applied. */
export class VerificationError extends Error {
  override readonly name = 'VerificationError';
}

const SSH_KEY = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)\s+[A-Za-z0-9+/=]+/;

const PGP_BEGIN = '-----BEGIN PGP PUBLIC KEY BLOCK-----';
const PGP_END = '-----END PGP PUBLIC KEY BLOCK-----';

/**
 * The armored PGP key blocks in text, by indexOf: the lazy regex this replaces rescanned the rest of the text from
 * every BEGIN line without an END (quadratic on a tenant's 1 MiB Secret).
 */
export function pgpBlocks(text: string): string[] {
  const blocks: string[] = [];
  for (let begin = text.indexOf(PGP_BEGIN); begin >= 0;) {
    const end = text.indexOf(PGP_END, begin + PGP_BEGIN.length);
    if (end < 0) break; // no END after this BEGIN, so none after any later BEGIN either
    blocks.push(text.slice(begin, end + PGP_END.length));
    begin = text.indexOf(PGP_BEGIN, end + PGP_END.length);
  }
  return blocks;
}

/** Sorts a verify Secret's values into PGP key blocks and SSH public key lines (any key names). Pure. */
export function trustedKeysOf(data: Readonly<Record<string, string>>): TrustedKeys {
  const pgp: string[] = [];
  const ssh: string[] = [];
  for (const key of Object.keys(data).sort()) {
    const text = data[key]!;
    for (const block of pgpBlocks(text)) pgp.push(block);
    for (const line of text.split('\n')) {
      const l = line.trim();
      // authorized_keys / allowed_signers style lines may carry a principal or options first: keep the key part.
      const at = l.search(/(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)\s/);
      if (at >= 0 && SSH_KEY.test(l.slice(at))) ssh.push(l.slice(at).split(/\s+/).slice(0, 2).join(' '));
    }
  }
  return { pgp, ssh };
}

/** Throws VerificationError unless commit sha in the repo at dir carries a good signature from a trusted key. */
export async function verifyCommit(session: GitSession, dir: string, sha: string, keys: TrustedKeys, signal?: AbortSignal): Promise<void> {
  if (keys.pgp.length === 0 && keys.ssh.length === 0) throw new VerificationError('the verify Secret holds no PGP public key block and no SSH public key');
  const raw = (await git(session, ['-C', dir, 'cat-file', 'commit', sha], { signal })).toString('utf8');
  const headers = raw.slice(0, raw.indexOf('\n\n'));
  if (!/^gpgsig(-sha256)? /m.test(headers)) throw new VerificationError(`commit ${sha} is not signed`);
  const gnupg = join(session.dir, 'gnupg');
  await mkdir(gnupg, { recursive: true, mode: 0o700 });
  const env = { ...session.env, GNUPGHOME: gnupg };
  for (const block of keys.pgp) {
    await run('gpg', ['--batch', '--quiet', '--no-tty', '--import'], { env, input: block, signal }).catch((err: Error) => {
      throw new VerificationError(`a PGP key in the verify Secret could not be imported: ${err.message}`);
    });
  }
  const allowed = join(session.dir, 'allowed_signers');
  await writeFile(allowed, keys.ssh.map((k) => `keelson-trusted namespaces="git" ${k}\n`).join(''), { mode: 0o600 });
  try {
    await run('git', ['-C', dir, '-c', `gpg.ssh.allowedSignersFile=${allowed}`, '-c', 'gpg.minTrustLevel=undefined', 'verify-commit', sha], { env, signal, secrets: session.secrets });
  } catch (err) {
    if (signal?.aborted) throw err;
    const detail = err instanceof GitError ? ((err as GitError & { stderr?: string }).stderr ?? '') : '';
    const why = /no public key|No principal matched|Can't check signature|not in allowed_signers|ERRSIG|NO_PUBKEY/i.test(detail)
      ? 'signed by a key that is not trusted' : 'its signature does not verify';
    throw new VerificationError(`commit ${sha} is ${why}${detail ? ` (${detail.slice(0, 200)})` : ''}`);
  }
}
