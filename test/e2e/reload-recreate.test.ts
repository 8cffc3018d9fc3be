// Found by the chaos soak (issue 18; `npm run soak -- --seed 20261130 --workloads 20 --minutes 5`, DaemonSet w011):
// a Secret change waited out its debounce on the leader when the leader went away; the Secret was then deleted and
// re-created with the changed content, and the next leader first saw it absent (--reload-on-delete off), then
// present (--reload-on-create off): the change never rolled. The same schedule, deterministic: the controller is
// stopped inside the debounce window (its in-memory note of the change goes with it, as in a failover).
// Keelson now keeps the digest the pods hold while a config is absent: a different re-creation rolls once, an
// identical one does not.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ControlPlane, startControlPlane } from '../support/control-plane.js';
import { type RunningController, startController } from '../support/controller.js';
import { type FakeKubelet, startFakeKubelet } from '../support/fake-kubelet.js';
import { delay, eventually } from '../support/wait.js';
import {
  DEPLOYMENTS, SECRETS, assertStillReplicaSets, configHash, createNamespace, deployment, replicaSetCount, secret, setSecret,
  waitForObserved, waitForReplicaSets,
} from './reload-support.js';

const NS = 'recreate';
const FLAGS = ['--disable-sealing', '--disable-gitsync', '--namespaces', NS];
const HELD = 'Secret/db';

describe('a change pending when its config is deleted and re-created (issue 18)', () => {
  let cp: ControlPlane;
  let kubelet: FakeKubelet;
  let ctl: RunningController | undefined;

  before(async () => {
    cp = await startControlPlane({ controllerManager: true });
    kubelet = await startFakeKubelet(cp.client);
    await createNamespace(cp.client, NS);
    await cp.client.create(SECRETS, secret(NS, 'db', { v: 's-5' }));
    // A long debounce, so the controller can be stopped inside the window without a race.
    await cp.client.create(DEPLOYMENTS, deployment(NS, 'app', { 'keelson.dev/auto': 'true', 'keelson.dev/debounce': '8s' }, { volumesFrom: [{ kind: 'Secret', name: 'db' }] }));
  });
  after(async () => {
    await ctl?.stop();
    await kubelet?.stop();
    await cp?.stop();
  });

  const absentBaseline = () => eventually('a baseline with the Secret absent', async () => {
    const held = (await waitForObserved(cp.client, DEPLOYMENTS, NS, 'app'))[HELD];
    return held?.startsWith('-') ? held : undefined;
  });

  it('rolls once when it is re-created with the changed content, and not for an identical re-creation', async () => {
    ctl = await startController(cp, FLAGS);
    const first = (await waitForObserved(cp.client, DEPLOYMENTS, NS, 'app'))[HELD]!;
    assert.equal(await replicaSetCount(cp.client, NS, 'app'), 1);

    // The change, seen by the controller (its debounce window opens), which then goes away inside the window.
    await setSecret(cp.client, NS, 'db', { v: 's-6' });
    await delay(1500);
    await ctl.stop();
    ctl = undefined;
    assert.equal(await replicaSetCount(cp.client, NS, 'app'), 1, 'no roll before the controller stopped (debounce 8s)');

    // Deleted; the next controller sees it absent and records that without a roll, holding the pods' content.
    await cp.client.delete(SECRETS, NS, 'db');
    ctl = await startController(cp, FLAGS);
    assert.equal(await absentBaseline(), `-${first}`, 'the baseline keeps the digest the pods hold');

    // Re-created with the changed content: exactly one roll, to it.
    await cp.client.create(SECRETS, secret(NS, 'db', { v: 's-6' }));
    await waitForReplicaSets(cp.client, NS, 'app', 2, 60_000);
    const rolled = await configHash(cp.client, DEPLOYMENTS, NS, 'app');
    await eventually('the baseline holding the re-created content', async () => {
      const held = (await waitForObserved(cp.client, DEPLOYMENTS, NS, 'app'))[HELD];
      return held !== undefined && !held.startsWith('-') && held !== first;
    });
    await assertStillReplicaSets(cp.client, NS, 'app', 2);

    // Deleted and re-created with the same content: no roll.
    await cp.client.delete(SECRETS, NS, 'db');
    await absentBaseline();
    await cp.client.create(SECRETS, secret(NS, 'db', { v: 's-6' }));
    await eventually('the baseline back at the content', async () => !(await waitForObserved(cp.client, DEPLOYMENTS, NS, 'app'))[HELD]!.startsWith('-'));
    await assertStillReplicaSets(cp.client, NS, 'app', 2);
    assert.equal(await configHash(cp.client, DEPLOYMENTS, NS, 'app'), rolled);
  });
});
