// Keelson's template renderer against reference outputs of Go's text/template + sprig (the bitnami controller's
// renderer), generated once by scripts/template-vectors/main.go into test/fixtures/template-vectors.json. A case Go
// refuses must be refused; a case marked keelsonRefuses (a missing key printed as "<no value>", b64dec of bad input)
// is refused on purpose; every other case renders byte for byte as Go does.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TemplateError, renderTemplate } from '../../../src/sealing/template.js';

interface Case { template: string; output?: string; goError?: boolean; keelsonRefuses?: boolean }
const file = JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/template-vectors.json'), 'utf8')) as { values: Record<string, string>; cases: Case[] };
const values = new Map(Object.entries(file.values).map(([k, v]) => [k, Buffer.from(v, 'base64')]));

describe('templates against Go text/template + sprig', () => {
  it('has the reference cases', () => assert.ok(file.cases.length >= 80));
  for (const c of file.cases) {
    it(`${c.goError ? 'refuses' : c.keelsonRefuses ? 'refuses on purpose' : 'renders'} ${JSON.stringify(c.template)}`, () => {
      if (c.goError || c.keelsonRefuses) {
        assert.throws(() => renderTemplate('k', c.template, values), TemplateError);
        return;
      }
      const out = renderTemplate('k', c.template, values);
      assert.equal(out.toString('base64'), c.output ?? '', `Go: ${JSON.stringify(Buffer.from(c.output ?? '', 'base64').toString('latin1'))}, Keelson: ${JSON.stringify(out.toString('latin1'))}`);
    });
  }
});
