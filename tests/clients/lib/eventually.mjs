// Polls `check` until it returns true, for what happens a moment after a
// commit (PostgREST reloading on a NOTIFY, a worker picking a change up).
import assert from 'node:assert/strict';

export async function eventually(what, check, ms = 15_000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last === true) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what}: not within ${ms} ms (last: ${JSON.stringify(last)})`);
}
