// The first-run package step of `npm test`: which listed Debian packages are missing given dpkg-query's output, and
// how to get them (root, sudo, or a message naming them), exhaustively; then the real script in --dry-run mode.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DPKG_FORMAT, installCommand, missingPackages, packagePlan, parsePackageList } from '../../../scripts/test-packages.js';

const ROOT = join(import.meta.dirname, '../../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const name = fc.stringMatching(/^[a-z0-9][a-z0-9+.-]{1,20}$/);
const STATUSES = ['install ok installed', 'hold ok installed', 'deinstall ok installed', 'deinstall ok config-files', 'install ok unpacked', 'install ok half-configured', 'purge ok not-installed', 'install reinstreq installed'];
const isInstalled = (status: string) => status.endsWith(' ok installed');

describe('test packages: the list', () => {
  it('reads names one a line, without comments, blanks or repeats', () => {
    assert.deepEqual(parsePackageList('git\n# servers\nopenssh-server  # sshd for the ssh transport\n\n  gnupg\ngit\nlibc6'), ['git', 'openssh-server', 'gnupg', 'libc6']);
  });
  it('refuses anything that is not a Debian package name, naming the line', () => {
    for (const bad of ['-o', '--allow-unauthenticated', 'Git', 'a', 'foo bar', 'x;rm', 'pkg=1.0']) {
      assert.throws(() => parsePackageList(`git\n${bad}\n`, 'list.txt'), new RegExp(`^Error: list\\.txt:2: `), bad);
    }
  });
  it('the project list parses, and has the packages the tests spawn', () => {
    const list = parsePackageList(readFileSync(join(ROOT, 'scripts/ci-packages.txt'), 'utf8'));
    for (const p of ['git', 'gnupg', 'openssh-server', 'openssh-client', 'openssl']) assert.ok(list.includes(p), p);
  });
});

describe('test packages: what is missing', () => {
  it('a package is present only when dpkg says it is installed without an error (held counts)', () => {
    const out = 'git\tinstall ok installed\nopenssh-server\tdeinstall ok config-files\ngnupg\tinstall ok unpacked\nopenssl\thold ok installed\ncurl\tinstall reinstreq installed\n';
    assert.deepEqual(missingPackages(['git', 'openssh-server', 'gnupg', 'openssl', 'curl', 'tinyproxy'], out), ['openssh-server', 'gnupg', 'curl', 'tinyproxy']);
  });
  it('architecture-qualified names count for the package; one installed architecture is enough', () => {
    const out = 'libfoo:amd64\tinstall ok installed\nlibfoo:i386\tdeinstall ok config-files\n';
    assert.deepEqual(missingPackages(['libfoo'], out), []);
  });
  it('empty or garbled output: everything is missing', () => {
    assert.deepEqual(missingPackages(['git', 'gnupg'], ''), ['git', 'gnupg']);
    assert.deepEqual(missingPackages(['git'], 'dpkg-query: no packages found matching git\n'), ['git']);
  });
  it('property: missing = wanted minus the installed ones, in list order, whatever else dpkg prints', () => {
    fc.assert(fc.property(
      fc.uniqueArray(name, { maxLength: 12 }),
      fc.array(fc.record({ pkg: name, status: fc.constantFrom(...STATUSES) }), { maxLength: 20 }),
      fc.boolean(),
      (wanted, rows, crlf) => {
        const out = rows.map((r) => `${r.pkg}\t${r.status}`).join(crlf ? '\r\n' : '\n');
        const installed = new Set(rows.filter((r) => isInstalled(r.status)).map((r) => r.pkg));
        assert.deepEqual(missingPackages(wanted, out), wanted.filter((w) => !installed.has(w)));
      },
    ));
  });
  it('agrees with the real dpkg-query here: a package that does not exist is missing', () => {
    const wanted = ['dpkg', 'keelson-no-such-package'];
    const r = spawnSync('dpkg-query', ['-W', '-f', DPKG_FORMAT, ...wanted], { encoding: 'utf8' });
    assert.deepEqual(missingPackages(wanted, r.stdout), ['keelson-no-such-package']);
  });
});

describe('test packages: how to get them', () => {
  const cases = [0, 1000].flatMap((uid) => [true, false].flatMap((sudo) => [true, false].map((apt) => ({ uid, sudo, apt }))));
  for (const who of cases) {
    it(`uid ${who.uid}, sudo ${who.sudo ? 'available' : 'absent'}, ${who.apt ? 'Debian' : 'no apt'}`, () => {
      assert.deepEqual(packagePlan([], who), { kind: 'nothing' });
      const plan = packagePlan(['openssh-server', 'gnupg'], who);
      if (!who.apt || (who.uid !== 0 && !who.sudo)) {
        assert.equal(plan.kind, 'cannot');
        if (plan.kind !== 'cannot') return;
        assert.match(plan.message, /openssh-server gnupg/, 'names the packages');
        if (who.apt) assert.match(plan.message, /Neither root nor sudo/);
        return;
      }
      assert.equal(plan.kind, 'install');
      if (plan.kind !== 'install') return;
      const prefix = who.uid === 0 ? [] : ['sudo', 'env', 'DEBIAN_FRONTEND=noninteractive'];
      assert.deepEqual(plan.commands, [[...prefix, 'apt-get', '-o', 'DPkg::Lock::Timeout=300', 'update', '-qq'], [...prefix, ...installCommand(['openssh-server', 'gnupg'])]]);
      assert.deepEqual(plan.commands[1]!.slice(-2), ['openssh-server', 'gnupg'], 'only the missing ones');
    });
  }
});

describe('scripts/ensure-test-env.ts --dry-run', () => {
  it('names what it would install and changes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keelson-packages-'));
    try {
      writeFileSync(join(dir, 'list.txt'), 'dpkg\nkeelson-no-such-package # never installed\n');
      const r = spawnSync(NODE, ['--import', 'tsx', 'scripts/ensure-test-env.ts', '--dry-run', '--list', join(dir, 'list.txt')], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /\[packages\] missing keelson-no-such-package: would install them\n/);
      assert.match(r.stderr, /dry run: would run (sudo env DEBIAN_FRONTEND=noninteractive )?apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends keelson-no-such-package\n/);
      assert.doesNotMatch(r.stderr, /\bdpkg\b.*would run/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
