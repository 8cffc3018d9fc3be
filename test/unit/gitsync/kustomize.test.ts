// Kustomize support: which folders a kustomization reaches and which references are refused (pure), and the real
// kustomize binary run through revision-files.ts on a local folder: bases in sibling folders, remote and escaping
// references refused before kustomize runs, no network, output bounded, errors naming repository paths.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { IgnoreRulesError } from '../../../src/gitsync/ignore.js';
import { BuildError, MAX_INSTANCES, cleanBuildMessage, expansion, filesUnder, ownerFolder, kustomizationIn, kustomizeArgs, kustomizeBuild, kustomizeEnv, reachedFolders, referencesOf, repoIndex } from '../../../src/gitsync/kustomize.js';
import { parseKustomizeFields } from '../../../src/gitsync/kustomize-fields.js';
import { RevisionTooLargeError } from '../../../src/gitsync/limits.js';
import { localTree } from '../../../src/gitsync/local-tree.js';
import { sourceFiles } from '../../../src/gitsync/revision-files.js';
import { anyText, grammar, onlyThrows } from '../../support/props.js';
import { kustomizeBinary } from '../../support/kustomize.js';

const REPO = ['base/kustomization.yaml', 'base/deploy.yaml', 'base/files/app.properties', 'overlays/prod/kustomization.yaml', 'overlays/prod/patch.yaml', 'components/x/kustomization.yaml', 'README.md'];
const index = repoIndex(REPO);

