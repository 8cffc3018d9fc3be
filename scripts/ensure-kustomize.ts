// Fetches kustomize (5.8 and later: Debian unstable's package; bookworm has none) for the tests, without touching
// the system's apt state: an apt configuration of its own (sid's package list in a private folder, no dpkg status),
// `apt-get download`, then `dpkg -x` into the cache that test/support/kustomize.ts reads. Runs from ensure-test-env.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findKustomize, kustomizeCacheDir } from '../test/support/kustomize.js';

const say = (line: string) => process.stderr.write(`[kustomize] ${line}\n`);
const SOURCE = 'deb http://deb.debian.org/debian sid main\n';

/** apt-get options that read and write only inside `dir`. Pure. */
export function privateAptOptions(dir: string): string[] {
  return [
    '-o', `Dir::Etc::SourceList=${join(dir, 'sources.list')}`, '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State::Lists=${join(dir, 'lists')}`, '-o', `Dir::Cache=${join(dir, 'cache')}`,
    '-o', 'Dir::State::Status=/dev/null', '-o', 'APT::Sandbox::User=root', '-q',
  ];
}

/** True when kustomize is in the cache (fetching it first if needed). */
export function ensureKustomize(opts: { dryRun?: boolean } = {}): boolean {
  if (findKustomize()) return true;
  const target = kustomizeCacheDir();
  if (opts.dryRun) { say(`dry run: would fetch Debian unstable's kustomize into ${target}`); return true; }
  say(`missing: fetching Debian unstable's kustomize into ${target} (first run only)`);
  const work = mkdtempSync(join(tmpdir(), 'keelson-sid-apt-'));
  try {
    for (const d of ['lists/partial', 'cache/archives/partial']) mkdirSync(join(work, d), { recursive: true });
    writeFileSync(join(work, 'sources.list'), SOURCE);
    const apt = privateAptOptions(work);
    const step = (argv: string[], cwd = work) => spawnSync(argv[0]!, argv.slice(1), { cwd, stdio: ['ignore', 2, 2] }).status === 0;
    if (!step(['apt-get', ...apt, 'update']) || !step(['apt-get', ...apt, 'download', 'kustomize'])) { say('apt-get could not fetch kustomize from Debian unstable'); return false; }
    const deb = readdirSync(work).find((f) => /^kustomize_.*\.deb$/.test(f));
    if (!deb) { say('apt-get download left no kustomize .deb'); return false; }
    mkdirSync(target, { recursive: true });
    if (!step(['dpkg', '-x', join(work, deb), target])) { say(`dpkg -x ${deb} failed`); return false; }
    writeFileSync(join(target, 'VERSION'), deb.replace(/^kustomize_|_[^_]*\.deb$/g, '') + '\n');
    if (!existsSync(join(target, 'usr', 'bin', 'kustomize'))) { say(`${deb} holds no usr/bin/kustomize`); return false; }
    say(`kustomize ${deb} unpacked`);
    return true;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
