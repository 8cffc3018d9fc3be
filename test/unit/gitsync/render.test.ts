import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RenderError, applyStages, finalize, inventoryId, isManifestPath, parseFiles, scopesFromCrds } from '../../../src/gitsync/render.js';

const scope = (g: string, _v: string, k: string) => {
  if (k === 'Namespace' || k === 'ClusterRole' || k === 'CustomResourceDefinition') return false;
  if (['ConfigMap', 'Secret', 'Deployment', 'Service'].includes(k)) return true;
  void g;
  return undefined;
};
const owner = { namespace: 'flux', name: 'app' };

describe('render: files', () => {
  it('selects manifests under the path', () => {
    assert.ok(isManifestPath('a.yaml', '.'));
    assert.ok(isManifestPath('clusters/prod/x.YML', 'clusters/prod'));
    assert.ok(isManifestPath('clusters/prod/sub/x.json', 'clusters/prod'));
    assert.ok(!isManifestPath('clusters/production/x.yaml', 'clusters/prod'));
    assert.ok(!isManifestPath('clusters/prod/README.md', 'clusters/prod'));
  });

  it('parses multi-document YAML and JSON in path order, skipping empty documents', () => {
    const objs = parseFiles([
      { path: 'b.json', content: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'j' } }) },
      { path: 'a.yaml', content: '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\n---\n# just a comment\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: two}\n' },
    ]);
    assert.deepEqual(objs.map((o) => [o.file, o.doc, o.kind, o.group, o.version, o.object.metadata.name]), [
      ['a.yaml', 1, 'ConfigMap', '', 'v1', 'one'],
      ['a.yaml', 3, 'Deployment', 'apps', 'v1', 'two'],
      ['b.json', 1, 'ConfigMap', '', 'v1', 'j'],
    ]);
  });

  it('flattens kind: List', () => {
    const objs = parseFiles([{ path: 'l.yaml', content: 'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n' }]);
    assert.deepEqual(objs.map((o) => o.object.metadata.name), ['a', 'b']);
  });

  it('names the file and document of every error', () => {
    const bad: [string, string, RegExp][] = [
      ['x.yaml', 'a: [1, 2\n', /^x\.yaml \(document 1\): invalid YAML/],
      ['x.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: ConfigMap\nmetadata: {name: b}\n', /^x\.yaml \(document 2\): apiVersion is missing/],
      ['x.yaml', 'apiVersion: v1\nmetadata: {name: b}\n', /kind is missing/],
      ['x.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n', /ConfigMap has no metadata.name/],
      ['x.yaml', '- 1\n- 2\n', /not a Kubernetes object/],
      ['x.yaml', 'apiVersion: v1\napiVersion: v2\nkind: A\nmetadata: {name: a}\n', /invalid YAML/],
      ['x.json', '{"apiVersion": ', /^x\.json: invalid JSON/],
    ];
    for (const [path, content, re] of bad) assert.throws(() => parseFiles([{ path, content }]), (e: unknown) => e instanceof RenderError && re.test(e.message), content);
  });
});

