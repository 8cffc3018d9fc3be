import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { forbiddenMessage } from '../../../src/gitsync/apply.js';
import { forbiddenHint, forbiddenVerb, identityFor, identityName, isImpersonationRefusal, secretForbiddenMessage } from '../../../src/gitsync/identity.js';
import { ApiError, serviceAccountUser } from '../../../src/kube/client.js';

const policy = (defaultServiceAccount?: string) => ({ controllerNamespace: 'keelson-system', defaultServiceAccount });
const gs = (namespace: string, serviceAccountName?: string) => ({ namespace, name: 'app', serviceAccountName });

describe('identityFor: the whole decision table', () => {
  // (spec SA?, default SA?, in the controller namespace?) → identity
  const cases: [string | undefined, string | undefined, string, string][] = [
    ['deployer', undefined, 'team-a', 'sa:team-a/deployer:spec'],
    ['deployer', 'fallback', 'team-a', 'sa:team-a/deployer:spec'],
    ['deployer', undefined, 'keelson-system', 'sa:keelson-system/deployer:spec'],
    ['deployer', 'fallback', 'keelson-system', 'sa:keelson-system/deployer:spec'],
    [undefined, 'fallback', 'team-a', 'sa:team-a/fallback:default'],
    [undefined, 'fallback', 'keelson-system', 'sa:keelson-system/fallback:default'],
    [undefined, undefined, 'keelson-system', 'controller'],
    [undefined, undefined, 'team-a', 'refused'],
    ['', '', 'team-a', 'refused'],
    ['', '', 'keelson-system', 'controller'],
    ['', 'fallback', 'team-a', 'sa:team-a/fallback:default'],
  ];
  for (const [sa, def, ns, want] of cases) {
    it(`spec ${sa ?? '-'}, default ${def ?? '-'}, namespace ${ns} → ${want}`, () => {
      const id = identityFor(gs(ns, sa), policy(def));
      const got = id.kind === 'serviceAccount' ? `sa:${id.namespace}/${id.name}:${id.from}` : id.kind;
      assert.equal(got, want);
      if (id.kind === 'serviceAccount') assert.equal(id.user, `system:serviceaccount:${id.namespace}:${id.name}`);
    });
  }

  it('a refusal says what to set, where, and names the controller namespace', () => {
    const id = identityFor(gs('team-a'), policy());
    assert.equal(id.kind, 'refused');
    const m = id.kind === 'refused' ? id.message : '';
    assert.match(m, /GitSync team-a\/app names no ServiceAccount/);
    assert.match(m, /set spec\.serviceAccountName to a ServiceAccount in namespace team-a/);
    assert.match(m, /--default-service-account/);
    assert.match(m, /controller namespace keelson-system/);
  });

  it('property: the ServiceAccount is always in the GitSync\'s own namespace, and Keelson\'s identity only in the controller namespace', () => {
    const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);
    fc.assert(fc.property(label, fc.option(label, { nil: undefined }), fc.option(label, { nil: undefined }), label, (ns, sa, def, ctl) => {
      const id = identityFor({ namespace: ns, name: 'x', serviceAccountName: sa }, { controllerNamespace: ctl, defaultServiceAccount: def });
      if (id.kind === 'serviceAccount') {
        assert.equal(id.namespace, ns);
        assert.equal(id.user, serviceAccountUser(ns, id.name));
        assert.equal(id.name, sa ?? def);
      } else if (id.kind === 'controller') {
        assert.equal(ns, ctl);
        assert.equal(sa ?? def, undefined);
      } else {
        assert.notEqual(ns, ctl);
        assert.equal(sa ?? def, undefined);
      }
    }), { numRuns: 2000 });
  });
});

