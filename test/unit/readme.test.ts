// The README is the user's reference: its flags table is generated from the code, and every metric and every
// command the code has is documented there.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { COMMANDS } from '../../src/cli/main.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { withFlagsTable } from '../../scripts/readme-tables.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('has the flags table the code generates (run: node --import tsx scripts/readme-tables.ts --write)', () => {
    assert.equal(readme, withFlagsTable(readme));
  });
  it('documents every keelson_* metric', async () => {
    const names = (await createMetrics({ processMetrics: false }).registry.getMetricsAsJSON()).map((m) => m.name);
    for (const n of names.filter((n) => n.startsWith('keelson_'))) assert.ok(readme.includes(`\`${n}\``), n);
  });
  it('mentions every command', () => {
    for (const c of Object.keys(COMMANDS)) assert.ok(readme.includes(`keelson ${c}`), c);
  });
  it('gives the two first commands', () => {
    assert.ok(readme.includes('npm ci && npm run demo') && readme.includes('npm ci && npm test'));
  });
});
