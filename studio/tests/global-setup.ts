// Starts the real stack once for every browser test (tests/stack.mjs) and
// stops it afterwards. Workers read its description from COT_STUDIO_STACK.
import { startStack } from './stack.mjs';

export default async function globalSetup() {
  const stack = await startStack();
  const { stop, ...info } = stack;
  process.env.COT_STUDIO_STACK = JSON.stringify(info);
  console.log(`[studio tests] ${info.front} on port ${info.port}, PostgREST ${info.postgrest}, database ${info.db}`);
  return async () => {
    await stop();
  };
}