describe('forbidden messages', () => {
  const sa = identityFor(gs('team-a', 'deployer'), policy());
  const api = (msg: string) => new ApiError(403, 'Forbidden', `PATCH /apis/apps/v1/namespaces/keelson-system/deployments/keelson: 403 ${msg}`);

  it('finds the verb in the API server\'s message', () => {
    assert.equal(forbiddenVerb('deployments.apps "keelson" is forbidden: User "system:serviceaccount:team-a:deployer" cannot patch resource "deployments" in API group "apps" in the namespace "keelson-system"'), 'patch');
    assert.equal(forbiddenVerb('User "x" cannot create resource "clusterrolebindings"'), 'create');
    assert.equal(forbiddenVerb('no verb here'), undefined);
    assert.equal(forbiddenVerb('User "x" cannot '), undefined);
    assert.equal(forbiddenVerb('User "x" cannot Patch resource'), undefined);
    assert.equal(forbiddenVerb(`${'a'.repeat(5000)} cannot patch resource`), undefined, 'only the first 4 KiB is read');
  });

  it('names the object, the ServiceAccount, the verb, and the fix', () => {
    const m = forbiddenMessage('d.yaml (document 1): Deployment keelson-system/keelson', api('deployments.apps "keelson" is forbidden: User "system:serviceaccount:team-a:deployer" cannot patch resource "deployments" in API group "apps" in the namespace "keelson-system"'), sa);
    assert.match(m, /^d\.yaml \(document 1\): Deployment keelson-system\/keelson: ServiceAccount team-a\/deployer may not patch it: deployments\.apps "keelson" is forbidden/);
    assert.match(m, /grant ServiceAccount team-a\/deployer that right/);
    assert.doesNotMatch(m, /PATCH \/apis/, 'the request line is dropped');
  });

  it('a refused impersonation is about Keelson\'s RBAC', () => {
    const m = forbiddenMessage('c.yaml (document 1): ConfigMap team-a/a', api('users "system:serviceaccount:team-a:deployer" is forbidden: User "system:serviceaccount:keelson-system:keelson" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "team-a"'), sa);
    assert.match(m, /Keelson may not impersonate ServiceAccount team-a\/deployer/);
    assert.match(m, /impersonate verb on serviceaccounts/);
    assert.equal(isImpersonationRefusal('User "k" cannot impersonate resource "serviceaccounts"'), true);
    assert.equal(isImpersonationRefusal('User "k" cannot get resource "configmaps"'), false);
  });

  it('Keelson\'s own identity points at the opt-in binding', () => {
    assert.equal(identityName({ kind: 'controller' }), "Keelson's own identity");
    assert.match(forbiddenHint({ kind: 'controller' }), /manifests\/optional\/gitsync-apply\.yaml/);
    const m = forbiddenMessage('a.yaml (document 1): ConfigMap keelson-system/a', api('User "k" cannot create resource "configmaps"'), { kind: 'controller' });
    assert.match(m, /Keelson's own identity may not create it/);
  });
});

describe('Secrets an object names: read with its identity', () => {
  const forbidden = (text: string) => new ApiError(403, 'Forbidden', `GET /api/v1/namespaces/team-a/secrets/x: 403 ${text}`);

  it('an ImagePolicy without an identity reads no Secret, and is told so (not the GitSync text)', () => {
    const id = identityFor({ kind: 'ImagePolicy', namespace: 'team-a', name: 'app', serviceAccountName: undefined }, policy());
    assert.equal(id.kind, 'refused');
    const m = id.kind === 'refused' ? id.message : '';
    assert.match(m, /^ImagePolicy team-a\/app names a Secret but no ServiceAccount/);
    assert.match(m, /spec\.serviceAccountName/);
    assert.doesNotMatch(m, /GitSync/);
    assert.equal(identityFor({ kind: 'ImagePolicy', namespace: 'keelson-system', name: 'app', serviceAccountName: undefined }, policy()).kind, 'controller');
  });

  it('a 403 names the Secret, the field, the ServiceAccount and the exact Role rule; never a value', () => {
    const id = identityFor(gs('team-a', 'tenant'), policy());
    const m = secretForbiddenMessage(id, 'team-a', 'db-credentials', 'spec.secretRef', forbidden('secrets "db-credentials" is forbidden: User "system:serviceaccount:team-a:tenant" cannot get resource "secrets"'));
    assert.match(m, /^ServiceAccount team-a\/tenant may not read Secret team-a\/db-credentials \(spec\.secretRef\)/);
    assert.match(m, /resources: \[secrets\], verbs: \[get\], resourceNames: \[db-credentials\]/);
    assert.match(m, /Role in namespace team-a/);
  });

  it('a refused impersonation points at Keelson\'s ClusterRole; Keelson\'s own identity at its get on secrets', () => {
    const id = identityFor(gs('team-a', 'tenant'), policy());
    const m = secretForbiddenMessage(id, 'team-a', 'git', 'spec.proxySecretRef', forbidden('users "system:serviceaccount:team-a:tenant" is forbidden: User "k" cannot impersonate resource "users"'));
    assert.match(m, /Keelson may not impersonate ServiceAccount team-a\/tenant/);
    assert.match(m, /manifests\/clusterrole\.yaml/);
    const own = secretForbiddenMessage({ kind: 'controller' }, 'keelson-system', 'git', 'spec.secretRef', forbidden('cannot get resource "secrets"'));
    assert.match(own, /^Keelson's own identity may not read Secret keelson-system\/git/);
  });
});
