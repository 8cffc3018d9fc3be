// Metadata-only LISTs in protobuf (kube/metadata-list.ts, KubeClient.listMetadata) against a real API server: the
// same names, namespaces and resourceVersions as the JSON list, for a built-in kind and a custom resource, across
// pages; an answer over the caller's bound is refused; and live-versions.ts, given objects whose metadata a tenant
// inflated past the page bound, lists them again as streamed JSON and still finds every version.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ResponseTooLargeError } from '../../src/kube/client.js';
import { CONFIGMAPS, GITSYNCS, NAMESPACES } from '../../src/kube/resources.js';
import { Discovery } from '../../src/gitsync/discovery.js';
import { listLiveVersions, ownerSelector } from '../../src/gitsync/live-versions.js';
import { inventoryId } from '../../src/gitsync/render.js';
import { OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL } from '../../src/gitsync/spec.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { installCrd } from '../support/crds.js';

const owner = { namespace: 'meta', name: 'repo' };
const labels = { [OWNER_NAMESPACE_LABEL]: owner.namespace, [OWNER_NAME_LABEL]: owner.name };

describe('metadata-only LISTs in protobuf', () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane({ controllerManager: false });
    await installCrd(cp.client, 'crd-gitsyncs.yaml', 'gitsyncs.keelson.dev');
    for (const ns of ['meta', 'big']) await cp.client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    for (let i = 0; i < 25; i++) await cp.client.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}`, namespace: 'meta', labels }, data: { v: String(i) } });
    for (let i = 0; i < 3; i++) await cp.client.create(GITSYNCS, { apiVersion: 'keelson.dev/v1alpha1', kind: 'GitSync', metadata: { name: `g${i}`, namespace: 'meta', labels }, spec: { url: 'https://example.com/r.git', ref: { branch: 'main' }, path: '.' } });
  });
  after(async () => { await cp?.stop(); });

  for (const [what, type] of [['ConfigMaps', CONFIGMAPS], ['GitSyncs (a custom resource)', GITSYNCS]] as const) {
    it(`reads ${what} as the JSON list does, page by page`, async () => {
      const json: string[] = [];
      let cont: string | undefined;
      do {
        const page = await cp.client.listEach(type, { namespace: 'meta', labelSelector: ownerSelector(owner), limit: 7, continue: cont, metadataOnly: true }, (o) => json.push(`${o.metadata.namespace}/${o.metadata.name}@${o.metadata.resourceVersion}`));
        cont = page.metadata.continue || undefined;
      } while (cont);
      const proto: string[] = [];
      let pages = 0;
      do {
        const page = await cp.client.listMetadata(type, { namespace: 'meta', labelSelector: ownerSelector(owner), limit: 7, continue: cont, maxBytes: 2 ** 20 }, (i) => proto.push(`${i.namespace}/${i.name}@${i.resourceVersion}`));
        assert.match(page.resourceVersion, /^\d+$/);
        cont = page.continue || undefined;
        pages++;
      } while (cont);
      assert.deepEqual(proto, json);
      assert.ok(json.length >= 3 && pages === Math.ceil(json.length / 7), `${json.length} items in ${pages} pages`);
    });
  }

  it('refuses an answer over the bound it was given', async () => {
    await assert.rejects(cp.client.listMetadata(CONFIGMAPS, { namespace: 'meta', maxBytes: 100 }, () => undefined), ResponseTooLargeError);
  });

  it('lists a kind again as streamed JSON when a tenant inflated its metadata past the page bound, and finds every version', async () => {
    const bigOwner = { namespace: 'big', name: 'repo' };
    const bigLabels = { [OWNER_NAMESPACE_LABEL]: bigOwner.namespace, [OWNER_NAME_LABEL]: bigOwner.name };
    // 20 objects with 240 KiB of annotations each: about 4.7 MiB of metadata in one page (the bound is 4 MiB).
    const filler = 'x'.repeat(240 * 1024);
    const expected = new Map<string, string>();
    for (let i = 0; i < 20; i++) {
      const o = await cp.client.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `fat${i}`, namespace: 'big', labels: bigLabels, annotations: { filler } } });
      expected.set(inventoryId('big', `fat${i}`, '', 'ConfigMap'), o.metadata.resourceVersion!);
    }
    const live = await listLiveVersions(cp.client, new Discovery(cp.client), [{ group: '', version: 'v1', kind: 'ConfigMap', namespace: 'big' }], bigOwner);
    assert.deepEqual(new Map([...live.versions].sort()), new Map([...expected].sort()));
    assert.equal(live.listed({ group: '', version: 'v1', kind: 'ConfigMap', namespace: 'big' }), true);
    assert.equal(live.requests, 2, 'the protobuf page refused, then one streamed JSON page');
  });
});
