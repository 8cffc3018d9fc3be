import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyBody, envVarName, envVarsFor, forgetBody, parseLastReload, scrubPlainHash } from '../../../src/reload/apply-body.js';
import { nextObserved } from '../../../src/reload/decide.js';
import { workloadRecord } from '../../../src/reload/records.js';

const w = (templateAnnotations: Record<string, string> = {}, env: { name: string; value: string }[] = [], annotations: Record<string, string> = {}) => workloadRecord('Deployment', {
  metadata: { name: 'web', namespace: 'ns', resourceVersion: '42', annotations },
  spec: { template: { metadata: { annotations: templateAnnotations }, spec: {
    containers: [{ name: 'app', env, envFrom: [{ configMapRef: { name: 'app-config' } }] }, { name: 'side' }],
    volumes: [{ name: 'v', secret: { secretName: 'creds' } }],
  } } },
});
const observed = nextObserved('s', [{ id: 'ConfigMap/app-config', kind: 'ConfigMap', namespace: 'ns', name: 'app-config', digest: 'd'.repeat(64), named: false }]);

describe('envVarName', () => {
  it('upper-cases and turns runs of non-alphanumerics into one underscore', () => {
    assert.equal(envVarName('ConfigMap', 'app-config'), 'KEELSON_APP_CONFIG_CONFIGMAP');
    assert.equal(envVarName('Secret', 'db.creds--v2'), 'KEELSON_DB_CREDS_V2_SECRET');
  });
});

describe('envVarsFor', () => {
  it('puts each trigger into the containers that use it, else into the first container', () => {
    const vars = envVarsFor(w(), [{ kind: 'ConfigMap', name: 'app-config', digest: 'd1' }, { kind: 'Secret', name: 'creds', digest: 'd2' }, { kind: 'ConfigMap', name: 'named', digest: 'd3' }]);
    assert.deepEqual(vars, { app: { KEELSON_APP_CONFIG_CONFIGMAP: 'd1', KEELSON_CREDS_SECRET: 'd2', KEELSON_NAMED_CONFIGMAP: 'd3' } });
  });
});

describe('applyBody', () => {
  it('a baseline writes only metadata annotations, guarded by the resourceVersion', () => {
    const body = applyBody(w(), { observed });
    assert.deepEqual(body, {
      apiVersion: 'apps/v1', kind: 'Deployment',
      metadata: { name: 'web', namespace: 'ns', resourceVersion: '42', annotations: { 'keelson.dev/observed': JSON.stringify({ v: 1, sel: 's', hash: observed.hash, configs: observed.configs }) } },
    });
  });

  it('a baseline carries forward the hash, variables and last-reload it owns (server-side apply would drop them)', () => {
    const body = applyBody(w({ 'keelson.dev/config-hash': 'old' }, [{ name: 'KEELSON_APP_CONFIG_CONFIGMAP', value: 'x' }, { name: 'USER', value: 'u' }], { 'keelson.dev/last-reload': '{"at":"t"}' }), { observed }) as any;
    assert.equal(body.spec.template.metadata.annotations['keelson.dev/config-hash'], 'old');
    assert.deepEqual(body.spec.template.spec.containers, [{ name: 'app', env: [{ name: 'KEELSON_APP_CONFIG_CONFIGMAP', value: 'x' }] }]);
    assert.equal(body.metadata.annotations['keelson.dev/last-reload'], '{"at":"t"}');
  });

  it('a carried-forward last-reload loses a plain (pre-keyed) hash and keeps a keyed one', () => {
    const plain = JSON.stringify({ at: 't', trigger: 'ConfigMap ns/a', change: 'changed', hash: 'f'.repeat(64), generation: 3 });
    const body = applyBody(w({}, [], { 'keelson.dev/last-reload': plain }), { observed }) as any;
    assert.deepEqual(JSON.parse(body.metadata.annotations['keelson.dev/last-reload']), { at: 't', trigger: 'ConfigMap ns/a', change: 'changed', hash: '', generation: 3 });
    const keyed = JSON.stringify({ at: 't', trigger: 'ConfigMap ns/a', change: 'changed', hash: `h1:${'e'.repeat(64)}` });
    assert.equal(scrubPlainHash(keyed), keyed);
    assert.equal(scrubPlainHash(undefined), undefined);
    assert.equal(scrubPlainHash('garbage'), 'garbage');
  });

  it('an annotations roll sets the pod-template hash and last-reload', () => {
    const lastReload = { at: '2026-01-01T00:00:00.000Z', trigger: 'ConfigMap ns/app-config', change: 'changed', hash: observed.hash, generation: 2 };
    const body = applyBody(w(), { observed, roll: { lastReload, configHash: observed.hash } }) as any;
    assert.equal(body.spec.template.metadata.annotations['keelson.dev/config-hash'], observed.hash);
    assert.deepEqual(parseLastReload(body.metadata.annotations['keelson.dev/last-reload']), lastReload);
    assert.equal(body.spec.template.spec, undefined);
  });

  it('an env-vars roll replaces the owned variables and keeps an existing hash', () => {
    const body = applyBody(w({ 'keelson.dev/config-hash': 'old' }, [{ name: 'KEELSON_GONE_SECRET', value: 'x' }]), {
      observed, roll: { lastReload: { at: 't', trigger: 'x', change: 'changed', hash: 'h' }, env: { app: { KEELSON_B_CONFIGMAP: '2', KEELSON_A_CONFIGMAP: '1' } } },
    }) as any;
    assert.deepEqual(body.spec.template.spec.containers, [{ name: 'app', env: [{ name: 'KEELSON_A_CONFIGMAP', value: '1' }, { name: 'KEELSON_B_CONFIGMAP', value: '2' }] }]);
    assert.equal(body.spec.template.metadata.annotations['keelson.dev/config-hash'], 'old');
  });

  it('forgetting removes only the metadata annotations (no restart), guarded by the resourceVersion', () => {
    assert.deepEqual(forgetBody(w({ 'keelson.dev/config-hash': 'old' })), {
      metadata: { resourceVersion: '42', annotations: { 'keelson.dev/observed': null, 'keelson.dev/last-reload': null } },
    });
  });

  it('parseLastReload rejects garbage', () => {
    for (const t of [undefined, '', 'x', '{}', '{"at":1}']) assert.equal(parseLastReload(t), undefined);
  });
});