describe('kustomize references (pure)', () => {
  it('finds the kustomization file by kustomize\'s names and order', () => {
    assert.equal(kustomizationIn('base', new Set(REPO)), 'base/kustomization.yaml');
    assert.equal(kustomizationIn('.', new Set(['Kustomization', 'kustomization.yml'])), 'kustomization.yml');
    assert.equal(kustomizationIn('.', new Set(['Kustomization'])), 'Kustomization');
    assert.equal(kustomizationIn('overlays', new Set(REPO)), undefined);
  });

  it('indexes every ancestor folder', () => {
    assert.deepEqual([...index.folders].sort(), ['.', 'base', 'base/files', 'components', 'components/x', 'overlays', 'overlays/prod']);
  });

  it('collects every path-valued field, skipping inline patches and plugin configs', () => {
    const refs = referencesOf({
      resources: ['../../base', 'deploy.yaml', 7], bases: ['old'], components: ['../../components/x'], crds: ['crd.yaml'],
      patches: [{ path: 'patch.yaml' }, { patch: 'inline: true\n' }], patchesStrategicMerge: ['p.yaml', 'kind: X\nmetadata: {}\n'],
      patchesJson6902: [{ path: 'j.yaml' }], replacements: [{ path: 'r.yaml' }], openapi: { path: 'schema.json' },
      configMapGenerator: [{ files: ['key=files/a.properties', 'b.txt'], envs: ['e.env'], env: 'old.env' }], secretGenerator: [{ files: ['s.txt'] }],
      generators: ['gen.yaml'], transformers: ['apiVersion: builtin\nkind: X\n'], validators: ['v.yaml'], configurations: ['c.yaml'],
    });
    assert.deepEqual(refs.map((r) => `${r.field}=${r.value}${r.folderAllowed ? '/' : ''}`).sort(), [
      'bases=old/', 'components=../../components/x/', 'configMapGenerator[].env=old.env', 'configMapGenerator[].envs=e.env',
      'configMapGenerator[].files=b.txt', 'configMapGenerator[].files=files/a.properties', 'configurations=c.yaml', 'crds=crd.yaml',
      'generators=gen.yaml', 'openapi.path=schema.json', 'patches[].path=patch.yaml', 'patchesJson6902[].path=j.yaml',
      'patchesStrategicMerge=p.yaml', 'replacements[].path=r.yaml', 'resources=../../base/', 'resources=deploy.yaml/',
      'secretGenerator[].files=s.txt', 'validators=v.yaml',
    ].sort());
  });

  it('returns the folders reached through resources and components', () => {
    assert.deepEqual(reachedFolders('overlays/prod/kustomization.yaml', { resources: ['../../base/'], components: ['../../components/x'], patches: [{ path: 'patch.yaml' }] }, index), ['base', 'components/x']);
    assert.deepEqual(reachedFolders('base/kustomization.yaml', { resources: ['deploy.yaml'], configMapGenerator: [{ name: 'c', files: ['files/app.properties'] }] }, index), []);
  });

  for (const [what, value, message] of [
    ['an https base', 'https://github.com/org/repo//base?ref=v1', /remote/],
    ['an ssh base', 'git@github.com:org/repo.git//base', /remote/],
    ['an http file', 'http://127.0.0.1:8080/metrics', /remote/],
    ['an absolute path', '/etc/kubernetes', /absolute/],
    ['a path past the root', '../../../etc', /outside the repository/],
    ['a folder that is not there (kustomize would try it as a URL)', 'github.com/org/repo/base', /not a file or folder of the repository/],
  ] as const) {
    it(`refuses ${what}`, () => {
      assert.throws(() => reachedFolders('overlays/prod/kustomization.yaml', { resources: [value] }, index), (e: Error) => e instanceof BuildError && message.test(e.message) && e.message.includes('overlays/prod/kustomization.yaml'));
    });
  }

  it('refuses a remote or escaping file in any path field, and a folder where a file is needed', () => {
    assert.throws(() => reachedFolders('base/kustomization.yaml', { configMapGenerator: [{ files: ['k=http://127.0.0.1:9090/metrics'] }] }, index), /remote/);
    assert.throws(() => reachedFolders('base/kustomization.yaml', { patches: [{ path: '../../../../proc/self/environ' }] }, index), /outside the repository/);
    assert.throws(() => reachedFolders('base/kustomization.yaml', { patches: [{ path: 'files' }] }, index), /not a file of the repository/);
  });

  it('property: never reaches outside the repository, never throws but BuildError', () => {
    const piece = grammar(['../', './', 'base', '/', 'overlays', 'prod', 'x', '..', 'https://', '//', '?ref=', '\n', ' ', 'deploy.yaml'], 12);
    const doc = fc.record({ resources: fc.array(fc.oneof(piece, anyText(30)), { maxLength: 4 }), components: fc.array(piece, { maxLength: 2 }), patches: fc.array(fc.record({ path: piece }), { maxLength: 2 }) }, { requiredKeys: [] });
    fc.assert(fc.property(fc.constantFrom('overlays/prod/kustomization.yaml', 'base/kustomization.yaml', 'kustomization.yaml'), fc.oneof(doc, fc.anything()), (file, d) => {
      const folders = onlyThrows(() => reachedFolders(file, d, index), BuildError) ?? [];
      for (const f of folders) assert.ok(index.folders.has(f), f);
    }), { numRuns: 2000 });
  });

  it('lays out only the reached folders\' subtrees', () => {
    assert.deepEqual(filesUnder(REPO, new Set(['base', 'overlays/prod'])), ['base/kustomization.yaml', 'base/deploy.yaml', 'base/files/app.properties', 'overlays/prod/kustomization.yaml', 'overlays/prod/patch.yaml']);
    assert.deepEqual(filesUnder(REPO, new Set(['.'])), REPO);
  });

  it('counts instances per path through the reference graph, and the output they suggest', () => {
    const e = (o: Record<string, string[]>) => new Map(Object.entries(o));
    assert.deepEqual(expansion('o', e({ o: ['a', 'b'], a: ['base'], b: ['base'] }), new Map([['base', 100], ['o', 10]])), { instances: 5, bytes: 210 }, 'a diamond builds base twice');
    assert.deepEqual(expansion('o', e({}), new Map([['o', 7]])), { instances: 1, bytes: 7 });
    assert.equal(expansion('o', e({ o: ['a'], a: ['o'] }), new Map()).instances, 2, 'a cycle is left to kustomize to report');
    assert.equal(expansion('o', e({ o: ['a'], a: ['b'], b: ['a'] }), new Map()).instances, 1, 'folders in a cycle get no count');
    const doubling = e(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`l${i}`, [`l${i + 1}`, `l${i + 1}`]])));
    assert.equal(expansion('l0', doubling, new Map()).instances, 2 ** 41 - 1, 'exact while small, capped later');
    assert.equal(ownerFolder('base/sub/x.yaml', new Set(['base', 'o'])), 'base');
    assert.equal(ownerFolder('x.yaml', new Set(['base'])), undefined);
  });

  it('runs kustomize with no git on PATH, a dead proxy, and no plugin flags', () => {
    const env = kustomizeEnv('/w');
    assert.equal(env.PATH, '/w/empty-bin');
    assert.equal(env.HTTPS_PROXY, 'http://127.0.0.1:9');
    assert.equal(env.NO_PROXY, '');
    assert.deepEqual(kustomizeArgs('overlays/prod'), ['build', '--load-restrictor', 'LoadRestrictionsRootOnly', 'overlays/prod']);
    assert.equal(cleanBuildMessage("Error: accumulating resources from '/tmp/k/repo/overlays/prod/x.yaml'", '/tmp/k/repo'), "accumulating resources from 'overlays/prod/x.yaml'");
  });
});