describe('render: finalize', () => {
  const parsed = parseFiles([{ path: 'all.yaml', content: [
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}',
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm2, namespace: other, labels: {a: b}}',
    'apiVersion: v1\nkind: Namespace\nmetadata: {name: other, namespace: ignored}',
    'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec: {group: example.com, scope: Namespaced, names: {kind: Widget}, versions: [{name: v1}]}',
    'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}',
  ].join('\n---\n') }]);

  it("without a target, keeps a manifest's namespace, fills the default for namespaced kinds only, adds owner labels", () => {
    const out = finalize(parsed, { targetNamespace: undefined, defaultNamespace: 'apps', owner, scope });
    assert.deepEqual(out.map((o) => o.id), ['apps_cm__ConfigMap', 'other_cm2__ConfigMap', '_other__Namespace', '_widgets.example.com_apiextensions.k8s.io_CustomResourceDefinition', 'apps_w_example.com_Widget']);
    assert.equal(out[2]!.object.metadata.namespace, undefined);
    assert.deepEqual(out[1]!.object.metadata.labels, { a: 'b', 'gitsync.keelson.dev/name': 'app', 'gitsync.keelson.dev/namespace': 'flux' });
    assert.equal(parsed[0]!.object.metadata.namespace, undefined, 'input not mutated');
  });

  it("a target namespace overrides every namespaced object's namespace, as in Flux; cluster-scoped ones keep none", () => {
    const out = finalize(parsed, { targetNamespace: 'team-a', defaultNamespace: 'flux', owner, scope });
    assert.deepEqual(out.map((o) => o.id), ['team-a_cm__ConfigMap', 'team-a_cm2__ConfigMap', '_other__Namespace', '_widgets.example.com_apiextensions.k8s.io_CustomResourceDefinition', 'team-a_w_example.com_Widget']);
    assert.deepEqual(out.map((o) => o.object.metadata.namespace), ['team-a', 'team-a', undefined, undefined, 'team-a']);
    assert.equal(parsed[1]!.object.metadata.namespace, 'other', 'input not mutated');
  });

  it('a manifest cannot escape the target namespace: keelson-system, kube-system, empty or odd values are all replaced', () => {
    for (const ns of ['keelson-system', 'kube-system', '', 'team-a', 'x'.repeat(300)]) {
      const [o] = finalize(parseFiles([{ path: 'd.yaml', content: `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: keelson, namespace: "${ns}"}\n` }]),
        { targetNamespace: 'team-a', defaultNamespace: 'team-a', owner, scope });
      assert.equal(o!.object.metadata.namespace, 'team-a', ns);
      assert.equal(o!.id, 'team-a_keelson_apps_Deployment');
    }
  });

  it('two objects that differ only in their manifest namespace collide under a target namespace', () => {
    const two = parseFiles([{ path: 'a.yaml', content: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: one}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: two}\n' }]);
    assert.equal(finalize(two, { targetNamespace: undefined, defaultNamespace: 'apps', owner, scope }).length, 2);
    assert.throws(() => finalize(two, { targetNamespace: 'apps', defaultNamespace: 'apps', owner, scope }), /a\.yaml \(document 2\): ConfigMap apps\/x is also defined in a\.yaml \(document 1\)/);
  });

  it('learns scopes from CRDs in the same revision', () => {
    assert.deepEqual([...scopesFromCrds(parsed)], [['example.com/v1/Widget', true]]);
  });

  it('rejects unknown kinds and duplicates, naming both places', () => {
    const unknown = parseFiles([{ path: 'u.yaml', content: 'apiVersion: nope.io/v1\nkind: Thing\nmetadata: {name: t}\n' }]);
    assert.throws(() => finalize(unknown, { targetNamespace: 'apps', defaultNamespace: 'apps', owner, scope }), /u\.yaml \(document 1\): Thing t: the cluster does not serve nope\.io\/v1 Thing/);
    const dup = parseFiles([
      { path: 'a.yaml', content: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n' },
      { path: 'b.yaml', content: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: apps}\n' },
    ]);
    assert.throws(() => finalize(dup, { targetNamespace: undefined, defaultNamespace: 'apps', owner, scope }), /b\.yaml \(document 1\): ConfigMap apps\/x is also defined in a\.yaml \(document 1\)/);
  });

  it('orders CRDs, then Namespaces, then the rest', () => {
    const { first, rest } = applyStages(finalize(parsed, { targetNamespace: 'apps', defaultNamespace: 'apps', owner, scope }));
    assert.deepEqual(first.map((o) => o.kind), ['CustomResourceDefinition', 'Namespace']);
    assert.deepEqual(rest.map((o) => o.object.metadata.name), ['cm', 'cm2', 'w']);
  });

  it('builds inventory ids', () => {
    assert.equal(inventoryId(undefined, 'n', 'rbac.authorization.k8s.io', 'ClusterRole'), '_n_rbac.authorization.k8s.io_ClusterRole');
  });
});
