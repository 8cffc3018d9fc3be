import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { WRITTEN_KEYS } from '../../../src/reload/annotations.js';
import { workloadRecord } from '../../../src/reload/records.js';
import { ALL_WORKLOAD_KINDS, IGNORABLE_WORKLOAD_TYPES, KINDS, RECREATED_FROM, derivedJobName, jobBaseName, jobFromCronJob, parsePausePeriod, podTemplateOf, recreatedJob } from '../../../src/reload/workload-kinds.js';

const pod = { metadata: { labels: { app: 'x', 'controller-uid': 'u0', 'job-name': 'old' } as Record<string, string>, annotations: { 'keelson.dev/auto': 'true' } as Record<string, string> }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', envFrom: [{ configMapRef: { name: 'cfg' } }] }] } };
const cronJob = {
  metadata: { name: 'nightly', namespace: 'ns', uid: 'cj-uid', annotations: { 'keelson.dev/auto': 'true' } },
  spec: { schedule: '@daily', jobTemplate: { metadata: { labels: { l: '1' }, annotations: { a: '1' } }, spec: { backoffLimit: 2, template: pod } } },
};

describe('the workload kind table', () => {
  it('names every kind by its --ignored-workload-types value, and finds each pod template', () => {
    assert.deepEqual([...IGNORABLE_WORKLOAD_TYPES].sort(), ['cronjobs', 'daemonsets', 'deployments', 'jobs', 'rollouts', 'statefulsets']);
    assert.equal(podTemplateOf('CronJob', cronJob), pod);
    assert.equal(podTemplateOf('Job', { metadata: {}, spec: { template: pod } }), pod);
    assert.equal(podTemplateOf('CronJob', { metadata: {}, spec: {} }), undefined);
    for (const k of ALL_WORKLOAD_KINDS) assert.equal(KINDS[k].tracked, ['Deployment', 'StatefulSet', 'DaemonSet'].includes(k));
    assert.equal(KINDS.Job.autoReloadAll, false, 're-running a Job takes an explicit annotation');
  });

  it('a CronJob record reads the references of its jobTemplate', () => {
    const r = workloadRecord('CronJob', cronJob, 'batch/v1beta1');
    assert.deepEqual(r.refs.map((x) => x.name), ['cfg']);
    assert.equal(r.apiVersion, 'batch/v1beta1');
    assert.equal(r.cronJobOwned, false);
    const run = workloadRecord('Job', { metadata: { name: 'r', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'nightly', uid: 'cj-uid', controller: true }] }, spec: { template: pod } });
    assert.equal(run.cronJobOwned, true);
  });
});

describe('derivedJobName', () => {
  it('is deterministic, differs per seed, and stays a valid name of at most 63 characters', () => {
    assert.equal(derivedJobName('nightly', 's1'), derivedJobName('nightly', 's1'));
    assert.notEqual(derivedJobName('nightly', 's1'), derivedJobName('nightly', 's2'));
    assert.match(derivedJobName('nightly', 's1'), /^nightly-[0-9a-f]{10}$/);
    fc.assert(fc.property(fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/), fc.string(), (base, seed) => {
      const n = derivedJobName(base, seed);
      return n.length <= 63 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(n) && !/[-.]-/.test(n.slice(-12));
    }));
  });
});

describe('jobFromCronJob', () => {
  it('is what kubectl create job --from=cronjob makes: jobTemplate, instantiate: manual, owned by the CronJob', () => {
    const j = jobFromCronJob(cronJob, 'batch/v1beta1', { name: 'nightly-abc', annotations: {}, templateAnnotations: { 'keelson.dev/config-hash': 'h1:x' } });
    assert.equal(j.metadata.name, 'nightly-abc');
    assert.deepEqual(j.metadata.labels, { l: '1' });
    assert.deepEqual(j.metadata.annotations, { a: '1', 'cronjob.kubernetes.io/instantiate': 'manual' });
    assert.deepEqual(j.metadata.ownerReferences, [{ apiVersion: 'batch/v1beta1', kind: 'CronJob', name: 'nightly', uid: 'cj-uid', controller: true }]);
    const spec = j.spec as { backoffLimit: number; template: typeof pod };
    assert.equal(spec.backoffLimit, 2);
    assert.equal(spec.template.metadata.annotations['keelson.dev/config-hash'], 'h1:x');
    assert.deepEqual(spec.template.metadata.labels, { app: 'x' }, 'generated labels dropped');
    assert.equal(cronJob.spec.jobTemplate.spec.template.metadata.labels['job-name'], 'old', 'the CronJob is not modified');
  });
});

describe('recreatedJob', () => {
  const old = {
    metadata: {
      name: 'migrate', namespace: 'ns', uid: 'old-uid', resourceVersion: '5', creationTimestamp: 't', labels: { team: 'a', 'controller-uid': 'old-uid', 'job-name': 'migrate' },
      annotations: { 'keelson.dev/auto': 'true', 'keelson.dev/observed': 'old', 'keelson.dev/last-reload': 'old', other: 'kept', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
    },
    spec: { selector: { matchLabels: { 'controller-uid': 'old-uid' } }, manualSelector: false, backoffLimit: 1, template: pod },
    status: { succeeded: 1 },
  };
  it('keeps the spec minus the generated selector and labels, with fresh Keelson annotations', () => {
    const j = recreatedJob(old, { name: 'migrate-0123456789', annotations: { 'keelson.dev/observed': 'new' }, templateAnnotations: { 'keelson.dev/config-hash': 'h1:y' } }, WRITTEN_KEYS);
    assert.deepEqual(j.metadata.labels, { team: 'a' });
    assert.deepEqual(j.metadata.annotations, { 'keelson.dev/auto': 'true', other: 'kept', 'keelson.dev/observed': 'new', [RECREATED_FROM]: 'old-uid', 'keelson.dev/job-name': 'migrate' });
    assert.deepEqual(Object.keys(j).sort(), ['apiVersion', 'kind', 'metadata', 'spec']);
    const spec = j.spec as Record<string, unknown>;
    assert.equal(spec.selector, undefined);
    assert.equal(spec.manualSelector, undefined);
    assert.equal(spec.backoffLimit, 1);
    assert.equal(jobBaseName(j), 'migrate', 'the next re-creation starts from the same base name');
  });
  it('keeps a selector the user chose (manualSelector: true)', () => {
    const j = recreatedJob({ ...old, spec: { ...old.spec, manualSelector: true, selector: { matchLabels: { app: 'x' } } } }, { name: 'n', annotations: {}, templateAnnotations: {} }, WRITTEN_KEYS);
    assert.deepEqual((j.spec as { selector: unknown }).selector, { matchLabels: { app: 'x' } });
  });
});

describe('parsePausePeriod', () => {
  it('takes a positive duration up to 7 days; a huge value (the resume date would overflow) is refused', () => {
    assert.equal(parsePausePeriod('5m'), 300_000);
    assert.equal(parsePausePeriod('168h'), 7 * 24 * 3600_000);
    for (const bad of ['0s', 'soon', '169h', '99999999999h', '-5m', '']) assert.equal(parsePausePeriod(bad), undefined, bad);
    fc.assert(fc.property(fc.string({ maxLength: 40 }), (v) => {
      const ms = parsePausePeriod(v);
      return ms === undefined || !Number.isNaN(new Date(Date.now() + ms).getTime());
    }));
  });
});