describe('applyBody for the v0.2 kinds and pause-period', () => {
  it('a CronJob or Job carries only the baseline, under its served apiVersion', () => {
    const cj = workloadRecord('CronJob', { metadata: { name: 'c', namespace: 'ns', resourceVersion: '1' }, spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'a' }] } } } } } }, 'batch/v1beta1');
    const body = applyBody(cj, { observed, roll: { lastReload: { at: 't', trigger: 'x', change: 'changed', hash: 'h', seq: 2, job: 'c-1' }, configHash: 'h' } }) as any;
    assert.equal(body.apiVersion, 'batch/v1beta1');
    assert.equal(body.spec, undefined);
    assert.equal(JSON.parse(body.metadata.annotations['keelson.dev/last-reload']).seq, 2);
  });
  it('pause-period: paused with the resume time, carried forward by later writes, dropped on resume', () => {
    const rolled = applyBody(w(), { observed, roll: { lastReload: { at: 't', trigger: 'x', change: 'changed', hash: 'h' }, configHash: 'h', pausedUntil: '2030-01-01T00:00:00.000Z' } }) as any;
    assert.equal(rolled.spec.paused, true);
    assert.equal(rolled.metadata.annotations['keelson.dev/paused-until'], '2030-01-01T00:00:00.000Z');
    const during = w({ 'keelson.dev/config-hash': 'h' }, [], { 'keelson.dev/paused-until': '2030-01-01T00:00:00.000Z' });
    assert.equal((applyBody(during, { observed }) as any).spec.paused, true, 'a baseline write during the pause keeps it paused');
    const resumed = applyBody(during, { observed, resume: true }) as any;
    assert.equal(resumed.spec.paused, undefined);
    assert.equal(resumed.metadata.annotations['keelson.dev/paused-until'], undefined);
    assert.equal(resumed.spec.template.metadata.annotations['keelson.dev/config-hash'], 'h');
  });
  it('Rollout restart: spec.restartAt, carried forward', () => {
    const ro = workloadRecord('Rollout', { metadata: { name: 'r', namespace: 'ns', resourceVersion: '1' }, spec: { restartAt: '2026-01-01T00:00:00Z', template: { spec: { containers: [{ name: 'a' }] } } } });
    const body = applyBody(ro, { observed }) as any;
    assert.equal(body.apiVersion, 'argoproj.io/v1alpha1');
    assert.equal(body.spec.restartAt, '2026-01-01T00:00:00Z');
    assert.equal((applyBody(ro, { observed, roll: { lastReload: { at: 't', trigger: 'x', change: 'changed', hash: 'h' }, restartAt: '2027-01-01T00:00:00Z' } }) as any).spec.restartAt, '2027-01-01T00:00:00Z');
  });
});
