// Invariants of the Dockerfile and .dockerignore (no Docker engine here): multi-stage on node:24 images, production
// dependencies only, git + openssh-client + gnupg at runtime, a numeric non-root USER matching the manifests, the
// keelson bin as ENTRYPOINT with `controller` as default command, and a build context that holds what is copied.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, manifestObjects } from '../../support/manifests.js';

interface Instruction { readonly op: string; readonly args: string }
interface Stage { readonly from: string; readonly name: string | undefined; readonly body: Instruction[] }

/** Instructions with continuation lines joined and comments dropped, grouped into stages. */
function stages(text: string): Stage[] {
  const joined = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const out: { from: string; name: string | undefined; body: Instruction[] }[] = [];
  for (const line of joined) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)!;
      out.push({ from: m[1]!, name: m[2], body: [] });
    } else {
      assert.ok(out.length > 0, `${op} before FROM`);
      out.at(-1)!.body.push({ op: op.toUpperCase(), args });
    }
  }
  return out;
}

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const all = stages(dockerfile);
const build = all[0]!;
const runtime = all.at(-1)!;
const ops = (s: Stage, op: string) => s.body.filter((i) => i.op === op);
const runs = (s: Stage) => ops(s, 'RUN').map((i) => i.args).join('\n');
const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

describe('Dockerfile', () => {
  it('is multi-stage on node:24 images: a full image builds, a slim one runs', () => {
    assert.ok(all.length >= 2);
    for (const s of all) assert.match(s.from, /^node:24(-|$)/, `FROM ${s.from}`);
    assert.equal(build.from, 'node:24-bookworm');
    assert.equal(runtime.from, 'node:24-bookworm-slim');
  });

  it('builds with npm ci from the lock file and keeps production dependencies only', () => {
    assert.match(runs(build), /\bnpm ci\b/);
    assert.match(runs(build), /tsconfig\.build\.json/);
    assert.match(runs(build), /npm prune --omit=dev/);
    assert.ok(ops(build, 'COPY').some((c) => c.args.includes('package-lock.json')));
  });

  it('the runtime image has git, openssh-client and gnupg, and cleans the apt lists', () => {
    const r = runs(runtime);
    for (const p of ['git', 'openssh-client', 'gnupg']) assert.match(r, new RegExp(`apt-get install[^\\n]*\\s${p}(\\s|$)`), p);
    assert.match(r, /--no-install-recommends/);
    assert.match(r, /rm -rf \/var\/lib\/apt\/lists/);
  });

  it('copies only the build output, production node_modules, package.json and bin into the runtime image', () => {
    const copies = ops(runtime, 'COPY').map((c) => c.args).filter((c) => !c.startsWith('--from=kustomize'));
    assert.deepEqual(copies.map((c) => c.split(/\s+/).filter((w) => !w.startsWith('--')).at(-1)), ['./package.json', './node_modules', './dist', './bin']);
    for (const c of copies.filter((x) => !x.includes('bin'))) assert.match(c, /^--from=build\s/);
    assert.ok(!copies.some((c) => /\bsrc\b|\btest\b/.test(c)), 'no sources or tests at runtime');
    assert.equal(ops(runtime, 'ADD').length + ops(build, 'ADD').length, 0, 'COPY, never ADD');
  });

  it('ships kustomize on PATH: a pinned Debian version checked against its digest, only the binary copied', () => {
    const stage = all.find((s) => s.name === 'kustomize')!;
    assert.ok(stage, 'a kustomize stage');
    const version = ops(stage, 'ARG').find((a) => a.args.startsWith('KUSTOMIZE_DEB_VERSION='))!.args.split('=')[1]!;
    assert.match(version, /^5\.\d+\.\d+/);
    assert.match(ops(stage, 'ARG').find((a) => a.args.startsWith('KUSTOMIZE_DEB_SHA256='))!.args, /=[0-9a-f]{64}$/);
    assert.match(runs(stage), /apt-get \$APT download "kustomize=\$\{KUSTOMIZE_DEB_VERSION\}"/);
    assert.match(runs(stage), /sha256sum -c/);
    assert.match(runs(stage), /Dir::State::Status=\/dev\/null/, 'a private apt configuration');
    assert.deepEqual(ops(runtime, 'COPY').filter((c) => c.args.startsWith('--from=kustomize')).map((c) => c.args), ['--from=kustomize /out/usr/bin/kustomize /usr/local/bin/kustomize']);
  });

  it('runs as a numeric non-root user, the one the Deployment sets', () => {
    const users = ops(runtime, 'USER');
    assert.equal(users.length, 1);
    const [uid, gid] = users[0]!.args.split(':').map(Number);
    assert.ok(Number.isInteger(uid) && uid! > 0, `USER ${users[0]!.args} is numeric and not root`);
    const dep = manifestObjects().find((m) => m.object.kind === 'Deployment')!.object as any;
    assert.equal(dep.spec.template.spec.containers[0].securityContext.runAsUser, uid);
    assert.equal(dep.spec.template.spec.containers[0].securityContext.runAsGroup, gid);
    assert.match(runs(runtime), new RegExp(`useradd[^\\n]*--uid ${uid}\\b`), 'the uid has a passwd entry (ssh needs one)');
    assert.ok(runtime.body.findIndex((i) => i.op === 'USER') > runtime.body.findIndex((i) => i.op === 'RUN'), 'USER after the installs');
  });

  it('ENTRYPOINT is the keelson bin under tini (reaps git/ssh children), CMD is controller, and the ports are exposed', () => {
    assert.deepEqual(JSON.parse(ops(runtime, 'ENTRYPOINT')[0]!.args), ['/usr/bin/tini', '--', 'node', '/app/bin/keelson.js']);
    assert.match(ops(runtime, 'RUN').map((o) => o.args).join('\n'), /apt-get install[^\n]*\btini\b/);
    assert.deepEqual(JSON.parse(ops(runtime, 'CMD')[0]!.args), ['controller']);
    assert.deepEqual(ops(runtime, 'EXPOSE')[0]!.args.split(/\s+/), ['8080', '9090']);
    assert.ok(ops(runtime, 'WORKDIR').some((w) => w.args === '/app'));
    assert.ok(existsSync(join(ROOT, 'bin', 'keelson.js')));
  });
});

describe('.dockerignore', () => {
  it('keeps node_modules, dist, .git and tests out of the build context', () => {
    for (const p of ['node_modules', 'dist', '.git', 'test']) assert.ok(ignore.includes(p), p);
  });

  it('does not exclude anything the Dockerfile copies from the context', () => {
    const sources = all.flatMap((s) => ops(s, 'COPY').filter((c) => !c.args.startsWith('--from')).flatMap((c) => c.args.split(/\s+/).slice(0, -1)));
    assert.ok(sources.length >= 5);
    for (const src of sources) {
      assert.ok(existsSync(join(ROOT, src)), `COPY ${src}: not in the repository`);
      const top = src.replace(/^\.\//, '').split('/')[0]!;
      assert.ok(!ignore.some((p) => p === top || (p.startsWith('*') && top.endsWith(p.slice(1)))), `COPY ${src} is excluded by .dockerignore`);
    }
  });
});
