// Installs one of manifests/crd-*.yaml into a test control plane and waits until it is Established.

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { KubeClient } from '../../src/kube/client.js';
import { CRDS } from '../../src/kube/resources.js';
import type { KubeObject } from '../../src/kube/types.js';
import { eventually } from './wait.js';

export async function installCrd(client: KubeClient, file: string, name: string): Promise<void> {
  const crd = parse(readFileSync(new URL(`../../manifests/${file}`, import.meta.url), 'utf8')) as KubeObject;
  await client.apply(CRDS, crd, { fieldManager: 'keelson-test', force: true });
  await eventually(`the CRD ${name} to be Established`, async () => {
    const c = await client.get(CRDS, undefined, name);
    return ((c.status as { conditions?: { type: string; status: string }[] }).conditions ?? []).some((x) => x.type === 'Established' && x.status === 'True');
  });
}
