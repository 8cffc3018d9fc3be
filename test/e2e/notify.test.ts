// Notifications end to end on a real control plane with the stand-in kubelet: a commit applied by a GitSync changes a
// ConfigMap, the Deployment rolls and completes, and a Slack-shaped message says "rolled out" (and a broken commit
// says "failed, and why"); a Notifier of each type posts the documented payload shape of its service to a receiver
// on loopback (the webhook's HMAC verified); team-a hears nothing about team-b; Reloader's ALERT_* variables post
// Reloaded events; a failing endpoint turns the Notifier's Ready condition False without showing its address.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { CONFIGMAPS, CRDS, DEPLOYMENTS, NOTIFIERS, SECRETS } from '../../src/kube/resources.js';
import type { KubeObject } from '../../src/kube/types.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, metricValue, startController } from '../support/controller.js';
import { type FakeKubelet, startFakeKubelet } from '../support/fake-kubelet.js';
import { type GitServers, startGitServers, type TestRepo } from '../support/git-servers.js';
import { GITSYNC_SA_FLAGS, createGitSync, createNamespace, installGitSyncCrd, letServiceAccountsApply, waitApplied } from '../support/gitsync-fixture.js';
import { eventually } from '../support/wait.js';

type Any = any;
interface Hit { path: string; headers: Record<string, string | string[] | undefined>; raw: string; json: Any }

const HMAC_KEY = 'e2e-hmac-key-value';
const SECRET_PATH = 'T0000/B0000/e2eSlackSecretPath';
const TOKEN = 'e2e-bearer-token-value';

