// `keelson ui` in a real browser (Debian's chromium through playwright-core) against the real control plane with the
// controller running: the overview lists GitSyncs and their revisions and follows a new commit live (server-sent
// events, no reload), "Sync now" and Suspend work, a user without RBAC sees the forbidden state, a request without
// the token is 403, and the seal form's output is unsealed by the controller. Screenshots go to a tmp folder.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { parse } from 'yaml';
import { controllerRequest } from '../../src/cli/seal-common.js';
import { diffRunner } from '../../src/cli/ui.js';
import { uiCertificate } from '../../src/cli/ui-cert.js';
import { KubeClient, loadKubeConfig } from '../../src/kube/client.js';
import { DEPLOYMENTS, GITSYNCS, SEALEDSECRETS, SECRETS } from '../../src/kube/resources.js';
import type { KubeObject } from '../../src/kube/types.js';
import { type UiServer, startUiServer } from '../../src/ui/server.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, startController } from '../support/controller.js';
import { installCrd } from '../support/crds.js';
import { type GitServers, startGitServers } from '../support/git-servers.js';
import { GITSYNC_SA_FLAGS, createGitSync, createNamespace, installGitSyncCrd, letServiceAccountsApply, waitApplied } from '../support/gitsync-fixture.js';
import { eventually } from '../support/wait.js';