describe('kustomize build through revision-files (real binary, local folder)', () => {
  const root = mkdtempSync(join(tmpdir(), 'keelson-kust-unit-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const write = (files: Record<string, string>) => {
    for (const [p, c] of Object.entries(files)) { mkdirSync(dirname(join(root, p)), { recursive: true }); writeFileSync(join(root, p), c); }
  };
  const render = (path: string, maxBytes = 1024 * 1024, ignore?: string) => sourceFiles(localTree(root), { path, ignore, limits: { maxBytes, maxObjects: 1000 }, kustomizePath: kustomizeBinary(), where: 'test' });
  write({
    'base/kustomization.yaml': 'resources: [cm.yaml]\n',
    'base/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: base}\ndata: {a: "1"}\n',
    'overlays/prod/kustomization.yaml': 'resources: [../../base]\nnamespace: prod\nconfigMapGenerator:\n  - name: gen\n    literals: [k=v]\n',
    'plain/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n',
    'plain/notes.txt': 'not a manifest',
  });

  it('builds an overlay whose base is a sibling folder', async () => {
    const [file, ...rest] = await render('overlays/prod');
    assert.equal(rest.length, 0);
    assert.equal(file!.path, 'overlays/prod/kustomization.yaml (kustomize build)');
    assert.match(file!.content, /name: base\n {2}namespace: prod/);
    assert.match(file!.content, /name: gen-[a-z0-9]{10}/);
  });

  it('keeps plain manifests as they are without a kustomization', async () => {
    assert.deepEqual((await render('plain')).map((f) => f.path), ['plain/cm.yaml']);
  });

  it('an ignored kustomization leaves the folder plain', async () => {
    assert.deepEqual((await render('overlays/prod', undefined, 'kustomization.yaml\n')).map((f) => f.path), []);
  });

  it('BuildFailed naming the repository file, not the private folder', async () => {
    write({ 'broken2/kustomization.yaml': 'resources: [cm.yaml]\nnamePrefix: [not, a, string]\n', 'broken2/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n' });
    await assert.rejects(render('broken2'), (e: Error) => e instanceof BuildError && e.message.startsWith('kustomize build broken2:') && !e.message.includes('keelson-kustomize-'));
  });

  it('a symlink out of the folder is not followed: it is simply not part of the tree', async () => {
    write({ 'linked/kustomization.yaml': 'resources: [secret.yaml]\n' });
    symlinkSync('/etc/passwd', join(root, 'linked/secret.yaml'));
    await assert.rejects(render('linked'), /not a file or folder of the repository/);
  });

  it('bounds the output by --max-revision-bytes (an annotation on every object makes it larger than its input)', async () => {
    const cms = Array.from({ length: 10 }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c${i}}\n`).join('---\n');
    write({ 'big/kustomization.yaml': `resources: [cm.yaml]\ncommonAnnotations: {a: "${'x'.repeat(500)}"}\n`, 'big/cm.yaml': cms });
    assert.equal((await render('big', 100_000)).length, 1);
    await assert.rejects(render('big', 3000), RevisionTooLargeError);
  });

  it('attack: 20 levels of two references each (a million builds of the innermost) are refused before kustomize runs', async () => {
    // a<i> and b<i> both reference a<i+1> and b<i+1>, each with its own suffix, so every build is valid.
    const files: Record<string, string> = {};
    for (const x of ['a', 'b']) Object.assign(files, { [`bomb/${x}20/kustomization.yaml`]: 'resources: [cm.yaml]\n', [`bomb/${x}20/cm.yaml`]: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${x}}\n` });
    for (let i = 0; i < 20; i++) for (const x of ['a', 'b']) files[`bomb/${x}${i}/kustomization.yaml`] = `resources: [../a${i + 1}, ../b${i + 1}]\nnameSuffix: "-${x}${i}"\n`;
    write(files);
    const started = performance.now();
    await assert.rejects(render('bomb/a0'), (e: Error) => e instanceof BuildError && e.message.includes(`at most ${MAX_INSTANCES}`));
    assert.ok(performance.now() - started < 5000);
  });

  it('a base reached through many paths is counted once per path against --max-revision-bytes', async () => {
    const files: Record<string, string> = { 'wide/base/kustomization.yaml': 'resources: [cm.yaml]\n', 'wide/base/cm.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: "${'y'.repeat(2000)}"}\n` };
    files['wide/o/kustomization.yaml'] = `resources: [${Array.from({ length: 30 }, (_, i) => `../m${i}`).join(', ')}]\n`;
    for (let i = 0; i < 30; i++) files[`wide/m${i}/kustomization.yaml`] = `resources: [../base]\nnameSuffix: "-s${i}"\n`;
    write(files);
    await assert.rejects(render('wide/o', 20_000), (e: Error) => e instanceof RevisionTooLargeError && /would print about/.test(e.message));
    assert.equal((await render('wide/o', 1024 * 1024)).length, 1, 'within the limit it builds');
  });

  describe('spec.kustomize: a generated kustomization over spec.path', () => {
    const withFields = (path: string, raw: unknown) => sourceFiles(localTree(root), { path, ignore: undefined, kustomize: parseKustomizeFields(raw), limits: { maxBytes: 1024 * 1024, maxObjects: 1000 }, kustomizePath: kustomizeBinary(), where: 'test' });
    write({ 'app/deploy.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx:1.25}]}\n', 'app/sub/cm.json': '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}' });

    it('over a kustomization: images, patches, prefix, suffix and labels (not selectors) by the real binary', async () => {
      const [file, ...rest] = await withFields('overlays/prod', {
        images: [{ name: 'nginx', newTag: '1.27' }], namePrefix: 'p-', nameSuffix: '-s', commonLabels: { team: 'a' },
        patches: [{ patch: '- op: add\n  path: /data/b\n  value: "2"\n', target: { kind: 'ConfigMap', name: 'base' } }],
      });
      assert.equal(rest.length, 0);
      assert.equal(file!.path, 'overlays/prod/kustomization.yaml (kustomize build with spec.kustomize)');
      assert.match(file!.content, /name: p-base-s\n {2}namespace: prod/);
      assert.match(file!.content, /a: "1"\n {2}b: "2"/);
      assert.match(file!.content, /team: a/);
    });

    it('over plain manifests too (subfolders and JSON included); selectors keep their labels only', async () => {
      const [file] = await withFields('app', { images: [{ name: 'nginx', newName: 'ghcr.io/org/nginx', newTag: '1.27' }], commonLabels: { team: 'a' } });
      assert.equal(file!.path, 'app (kustomize build with spec.kustomize)');
      assert.match(file!.content, /image: ghcr\.io\/org\/nginx:1\.27/);
      assert.match(file!.content, /name: cfg/);
      assert.match(file!.content, /matchLabels:\n {6}app: web\n/, 'no label added to the selector');
      assert.deepEqual(await withFields('app', undefined).then((fs) => fs.map((f) => f.path)), ['app/deploy.yaml', 'app/sub/cm.json'], 'without spec.kustomize: plain, as before');
    });

    it('attack: a patch naming a file outside the checkout is not read; a patch that breaks the build is BuildFailed', async () => {
      for (const patch of ['/etc/passwd', '../../../../../../etc/passwd', '../repo/app/deploy.yaml']) {
        await assert.rejects(withFields('app', { patches: [{ patch }] }), (e: Error) => e instanceof BuildError && /with spec\.kustomize: .*unable to parse SM or JSON patch/s.test(e.message) && !/root:/.test(e.message) && !e.message.includes('keelson-kustomize-'));
      }
      await assert.rejects(withFields('app', { patches: [{ patch: '- op: replace\n  path: /spec/nothing/here\n  value: 1\n', target: { kind: 'Deployment' } }] }),
        (e: Error) => e instanceof BuildError && e.message.startsWith('kustomize build app with spec.kustomize: ') && !e.message.includes('keelson-kustomize-'));
    });
  });

  it('a missing binary says how to get one', async () => {
    await assert.rejects(sourceFiles(localTree(root), { path: 'overlays/prod', ignore: undefined, limits: { maxBytes: 1e6, maxObjects: 10 }, kustomizePath: '/nonexistent/kustomize', where: 'test' }),
      (e: Error) => e instanceof BuildError && /--kustomize-path/.test(e.message));
  });

  it('bad ignore rules are refused, not matched for ever', async () => {
    await assert.rejects(sourceFiles(localTree(root), { path: 'plain', ignore: 'x'.repeat(2000), limits: { maxBytes: 1e6, maxObjects: 10 }, kustomizePath: kustomizeBinary(), where: 'test' }), IgnoreRulesError);
  });
});

