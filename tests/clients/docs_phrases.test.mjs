// Docs that are true: the user guide (docs/*.md) and the README describe
// what is built, in the present tense. Phrases that promise or excuse
// ("comes next", "not available yet", "for now", "will ...") go stale the
// day the feature lands and then tell a reader that something built is
// missing; this test fails naming each file:line that has one. State what is
// true today instead ("Only a superuser may create tenants.").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// Case-insensitive; `will` as a whole word.
export const PHRASES = [
  /not available yet/i,
  /comes next/i,
  /lands with/i,
  /arrives with/i,
  /for now/i,
  /not yet/i,
  /until then/i,
  /\bwill\b/i,
];

async function files() {
  const docs = (await readdir(join(ROOT, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => join('docs', f));
  return ['README.md', ...docs.sort()];
}

// Every `file:line: text` that has one of the phrases.
export function findPhrases(name, text, phrases = PHRASES) {
  const found = [];
  text.split('\n').forEach((line, i) => {
    for (const p of phrases) {
      if (p.test(line)) found.push(`${name}:${i + 1}: ${p.source}: ${line.trim()}`);
    }
  });
  return found;
}

test('the checker finds each phrase and names file:line', () => {
  const text = 'Fine.\nThe wiring comes next.\nIt will be done.\nNot available yet: x\nFor now, no.\nWillow trees are fine.';
  assert.deepEqual(
    findPhrases('x.md', text).map((f) => f.split(':').slice(0, 2).join(':')),
    ['x.md:2', 'x.md:3', 'x.md:4', 'x.md:5'],
  );
});

test('docs/*.md and README.md describe what is built, not what comes later', async () => {
  const names = await files();
  assert.ok(names.length > 5, `found the docs: ${names.join(', ')}`);
  const found = [];
  for (const name of names) found.push(...findPhrases(name, await readFile(join(ROOT, name), 'utf8')));
  assert.deepEqual(found, [], `phrases that describe a built feature as missing or later:\n${found.join('\n')}`);
});