const deployment = (ns: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
  annotations: {keelson.dev/auto: "true"}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: example/web:1
          envFrom: [{configMapRef: {name: web-config}}]
`;
const configMap = (mode: string) => `apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {MODE: ${mode}}
`;

describe('notifications: Notifier types, tenancy, ALERT_*, from a commit to a Slack message', () => {
  let cp: ControlPlane;
  let kubelet: FakeKubelet;
  let git: GitServers;
  let repo: TestRepo;
  let controller: RunningController;
  let receiver: Server;
  let base = '';
  const hits: Hit[] = [];
  const at = (path: string) => hits.filter((h) => h.path === path);

  before(async () => {
    receiver = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => { raw += c; });
      req.on('end', () => {
        let json: Any;
        try { json = JSON.parse(raw); } catch { json = undefined; }
        hits.push({ path: req.url ?? '', headers: req.headers, raw, json });
        res.writeHead(req.url?.startsWith('/fail') ? 500 : 200);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

    cp = await startControlPlane({ controllerManager: true });
    kubelet = await startFakeKubelet(cp.client);
    git = await startGitServers();
    await installGitSyncCrd(cp.client);
    await cp.client.apply(CRDS, parse(readFileSync(new URL('../../manifests/crd-notifiers.yaml', import.meta.url), 'utf8')) as KubeObject, { fieldManager: 'keelson-test', force: true });
    await eventually('the Notifier CRD', async () => ((await cp.client.get(CRDS, undefined, 'notifiers.keelson.dev')).status as Any)?.conditions?.some((c: Any) => c.type === 'Established' && c.status === 'True'));
    await letServiceAccountsApply(cp.client);
    for (const ns of ['keelson-system', 'team-a', 'team-b']) await createNamespace(cp.client, ns);
    controller = await startController(cp, ['--allow-insecure-git', '--disable-sealing', ...GITSYNC_SA_FLAGS, '--debounce', '100ms'], {
      ALERT_ON_RELOAD: 'true', ALERT_SINK: 'slack', ALERT_WEBHOOK_URL: `${base}/reloader/${SECRET_PATH}`, ALERT_ADDITIONAL_INFO: 'e2e-cluster',
    });
    repo = git.repo('notify');
  });
  after(async () => {
    await controller?.stop();
    await kubelet?.stop();
    await git?.stop();
    await cp?.stop();
    receiver?.closeAllConnections();
    receiver?.close();
  });

  const notifierWith = async (ns: string, name: string, type: string, events: string[] | undefined, data: Record<string, string>) => {
    await cp.client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { namespace: ns, name: `${name}-endpoint` }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) });
    await cp.client.create(NOTIFIERS, { apiVersion: 'keelson.dev/v1alpha1', kind: 'Notifier', metadata: { namespace: ns, name }, spec: { type, secretRef: { name: `${name}-endpoint` }, ...(events ? { events } : {}) } });
  };
  const readyOf = async (ns: string, name: string) => ((await cp.client.get(NOTIFIERS, ns, name)).status as Any)?.conditions?.find((c: Any) => c.type === 'Ready');
  const available = (ns: string) => eventually(`${ns}/web available`, async () => {
    const d = await cp.client.get(DEPLOYMENTS, ns, 'web');
    const st = d.status as Any;
    return !!st && st.observedGeneration === d.metadata.generation && st.updatedReplicas === 1 && st.availableReplicas === 1 && st.replicas === 1;
  }, 60_000);

  it('Notifiers of every type in team-a, one in team-b, and one with a failing endpoint become Ready', async () => {
    const all = ['Synced', 'SyncFailed', 'Reloaded', 'RolloutComplete', 'RolloutFailed'];
    await notifierWith('team-a', 'slack', 'slack', all, { address: `${base}/slack-a/${SECRET_PATH}` });
    await notifierWith('team-a', 'teams', 'msteams', ['RolloutComplete'], { address: `${base}/teams-a` });
    await notifierWith('team-a', 'gchat', 'googlechat', ['RolloutComplete'], { address: `${base}/gchat-a` });
    await notifierWith('team-a', 'hook', 'webhook', ['RolloutComplete', 'Synced'], { address: `${base}/hook-a`, hmacKey: HMAC_KEY, token: TOKEN });
    await notifierWith('team-a', 'am', 'alertmanager', ['RolloutComplete'], { address: `${base}/am-a`, token: TOKEN });
    await notifierWith('team-b', 'slack', 'slack', all, { address: `${base}/slack-b` });
    await notifierWith('team-b', 'broken', 'slack', ['Reloaded'], { address: `${base}/fail/${SECRET_PATH}` });
    await notifierWith('keelson-system', 'ops', 'googlechat', ['RolloutComplete'], { address: `${base}/ops` });
    await cp.client.patch(NOTIFIERS, 'keelson-system', 'ops', 'merge', { spec: { allNamespaces: true } });
    for (const [ns, n] of [['team-a', 'slack'], ['team-a', 'teams'], ['team-a', 'gchat'], ['team-a', 'hook'], ['team-a', 'am'], ['team-b', 'slack'], ['team-b', 'broken'], ['keelson-system', 'ops']] as const) {
      await eventually(`Notifier ${ns}/${n} Ready`, async () => (await readyOf(ns, n))?.status === 'True');
    }
  });

  it('from a commit to a Slack message: synced at the commit, then the Deployment rolled out because of the ConfigMap', async () => {
    const first = repo.write({ 'app/deployment.yaml': deployment('team-a'), 'app/config.yaml': configMap('one') }).commit('web');
    await createGitSync(cp.client, 'team-a', 'app', { url: `file://${repo.bare}`, ref: { branch: 'main' }, path: 'app', targetNamespace: 'team-a', interval: '1s' });
    await waitApplied(cp.client, 'team-a', 'app', `main@sha1:${first}`, 60_000);
    await eventually('a Slack message naming the first commit', () => at(`/slack-a/${SECRET_PATH}`).find((h) => h.json?.text?.includes(first)));
    await available('team-a');
    await eventually('the reload baseline', async () => (await cp.client.get(DEPLOYMENTS, 'team-a', 'web')).metadata.annotations?.['keelson.dev/observed']);

    const second = repo.write({ 'app/config.yaml': configMap('two') }).commit('web: mode two');
    await waitApplied(cp.client, 'team-a', 'app', `main@sha1:${second}`, 60_000);
    const synced = await eventually('Synced at the second commit', () => at(`/slack-a/${SECRET_PATH}`).find((h) => h.json?.text?.includes(second)));
    assert.match(synced.json.text, /^GitSync team-a\/app synced: revision main@sha1:/);
    assert.deepEqual(synced.json.attachments[0].fields.find((f: Any) => f.title === 'Commit').value, second);
    const rolled = await eventually('a Slack "rolled out" message', () => at(`/slack-a/${SECRET_PATH}`).find((h) => h.json?.attachments?.[0]?.title === 'Deployment team-a/web rolled out'), 60_000);
    assert.match(rolled.json.text, /^Deployment team-a\/web rolled out: Rollout after ConfigMap team-a\/web-config changed is complete/);
    assert.equal(rolled.json.attachments[0].color, 'good');
    const fields = Object.fromEntries(rolled.json.attachments[0].fields.map((f: Any) => [f.title, f.value]));
    assert.deepEqual(fields, { 'Reason': 'RolloutComplete', 'Caused by': 'ConfigMap team-a/web-config', 'GitSync': 'team-a/app', 'Revision': `main@sha1:${second}`, 'Commit': second });
  });

  it('a broken commit: a Slack message saying the GitSync failed, and why', async () => {
    const bad = repo.write({ 'app/config.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-config}\ndata: [not, a, map]\n' }).commit('broken');
    const failed = await eventually('a Slack failure message', () => at(`/slack-a/${SECRET_PATH}`).find((h) => / failed \(/.test(h.json?.text ?? '')), 60_000);
    assert.match(failed.json.attachments[0].title, /^GitSync team-a\/app failed \((ValidationFailed|ApplyFailed)\)$/);
    assert.match(failed.json.text, /web-config|config\.yaml/, 'the message names the object or file');
    assert.equal(failed.json.attachments[0].color, 'danger');
    assert.ok(bad.length === 40);
    repo.write({ 'app/config.yaml': configMap('two') }).commit('fix');
  });

  it('each type posts its service\'s documented shape; the webhook is HMAC-signed', async () => {
    const teams = await eventually('Teams', () => at('/teams-a')[0]);
    assert.equal(teams.json.type, 'message');
    assert.equal(teams.json.attachments[0].contentType, 'application/vnd.microsoft.card.adaptive');
    assert.equal(teams.json.attachments[0].content.type, 'AdaptiveCard');
    assert.ok(Array.isArray(teams.json.attachments[0].content.body));
    assert.match(teams.json.attachments[0].content.body[0].text, /^Deployment team-a\/web rolled out$/);

    const gchat = await eventually('Google Chat', () => at('/gchat-a')[0]);
    assert.deepEqual(Object.keys(gchat.json), ['text']);
    assert.match(gchat.json.text, /^\*Deployment team-a\/web rolled out\*\n/);

    const hooks = await eventually('webhook: Synced and RolloutComplete', () => { const h = at('/hook-a'); return h.some((x) => x.json.reason === 'RolloutComplete') ? h : undefined; });
    for (const h of hooks) {
      assert.equal(h.headers['x-keelson-signature'], `sha256=${createHmac('sha256', HMAC_KEY).update(h.raw).digest('hex')}`);
      assert.equal(h.headers.authorization, `Bearer ${TOKEN}`);
      assert.equal(h.headers['content-type'], 'application/json');
      assert.equal(h.json.apiVersion, 'keelson.dev/v1alpha1');
      assert.equal(h.json.kind, 'Notification');
    }
    const syncedHook = hooks.find((h) => h.json.reason === 'Synced')!;
    assert.match(syncedHook.json.commit, /^[0-9a-f]{40}$/);
    assert.deepEqual(syncedHook.json.involvedObject, { kind: 'GitSync', namespace: 'team-a', name: 'app' });

    const am = await eventually('Alertmanager', () => at('/am-a/api/v2/alerts')[0]);
    assert.ok(Array.isArray(am.json) && am.json.length === 1);
    const [alert] = am.json;
    assert.equal(alert.labels.alertname, 'KeelsonRolloutComplete');
    assert.deepEqual([alert.labels.namespace, alert.labels.kind, alert.labels.name], ['team-a', 'Deployment', 'web']);
    for (const v of [...Object.values(alert.labels), ...Object.values(alert.annotations)]) assert.equal(typeof v, 'string');
    assert.ok(!Number.isNaN(Date.parse(alert.startsAt)));
    assert.equal(am.headers.authorization, `Bearer ${TOKEN}`);
  });

  it('tenancy: team-b hears its own roll, team-a hears nothing about team-b; ALERT_* hears every Reloaded', async () => {
    await cp.client.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'team-b', name: 'web-config' }, data: { MODE: 'one' } });
    await cp.client.apply(DEPLOYMENTS, parse(deployment('team-b')) as KubeObject, { fieldManager: 'e2e', force: true });
    await available('team-b');
    await eventually('the team-b baseline', async () => (await cp.client.get(DEPLOYMENTS, 'team-b', 'web')).metadata.annotations?.['keelson.dev/observed']);
    await cp.client.patch(CONFIGMAPS, 'team-b', 'web-config', 'merge', { data: { MODE: 'two' } });
    await eventually('team-b: rolled out', () => at('/slack-b').find((h) => h.json?.attachments?.[0]?.title === 'Deployment team-b/web rolled out'), 60_000);
    for (const h of hits.filter((x) => x.path.includes('-a'))) assert.ok(!h.raw.includes('team-b'), `team-a's ${h.path} heard about team-b: ${h.raw.slice(0, 200)}`);
    assert.ok(!at('/slack-b').some((h) => h.raw.includes('team-a')), 'team-b heard about team-a');

    await eventually('the controller namespace\'s allNamespaces Notifier heard both rollouts', () => {
      const texts = at('/ops').map((h) => h.json.text as string);
      return texts.some((t) => t.startsWith('*Deployment team-a/web rolled out*')) && texts.some((t) => t.startsWith('*Deployment team-b/web rolled out*'));
    });
    const reloader = await eventually('ALERT_* messages for both namespaces', () => {
      const r = at(`/reloader/${SECRET_PATH}`);
      return r.some((h) => h.raw.includes('namespace *team-a*')) && r.some((h) => h.raw.includes('namespace *team-b*')) ? r : undefined;
    });
    assert.deepEqual(reloader.find((h) => h.raw.includes('*team-b*'))!.json, {
      attachments: [{ text: 'e2e-cluster : Keelson detected changes in *web-config* of type *configmap* in namespace *team-b*. Hence reloaded *web* of type *Deployment* in namespace *team-b*', color: 'good', author_name: 'Keelson' }],
    });
    assert.ok(reloader.every((h) => h.json.attachments[0].text.includes('Hence reloaded')), 'ALERT_* sends only Reloaded');
  });

  it('a failing endpoint: Ready False with reason DeliveryFailed, the status code, and no address; counted in the metric', async () => {
    const cond = await eventually('broken Notifier not Ready', async () => { const c = await readyOf('team-b', 'broken'); return c?.status === 'False' ? c : undefined; }, 60_000);
    assert.equal(cond.reason, 'DeliveryFailed');
    assert.match(cond.message, /could not deliver Reloaded for Deployment team-b\/web after 4 attempts: endpoint answered HTTP 500/);
    assert.ok(!cond.message.includes(base) && !cond.message.includes(SECRET_PATH));
    const m = await controller.metrics();
    assert.ok(metricValue(m, 'keelson_notifications_total', { type: 'slack', result: 'failure' }) >= 1);
    assert.ok(metricValue(m, 'keelson_notifications_total', { type: 'slack', result: 'success' }) >= 3);
    assert.ok(metricValue(m, 'keelson_notifications_total', { type: 'reloader', result: 'success' }) >= 2);
  });

  it('no address secret, token or HMAC key in logs, and no credential in any payload', () => {
    const logs = controller.logText();
    for (const v of [SECRET_PATH, TOKEN, HMAC_KEY]) assert.ok(!logs.includes(v), `logged ${v}`);
    for (const h of hits) for (const v of [SECRET_PATH, TOKEN, HMAC_KEY]) assert.ok(!h.raw.includes(v), `${h.path} body holds ${v}`);
  });
});