describe('kustomizeBuild lays the checkout out (real binary)', () => {
  const build = (files: { path: string; content: string }[], folder: string) =>
    kustomizeBuild({ binary: kustomizeBinary(), files: files.map((f) => ({ path: f.path, content: Buffer.from(f.content) })), folder, maxBytes: 1024 * 1024 });

  it('attack: a path with "..", or an absolute one, is refused before anything is written or kustomize runs', async () => {
    for (const path of ['../escape.yaml', 'a/../../escape.yaml', '/etc/escape.yaml']) {
      const files = [{ path: 'app/kustomization.yaml', content: 'resources: [cm.yaml]\n' }, { path, content: 'x' }];
      await assert.rejects(build(files, 'app'), (e: Error) => e instanceof BuildError && e.message === `refusing the repository path ${path}`);
    }
  });

  it('writes many folders at once: every file of a deep, wide tree is where kustomize looks for it', async () => {
    const apps = Array.from({ length: 60 }, (_, i) => `app-${i}`);
    const files = [{ path: 'overlay/kustomization.yaml', content: 'resources: [../base]\nnamespace: prod\n' }, { path: 'base/kustomization.yaml', content: `resources: [${apps.join(', ')}]\n` }];
    for (const a of apps) {
      files.push({ path: `base/${a}/kustomization.yaml`, content: 'resources: [deep/er/cm.yaml]\n' });
      files.push({ path: `base/${a}/deep/er/cm.yaml`, content: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${a}}\n` });
    }
    const out = await build(files, 'overlay');
    assert.equal(out.match(/^kind: ConfigMap$/gm)?.length, apps.length);
    for (const a of apps) assert.match(out, new RegExp(`name: ${a}\n  namespace: prod`));
  });
});
