// Secret data is listed once: with reload and sealing both on, only reload's cache lists Secrets with their data;
// sealing's ownership cache lists metadata only. Counted on the apiserver's own response-size histogram: a LIST
// of Secrets larger than 100 kB carries data, a metadata-only one of a few Secrets is far below that.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { apiserverMetrics } from '../../bench/support/cluster.js';
import { SECRETS } from '../../src/kube/resources.js';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, startController } from '../support/controller.js';
import { createNamespace, installCrd } from './sealing-support.js';

/** How many LIST answers for Secrets were larger than 100,000 bytes so far. */
async function largeSecretLists(cp: ControlPlane): Promise<number> {
  let all = 0;
  let small = 0;
  for (const line of (await apiserverMetrics(cp)).split('\n')) {
    if (!line.startsWith('apiserver_response_sizes_') || !line.includes('resource="secrets"') || !line.includes('verb="LIST"')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith('apiserver_response_sizes_count')) all += value;
    else if (line.startsWith('apiserver_response_sizes_bucket') && line.includes('le="100000"')) small += value;
  }
  return all - small;
}

describe('Secret data is listed once', () => {
  let cp: ControlPlane;
  let ctl: RunningController | undefined;
  before(async () => {
    cp = await startControlPlane();
    await installCrd(cp.client);
    await createNamespace(cp.client, 'keelson-system');
    await createNamespace(cp.client, 'big');
    for (let i = 0; i < 4; i++) {
      await cp.client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: `s${i}`, namespace: 'big' }, type: 'Opaque', data: { v: randomBytes(64 * 1024).toString('base64') } });
    }
  });
  after(async () => {
    await ctl?.stop();
    await cp?.stop();
  });

  it('reload lists the 4 × 64 KiB Secrets with data in one page; sealing only their metadata', async () => {
    const before = await largeSecretLists(cp);
    ctl = await startController(cp, ['--key-size', '2048', '--disable-gitsync']);
    assert.equal(await largeSecretLists(cp) - before, 1);
    assert.ok(ctl.logText().includes('secrets@sealing='), 'the sealing Secret cache synced too');
  });
});
