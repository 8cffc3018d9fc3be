import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpecError, checkUrl, normalisePath, parseSpec, revisionOf } from '../../../src/gitsync/spec.js';

const gs = (spec: Record<string, unknown>) => ({ metadata: { name: 'g', namespace: 'team' }, spec });

describe('spec', () => {
  it('fills defaults', () => {
    const s = parseSpec(gs({ url: 'https://git.example.com/org/config.git' }));
    assert.deepEqual(s, {
      url: 'https://git.example.com/org/config.git', ref: { kind: 'branch', name: 'main' }, path: '.', intervalMs: 60_000, prune: false,
      targetNamespace: undefined, serviceAccountName: undefined, secretRef: undefined, verify: undefined, webhookSecretRef: undefined, proxySecretRef: undefined, suspend: false, timeoutMs: 60_000,
      wait: false, healthChecks: [], dependsOn: [], ignore: undefined, kustomize: undefined,
    });
  });
  it('reads every field', () => {
    const s = parseSpec(gs({
      url: 'ssh://git@host/org/repo.git', ref: { semver: '>=1.0.0 <2.0.0' }, path: './clusters//prod/', interval: '5m', prune: true,
      targetNamespace: 'apps', serviceAccountName: 'deployer', secretRef: { name: 'git-auth' }, verify: { mode: 'HEAD', secretRef: { name: 'keys' } }, webhookSecretRef: { name: 'hook' },
      suspend: true, timeout: '2m',
    }));
    assert.equal(s.path, 'clusters/prod');
    assert.deepEqual(s.ref, { kind: 'semver', range: '>=1.0.0 <2.0.0' });
    assert.equal(s.intervalMs, 300_000);
    assert.equal(s.timeoutMs, 120_000);
    assert.deepEqual(s.verify, { mode: 'HEAD', secretRef: 'keys' });
    assert.equal(s.secretRef, 'git-auth');
    assert.equal(s.webhookSecretRef, 'hook');
    assert.equal(s.targetNamespace, 'apps');
    assert.equal(s.serviceAccountName, 'deployer');
    assert.equal(s.prune && s.suspend, true);
  });
  it('rejects bad specs naming the field', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{}, /spec.url is required/],
      [{ url: 'https://u:p@h/r.git' }, /must not contain a password/],
      [{ url: 'ftp://h/r.git' }, /scheme ftp: is not supported/],
      [{ url: 'https://h/r', ref: { branch: 'a', tag: 'b' } }, /choose one of/],
      [{ url: 'https://h/r', ref: { commit: 'abc' } }, /full 40-hex/],
      [{ url: 'https://h/r', ref: { semver: '>=abc' } }, /spec.ref.semver/],
      [{ url: 'https://h/r', ref: { branch: '--upload-pack=evil' } }, /not a valid Git branch name/],
      [{ url: 'https://h/r', ref: { tag: 'a..b' } }, /not a valid Git tag/],
      [{ url: 'https://h/r', interval: 'soon' }, /spec.interval "soon"/],
      [{ url: 'https://h/r', interval: '0' }, /spec.interval/],
      [{ url: 'https://h/r', path: '../etc' }, /must stay inside/],
      [{ url: 'https://h/r', secretRef: {} }, /spec.secretRef.name/],
      [{ url: 'https://h/r', verify: {} }, /spec.verify.secretRef.name is required/],
      [{ url: 'https://h/r', verify: { mode: 'all', secretRef: { name: 'k' } } }, /spec.verify.mode must be HEAD/],
      [{ url: 'https://h/r', targetNamespace: 'Bad_NS' }, /targetNamespace/],
      [{ url: 'https://h/r', serviceAccountName: 'Bad_SA' }, /spec.serviceAccountName "Bad_SA" is not a ServiceAccount name/],
      [{ url: 'https://h/r', serviceAccountName: 'team-b:deployer' }, /spec.serviceAccountName/],
      [{ url: 'https://h/r', serviceAccountName: 'system:serviceaccount:kube-system:admin' }, /spec.serviceAccountName/],
      [{ url: 'https://h/r', serviceAccountName: 7 }, /spec.serviceAccountName must be a string/],
      [{ url: 42 }, /spec.url must be a string/],
      [{ url: 'ext::sh -c touch% /tmp/pwned' }, /must not start with "-" or contain spaces/],
      [{ url: 'ext::sh' }, /spec.url must be an https/],
      [{ url: 'fd::17' }, /spec.url must be an https/],
      [{ url: '--upload-pack=touch:x' }, /must not start with "-"/],
    ];
    for (const [spec, re] of bad) assert.throws(() => parseSpec(gs(spec)), (e: unknown) => e instanceof SpecError && re.test(e.message), JSON.stringify(spec));
  });
  it('accepts scp-like and file URLs', () => {
    for (const u of ['git@github.com:org/repo.git', 'file:///srv/git/repo.git', 'git://127.0.0.1:9418/r.git', 'http://h/r']) checkUrl(u);
  });
  it('normalises paths and names revisions', () => {
    assert.equal(normalisePath(undefined), '.');
    assert.equal(normalisePath('./'), '.');
    assert.equal(normalisePath('a/./b/'), 'a/b');
    assert.equal(revisionOf('main', 'f'.repeat(40)), `main@sha1:${'f'.repeat(40)}`);
    assert.equal(revisionOf(undefined, 'f'.repeat(40)), `sha1:${'f'.repeat(40)}`);
  });
});