const cm = (name: string, v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  v: "${v}"\n`;
const BROWSER_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

describe('keelson ui in a browser', () => {
  let cp: ControlPlane;
  let servers: GitServers;
  let ctl: RunningController;
  let admin: KubeClient;
  let viewer: KubeClient;
  let ui: UiServer;
  let viewerUi: UiServer;
  let browser: BrowserContext;
  let page: Page;
  const work = mkdtempSync(join(tmpdir(), 'keelson-ui-e2e-'));
  const shots = join(work, 'screenshots');
  const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  before(async () => {
    mkdirSync(shots, { recursive: true });
    [cp, servers] = await Promise.all([startControlPlane({ users: { viewer: [] } }), startGitServers()]);
    await letServiceAccountsApply(cp.client);
    await installGitSyncCrd(cp.client);
    await installCrd(cp.client, 'crd-sealedsecrets.yaml', 'sealedsecrets.bitnami.com');
    ctl = await startController(cp, ['--disable-reload', '--key-renew-period', '0', '--key-size', '2048', '--git-cache-dir', join(work, 'git'), ...GITSYNC_SA_FLAGS, '--allow-insecure-git']);
    admin = new KubeClient(loadKubeConfig({ kubeconfig: cp.kubeconfigPath }), 'keelson-ui');
    viewer = new KubeClient(loadKubeConfig({ kubeconfig: cp.userKubeConfigPath('viewer') }), 'keelson-ui');
    // As in `npm run demo`, the controller is a local process: no Service leads to it, so the seal form falls back to
    // the active key's certificate, read with the user's rights.
    const target = { url: undefined, kubeconfig: cp.kubeconfigPath, namespace: 'keelson-system', name: 'keelson', env: {} };
    ui = await startUiServer({
      client: admin,
      fetchCert: () => uiCertificate({ target, client: admin, keyNamespace: 'keelson-system' }),
      diff: diffRunner(admin, { controllerNamespace: 'keelson-system', defaultServiceAccount: GITSYNC_SA_FLAGS[1], kustomizePath: 'kustomize', env: {} }),
    });
    viewerUi = await startUiServer({ client: viewer, fetchCert: () => uiCertificate({ target: { ...target, kubeconfig: cp.userKubeConfigPath('viewer') }, client: viewer, keyNamespace: 'keelson-system' }) });
    browser = await chromium.launchPersistentContext(join(work, 'profile'), { executablePath: '/usr/bin/chromium', headless: true, args: BROWSER_ARGS, viewport: { width: 1200, height: 800 } });
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    await Promise.all([ui?.close(), viewerUi?.close()]);
    admin?.close();
    viewer?.close();
    await ctl?.stop();
    await Promise.all([cp?.stop(), servers?.stop()]);
    // Screenshots stay for review; the rest goes.
    for (const d of ['git', 'profile']) rmSync(join(work, d), { recursive: true, force: true });
    console.log(`keelson ui screenshots: ${shots}`);
  });

  it('answers 403 without the token, in the browser too', async () => {
    const base = `http://127.0.0.1:${ui.port}`;
    assert.equal((await fetch(`${base}/`)).status, 403);
    assert.equal((await fetch(`${base}/api/overview`)).status, 403);
    assert.equal((await page.goto(`${base}/api/overview`))?.status(), 403);
  });

  it('keelson ui prints a loopback URL with a fresh token, serves it with the kubeconfig given, stops on SIGINT', async () => {
    const code = "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });";
    const certFile = join(work, 'cert.pem');
    writeFileSync(certFile, (await controllerRequest({ url: ctl.httpUrl, kubeconfig: undefined, namespace: 'keelson-system', name: 'keelson', env: {} }, 'GET', '/v1/cert.pem')).body);
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, 'ui', '--no-open', '--kubeconfig', cp.kubeconfigPath, '--cert', certFile], { cwd: new URL('../..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { out += c.toString(); });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    try {
      const url = await eventually('the printed URL', () => /http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{32}\//.exec(out)?.[0], 60_000);
      assert.ok(!url.includes(ui.token), 'a fresh token per run');
      assert.equal((await fetch(`${new URL(url).origin}/api/overview`)).status, 403);
      const overview = await fetch(`${url}api/overview`);
      assert.equal(overview.status, 200);
      assert.equal(((await overview.json()) as { gitSyncs: { state: string } }).gitSyncs.state, 'ok');
      const cert = (await (await fetch(`${url}api/cert`)).json()) as { source: string; spki: string };
      assert.equal(cert.source, `--cert ${certFile}`);
      assert.ok(cert.spki.length > 100);
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0, out);
  });

  it('lists GitSyncs with their revision and follows a new commit live', async () => {
    const ns = await createNamespace(cp.client, 'live');
    const repo = servers.repo('live');
    const sha1 = repo.write({ 'a.yaml': cm('a', '1') }).commit('one');
    await createGitSync(cp.client, ns, 'app', { url: servers.daemonUrl('live') });
    await waitApplied(cp.client, ns, 'app', `main@sha1:${sha1}`, 60_000);

    await page.goto(ui.url);
    const revision = page.locator('[data-gitsync="live/app"] .revision');
    await revision.filter({ hasText: sha1 }).waitFor({ timeout: 30_000 });
    await page.locator('.live.on').waitFor();
    await page.evaluate(() => { (globalThis as unknown as { marker: number }).marker = 1; });

    const sha2 = repo.write({ 'a.yaml': cm('a', '2'), 'b.yaml': cm('b', '1') }).commit('two');
    await revision.filter({ hasText: sha2 }).waitFor({ timeout: 60_000 });
    assert.equal(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker), 1, 'updated without a reload');
    // A hostile commit subject (100 KiB on one line, control characters): the sync goes on, and status.history keeps
    // one bounded, clean line of it.
    const sha3 = repo.write({ 'a.yaml': cm('a', '3') }).commit(`\u001b[31mred\u0007 ${'x'.repeat(100_000)}\nbody`);
    await revision.filter({ hasText: sha3 }).waitFor({ timeout: 60_000 });
    const newest = ((await cp.client.get(GITSYNCS, ns, 'app')).status as { history?: { revision: string; message: string }[] }).history?.at(-1);
    assert.equal(newest?.revision, `main@sha1:${sha3}`);
    assert.ok(newest.message.length <= 201, `${newest.message.length} characters`);
    assert.match(newest.message, /^ ?\[31mred  x+/);
    assert.doesNotMatch(newest.message, /[\u0000-\u001f\u007f]/);
    await page.getByRole('heading', { name: 'Recent Keelson events' }).waitFor();
    assert.match(await page.locator('main').innerText(), /No leader Lease: the controller runs without --leader-elect/);
    await shot('overview');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot('overview-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('syncs now, suspends and resumes from the GitSync page', async () => {
    const ns = await createNamespace(cp.client, 'manual');
    const repo = servers.repo('manual');
    const sha1 = repo.write({ 'cfg.yaml': cm('cfg', '1') }).commit('one');
    await createGitSync(cp.client, ns, 'app', { url: servers.daemonUrl('manual'), interval: '1h' });
    await waitApplied(cp.client, ns, 'app', `main@sha1:${sha1}`, 60_000);
    const secret = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: hunter2-in-git\n';
    const sha2 = repo.write({ 'cfg.yaml': cm('cfg', '2'), 'creds.yaml': secret }).commit('two: bump cfg, add creds\n\nA body line the history does not show.');

    await page.goto(`${ui.url}#/gitsync/manual/app`);
    await page.getByRole('heading', { name: 'Inventory (1 objects)' }).waitFor();
    await page.getByText('ConfigMap', { exact: true }).waitFor();
    const revision = page.locator('dd.revision');
    assert.match(await revision.innerText(), new RegExp(sha1));

    // The diff of the new commit, side by side, computed by the ui server as `keelson diff` does; Secret values masked.
    await page.getByRole('button', { name: 'Show diff' }).click();
    const result = page.getByRole('region', { name: 'Diff result' });
    await result.or(page.locator('.diff-panel .error')).first().waitFor({ timeout: 60_000 });
    if (await page.locator('.diff-panel .error').count()) assert.fail(`the diff says: ${await page.locator('.diff-panel .error').innerText()}`);
    assert.match(await result.innerText(), new RegExp(`Revision main@sha1:${sha2}.*2 object\\(s\\) would change`));
    const cfgRows = page.locator('[data-diff-object="ConfigMap manual/cfg"] table.diff tr');
    await cfgRows.filter({ has: page.locator('td.del', { hasText: 'v: "1"' }) }).filter({ has: page.locator('td.add', { hasText: 'v: "2"' }) }).waitFor();
    assert.match(await page.locator('[data-diff-object="Secret manual/creds"]').innerText(), /would be created[\s\S]*\*\*\* \(after\)/);
    assert.ok(!(await page.content()).includes('hunter2'), 'no Secret value in the page');
    await shot('gitsync-diff');
    await page.getByRole('button', { name: 'Sync now' }).click();
    await page.getByText('Sync requested.').waitFor();
    await revision.filter({ hasText: sha2 }).waitFor({ timeout: 60_000 });
    // status.history, newest first: the commit subjects only.
    const history = page.locator('table.history tbody tr');
    await history.nth(1).waitFor({ timeout: 30_000 });
    assert.match(await history.nth(0).innerText(), new RegExp(`${sha2.slice(0, 12)}\\s+two: bump cfg, add creds\\s+2\\s+1 created, 1 configured`));
    assert.match(await history.nth(1).innerText(), new RegExp(`${sha1.slice(0, 12)}\\s+one\\s+1\\s+1 created`));
    assert.ok(!(await page.locator('main').innerText()).includes('A body line'));
    await shot('gitsync');

    await page.getByRole('button', { name: 'Suspend' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Resume' }).waitFor({ timeout: 30_000 });
    assert.equal(((await cp.client.get(GITSYNCS, ns, 'app')).spec as { suspend?: boolean }).suspend, true);
    assert.equal(await page.getByRole('button', { name: 'Sync now' }).isDisabled(), true);
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('button', { name: 'Suspend' }).waitFor({ timeout: 30_000 });
    assert.equal(((await cp.client.get(GITSYNCS, ns, 'app')).spec as { suspend?: boolean }).suspend, false);
  });

  it('shows a workload: what it references, its last reload and its rollout state', async () => {
    const lastReload = JSON.stringify({ at: new Date().toISOString(), trigger: 'ConfigMap manual/cfg', change: 'data.v changed', hash: 'h' });
    await cp.client.create(DEPLOYMENTS, {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'manual', annotations: { 'keelson.dev/last-reload': lastReload } },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'c', image: 'nginx', envFrom: [{ configMapRef: { name: 'cfg' } }] }], volumes: [{ name: 's', secret: { secretName: 'creds' } }] },
        },
      },
    });
    await page.goto(`${ui.url}#/workload/deployments/manual/web`);
    await page.getByRole('heading', { name: /Deployment manual\/web/ }).waitFor({ timeout: 15_000 });
    const text = await page.locator('main').innerText();
    assert.match(text, /ConfigMap cfg/);
    assert.match(text, /Secret creds/);
    assert.match(text, /ConfigMap manual\/cfg — data\.v changed/);
    assert.match(text, /Rollout (Progressing|Complete)/);
    await shot('workload');
  });

  it('shows a user without RBAC the forbidden state, not an error page', async () => {
    const other = await browser.newPage();
    await other.goto(viewerUi.url);
    await other.getByRole('heading', { name: 'GitSyncs' }).waitFor();
    const text = await other.locator('main').innerText();
    assert.match(text, /Forbidden: your Kubernetes user may not list GitSyncs/);
    assert.match(text, /Forbidden: your Kubernetes user may not list SealedSecrets/);
    assert.match(text, /Forbidden: your Kubernetes user may not list Leases/);
    await other.screenshot({ path: join(shots, 'forbidden.png'), fullPage: true });
    await other.goto(`${viewerUi.url}#/gitsync/live/app`);
    await other.getByText(/Forbidden/).waitFor();
    // No Service, no right to the key Secrets: the seal form says why and what to pass instead.
    await other.goto(`${viewerUi.url}#/seal`);
    await other.locator('.cert-source .error').waitFor({ timeout: 60_000 });
    assert.match(await other.locator('.cert-source').innerText(), /answered HTTP (403|404), and the active sealing key's certificate cannot be read either \(your Kubernetes user may not list Secrets in keelson-system\)\. Start keelson ui with --cert FILE\|URL/);
    await other.close();
  });

  it('seals in the browser; the controller unseals the result into the expected Secret', async () => {
    const ns = await createNamespace(cp.client, 'sealed');
    await page.goto(ui.url);
    await page.goto(`${ui.url}#/seal`);
    try { await page.getByRole('heading', { name: 'Seal a Secret' }).waitFor({ timeout: 10_000 }); } catch (e) { await shot('seal-failed'); throw e; }
    await page.locator('.cert-source .mono, .cert-source .error').first().waitFor({ timeout: 60_000 });
    assert.match(await page.locator('.cert-source').innerText(), /Certificate from the public certificate of the active sealing key, Secret keelson-system\/\S+ \(the controller's Service keelson-system\/keelson answered HTTP 404\)/);
    await page.getByLabel('Namespace').fill(ns);
    await page.getByLabel('Name', { exact: true }).fill('db');
    await page.getByLabel('Key 1').fill('password');
    await page.getByLabel('Value 1').fill('s3cr3t-from-the-browser');
    await page.getByRole('button', { name: 'Add a key' }).click();
    await page.getByLabel('Key 2').fill('user');
    await page.getByLabel('Value 2').fill('app');
    await page.getByRole('button', { name: 'Seal', exact: true }).click();
    await page.locator('#seal-output, form .error').first().waitFor({ timeout: 30_000 });
    if (await page.locator('form .error').count()) assert.fail(`the seal form says: ${await page.locator('form .error').innerText()}`);
    const output = page.getByLabel('SealedSecret (commit this)');
    const yaml = await output.inputValue();
    assert.ok(!yaml.includes('s3cr3t-from-the-browser'));
    await shot('seal');
    await cp.client.create(SEALEDSECRETS, parse(yaml) as KubeObject);
    const secret = await eventually('the unsealed Secret', () => cp.client.tryGet(SECRETS, ns, 'db'), 60_000);
    const data = secret.data as Record<string, string>;
    assert.equal(Buffer.from(data.password!, 'base64').toString(), 's3cr3t-from-the-browser');
    assert.equal(Buffer.from(data.user!, 'base64').toString(), 'app');
    await page.goto(`${ui.url}#/sealedsecret/${ns}/db`);
    await page.getByRole('heading', { name: /SealedSecret sealed\/db Synced/ }).waitFor({ timeout: 30_000 });
    assert.match(await page.locator('main').innerText(), /Sealed keys\s+password, user/);
    await shot('sealedsecret');
  });
});
