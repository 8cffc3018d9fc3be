// Invariants of manifests/: least-privilege RBAC without wildcards, the hardened Deployment (non-root, read-only
// root, no escalation, no capabilities, seccomp, probes, resources, downward API), the Service, and a
// kustomization.yaml that lists every file.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseDuration } from '../../../src/config/duration.js';
import { CONTROLLER_FLAGS } from '../../../src/config/options.js';
import { stallWindowFor } from '../../../src/observe/loop-stalls.js';
import type { KubeObject } from '../../../src/kube/types.js';
import { DIGEST_KEY_SECRET } from '../../../src/reload/digest-key.js';
import { MANIFESTS, ROOT, exists, kustomizationResources, manifestFiles, manifestObjects, readObjects } from '../../support/manifests.js';

interface Rule { apiGroups?: string[]; resources?: string[]; verbs?: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }
type Any = any;

const base = manifestObjects();
const all = manifestObjects(true);
const find = (kind: string, name: string, from = base): KubeObject => {
  const o = from.find((m) => m.object.kind === kind && m.object.metadata.name === name)?.object;
  assert.ok(o, `manifests/ has no ${kind} ${name}`);
  return o;
};
const rulesOf = (o: KubeObject) => (o.rules ?? []) as Rule[];
/** "group/resource" → sorted verbs, merged over rules (resourceNames-limited rules marked with [names]). */
const grants = (rules: Rule[]): Record<string, string[]> => {
  const out: Record<string, Set<string>> = {};
  for (const r of rules) {
    for (const g of r.apiGroups ?? []) for (const res of r.resources ?? []) {
      const key = `${g || 'core'}/${res}${r.resourceNames ? `[${[...r.resourceNames].sort().join(',')}]` : ''}`;
      for (const v of r.verbs ?? []) (out[key] ??= new Set()).add(v);
    }
  }
  return Object.fromEntries(Object.keys(out).sort().map((k) => [k, [...out[k]!].sort()]));
};
const defaultOf = (flag: string) => CONTROLLER_FLAGS.find((f) => f.name === flag)!.default;
const pkgVersion = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('manifests: files and kustomization', () => {
  it('every object parses and has apiVersion, kind and a name', () => {
    assert.ok(all.length >= 9);
    for (const { file, object } of all) {
      assert.ok(object.apiVersion && object.kind && object.metadata?.name, `${file}: object without apiVersion/kind/metadata.name`);
    }
  });

  it('kustomization.yaml lists every manifests/*.yaml once, Namespace and CRDs first', () => {
    const listed = kustomizationResources();
    assert.equal(new Set(listed).size, listed.length, 'duplicate entries');
    const files = manifestFiles().map((f) => f.slice(MANIFESTS.length + 1));
    for (const f of files) assert.ok(listed.includes(f), `kustomization.yaml does not list ${f}`);
    for (const f of ['crd-sealedsecrets.yaml', 'crd-gitsyncs.yaml', 'crd-notifiers.yaml', 'crd-imagepolicies.yaml']) assert.ok(listed.includes(f), `kustomization.yaml must list ${f}`);
    for (const f of listed) assert.ok(exists(join(MANIFESTS, f)), `kustomization.yaml lists missing ${f}`);
    assert.equal(listed[0], 'namespace.yaml');
    const firstOther = listed.findIndex((f) => !f.startsWith('crd-') && f !== 'namespace.yaml');
    assert.ok(listed.slice(firstOther).every((f) => !f.startsWith('crd-')), 'CRDs come before everything but the Namespace');
  });

  it('the tenant example holds a ServiceAccount, its RoleBinding to edit in the same namespace, get on exactly the Secret its GitSync names, and a GitSync naming it', () => {
    const ex = readObjects(join(MANIFESTS, 'examples', 'gitsync-tenant.yaml'));
    assert.deepEqual(ex.map((o) => o.kind), ['Namespace', 'ServiceAccount', 'RoleBinding', 'Role', 'RoleBinding', 'GitSync']);
    const [, sa, rb, role, roleBinding, gs] = ex as [KubeObject, KubeObject, Any, Any, Any, Any];
    assert.deepEqual(role.rules, [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: [gs.spec.secretRef.name] }]);
    assert.deepEqual(roleBinding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
    assert.deepEqual(roleBinding.subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
    assert.equal(rb.metadata.namespace, sa.metadata.namespace);
    assert.deepEqual(rb.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' });
    assert.deepEqual(rb.subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
    assert.equal(gs.metadata.namespace, sa.metadata.namespace);
    assert.equal(gs.spec.serviceAccountName, sa.metadata.name);
    assert.ok(!kustomizationResources().some((r) => r.startsWith('examples')));
  });

  it('manifests/optional/ holds only opt-in files (Git-sync apply binding, kubeseal forwarder, PrometheusRule), outside the kustomization', () => {
    const dir = join(MANIFESTS, 'optional');
    assert.deepEqual(manifestFiles(dir).map((f) => f.slice(dir.length + 1)), ['gitsync-apply.yaml', 'kubeseal-compat.yaml', 'prometheusrule.yaml']);
    assert.deepEqual(readObjects(join(dir, 'kubeseal-compat.yaml')).map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`), ['Service kube-system/sealed-secrets-controller', 'Deployment kube-system/sealed-secrets-controller']);
    assert.ok(!kustomizationResources().some((r) => r.startsWith('optional')));
    assert.deepEqual(readObjects(join(dir, 'gitsync-apply.yaml')).map((o) => o.kind), ['ClusterRoleBinding']);
    assert.deepEqual(readObjects(join(dir, 'prometheusrule.yaml')).map((o) => o.kind), ['PrometheusRule']);
  });

  it('every namespaced object lives in keelson-system', () => {
    const clusterScoped = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding']);
    for (const { file, object } of all) {
      if (file === join('optional', 'kubeseal-compat.yaml')) continue; // where kubeseal looks: kube-system, on purpose
      if (clusterScoped.has(object.kind!)) assert.equal(object.metadata.namespace, undefined, `${file}: cluster-scoped ${object.kind} with a namespace`);
      else assert.equal(object.metadata.namespace, 'keelson-system', `${file}: ${object.kind} ${object.metadata.name}`);
    }
  });
});

describe('manifests: RBAC', () => {
  const roles = all.filter((m) => m.object.kind === 'ClusterRole' || m.object.kind === 'Role');

  it('no wildcard anywhere in a Role or ClusterRole', () => {
    assert.ok(roles.length >= 2);
    for (const { file, object } of roles) {
      for (const r of rulesOf(object)) {
        for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames', 'nonResourceURLs'] as const) {
          for (const v of r[field] ?? []) assert.ok(!v.includes('*'), `${file}: wildcard "${v}" in ${field} of ${object.kind} ${object.metadata.name}`);
        }
      }
    }
  });

  it('no verb that grants more rights (escalate, bind; impersonate only of ServiceAccounts) and no RBAC or webhook resources', () => {
    for (const { file, object } of roles) {
      for (const r of rulesOf(object)) {
        for (const v of r.verbs ?? []) assert.ok(!['escalate', 'bind', 'deletecollection'].includes(v), `${file}: verb ${v}`);
        // Git sync impersonates a GitSync's ServiceAccount; never users, groups, uids or userextras.
        if (r.verbs?.includes('impersonate')) {
          assert.deepEqual([r.apiGroups, r.resources, r.verbs, r.resourceNames], [[''], ['serviceaccounts'], ['impersonate'], undefined], `${file}: impersonate of anything but serviceaccounts`);
        }
        for (const g of r.apiGroups ?? []) assert.ok(!['rbac.authorization.k8s.io', 'admissionregistration.k8s.io', 'certificates.k8s.io'].includes(g), `${file}: group ${g}`);
        assert.equal(r.nonResourceURLs, undefined, `${file}: nonResourceURLs`);
      }
    }
  });

  it('the ClusterRole grants exactly what the features use', () => {
    assert.deepEqual(grants(rulesOf(find('ClusterRole', 'keelson'))), {
      'apps/daemonsets': ['get', 'list', 'patch', 'watch'],
      'apps/deployments': ['get', 'list', 'patch', 'watch'],
      'apps/replicasets': ['list', 'watch'],
      'apps/statefulsets': ['get', 'list', 'patch', 'watch'],
      'argoproj.io/rollouts': ['get', 'list', 'patch', 'watch'],
      'batch/cronjobs': ['get', 'list', 'patch', 'watch'],
      'batch/jobs': ['create', 'delete', 'get', 'list', 'patch', 'watch'],
      'bitnami.com/sealedsecrets': ['get', 'list', 'watch'],
      'bitnami.com/sealedsecrets/status': ['get', 'patch', 'update'],
      'core/configmaps': ['get', 'list', 'watch'],
      'core/events': ['create', 'patch'],
      'core/namespaces': ['list', 'watch'],
      'core/secrets': ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      'core/serviceaccounts': ['impersonate'],
      'keelson.dev/gitsyncs': ['get', 'list', 'patch', 'watch'],
      'keelson.dev/gitsyncs/status': ['get', 'patch', 'update'],
      'keelson.dev/notifiers': ['get', 'list', 'watch'],
      'keelson.dev/notifiers/status': ['get', 'patch', 'update'],
      'keelson.dev/imagepolicies': ['get', 'list', 'watch'],
      'keelson.dev/imagepolicies/status': ['get', 'patch', 'update'],
      'apiextensions.k8s.io/customresourcedefinitions': ['get'],
    });
  });

  it('the Role covers the key Secrets, the reload digest key and the Lease named by --leader-election-id, in keelson-system only', () => {
    const role = find('Role', 'keelson');
    assert.deepEqual(grants(rulesOf(role)), {
      'coordination.k8s.io/leases': ['create'],
      [`coordination.k8s.io/leases[${String(defaultOf('leader-election-id'))}]`]: ['get', 'update'],
      'core/secrets': ['create', 'get', 'list', 'watch'],
      [`core/secrets[${DIGEST_KEY_SECRET}]`]: ['get'],
    });
  });

  it('bindings tie the roles to the keelson ServiceAccount; cluster-admin only in the opt-in overlay', () => {
    const sa = find('ServiceAccount', 'keelson');
    for (const { file, object } of all.filter((m) => m.object.kind === 'ClusterRoleBinding' || m.object.kind === 'RoleBinding')) {
      const subjects = object.subjects as Any[];
      assert.deepEqual(subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }], file);
      const ref = object.roleRef as Any;
      if (ref.name === 'cluster-admin') assert.equal(file, join('optional', 'gitsync-apply.yaml'), `${file} binds cluster-admin outside the opt-in file`);
      else assert.ok(find(ref.kind, ref.name), `${file}: roleRef to a missing ${ref.kind}`);
    }
    assert.equal(find('ClusterRoleBinding', 'keelson').roleRef && (find('ClusterRoleBinding', 'keelson').roleRef as Any).name, 'keelson');
    assert.equal((find('RoleBinding', 'keelson').roleRef as Any).kind, 'Role');
    assert.ok(all.some((m) => (m.object.roleRef as Any)?.name === 'cluster-admin'), 'the opt-in Git-sync apply binding exists');
  });
});

describe('manifests: Deployment and Service', () => {
  const dep = find('Deployment', 'keelson') as Any;
  const pod = dep.spec.template.spec;
  const c = pod.containers[0];

  it('runs two replicas with leader election, as the keelson ServiceAccount, from the released image', () => {
    assert.equal(dep.spec.replicas, 2);
    assert.equal(pod.containers.length, 1);
    assert.deepEqual(c.args, ['controller', '--leader-elect']);
    assert.equal(pod.serviceAccountName, 'keelson');
    assert.match(c.image, new RegExp(`:${pkgVersion.replace(/\./g, '\\.')}$`), 'image tag is the package version');
    assert.ok(pod.terminationGracePeriodSeconds > 10, 'room for the 10 s graceful shutdown');
  });

  it('is non-root with a read-only root, no escalation, no capabilities and seccomp RuntimeDefault', () => {
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
    const sc = c.securityContext;
    assert.equal(sc.runAsNonRoot, true);
    assert.ok(Number.isInteger(sc.runAsUser) && sc.runAsUser > 0, 'numeric non-root user');
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.deepEqual(sc.capabilities, { drop: ['ALL'] });
    assert.equal(sc.seccompProfile.type, 'RuntimeDefault');
    assert.equal(sc.privileged, undefined);
    assert.equal(pod.hostNetwork, undefined);
    assert.equal(pod.hostPID, undefined);
  });

  it('has a writable emptyDir only for /tmp', () => {
    assert.deepEqual(c.volumeMounts, [{ name: 'tmp', mountPath: '/tmp' }]);
    assert.equal(pod.volumes.length, 1);
    assert.ok(pod.volumes[0].emptyDir, 'the /tmp volume is an emptyDir');
  });

  it('has requests and limits for cpu and memory', () => {
    for (const k of ['requests', 'limits']) for (const r of ['cpu', 'memory']) assert.ok(c.resources[k][r], `resources.${k}.${r}`);
  });

  it('probes /healthz (liveness) and /readyz (readiness) on the http port 8080; metrics on 9090', () => {
    assert.deepEqual(c.ports.map((p: Any) => [p.name, p.containerPort]), [['http', 8080], ['metrics', 9090]]);
    assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
    assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
    assert.equal(defaultOf('http-addr'), ':8080');
    assert.equal(defaultOf('metrics-addr'), ':9090');
  });

  it('restarts a replica whose event loop was blocked: /healthz fails longer than the liveness probe needs to trip', () => {
    const p = c.livenessProbe;
    const window = stallWindowFor(parseDuration(String(defaultOf('max-event-loop-block')))!);
    assert.ok(p.failureThreshold * p.periodSeconds * 1000 + p.timeoutSeconds * 1000 < window, `${JSON.stringify(p)} vs ${window} ms`);
  });

  it('passes POD_NAMESPACE and POD_NAME from the downward API', () => {
    const env = Object.fromEntries(c.env.map((e: Any) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
    assert.deepEqual(env, { POD_NAMESPACE: 'metadata.namespace', POD_NAME: 'metadata.name' });
  });

  it('the Service selects the pods and exposes http 8080 and metrics 9090', () => {
    const svc = find('Service', 'keelson') as Any;
    const labels = dep.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(labels[k], v);
    for (const [k, v] of Object.entries(dep.spec.selector.matchLabels)) assert.equal(labels[k], v);
    assert.deepEqual(svc.spec.ports.map((p: Any) => [p.name, p.port, p.targetPort]), [['http', 8080, 'http'], ['metrics', 9090, 'metrics']]);
  });
});

describe('CRD schemas', () => {
  // A flow mapping like `{type: string, description: Cut at 200 characters.}` is valid YAML that silently turns the
  // description's commas into property names; the API server then drops them (caught only by the e2e dry-run).
  const KEYWORDS = new Set(['type', 'description', 'properties', 'items', 'required', 'enum', 'format', 'maxLength', 'minLength',
    'maximum', 'minimum', 'exclusiveMaximum', 'exclusiveMinimum', 'multipleOf', 'pattern', 'maxItems', 'minItems', 'uniqueItems',
    'maxProperties', 'minProperties', 'additionalProperties', 'default', 'nullable', 'anyOf', 'oneOf', 'allOf', 'not', 'title', 'example']);
  it('every schema key is a JSON-schema keyword, every property name a plain field name', () => {
    const problems: string[] = [];
    const walk = (schema: Record<string, unknown>, path: string): void => {
      for (const key of Object.keys(schema)) if (!KEYWORDS.has(key) && !key.startsWith('x-kubernetes-')) problems.push(`${path}: ${JSON.stringify(key)}`);
      if ('description' in schema && typeof schema.description !== 'string') problems.push(`${path}.description is not a string`);
      const props = schema.properties as Record<string, Record<string, unknown>> | undefined;
      for (const [name, sub] of Object.entries(props ?? {})) {
        if (!/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(name)) problems.push(`${path}.properties[${JSON.stringify(name)}]`);
        if (sub && typeof sub === 'object') walk(sub, `${path}.${name}`);
      }
      for (const key of ['items', 'additionalProperties'] as const) {
        const sub = schema[key];
        if (sub && typeof sub === 'object') walk(sub as Record<string, unknown>, `${path}.${key}`);
      }
    };
    for (const dir of [MANIFESTS, join(ROOT, 'charts/keelson/crds')]) {
      for (const file of manifestFiles(dir).filter((f) => f.includes('crd-'))) {
        for (const crd of readObjects(file).filter((o) => o.kind === 'CustomResourceDefinition')) {
          for (const v of (crd.spec as { versions: { name: string; schema: { openAPIV3Schema: Record<string, unknown> } }[] }).versions) {
            walk(v.schema.openAPIV3Schema, `${file.slice(ROOT.length)}:${v.name}`);
          }
        }
      }
    }
    assert.deepEqual(problems, []);
  });
});
