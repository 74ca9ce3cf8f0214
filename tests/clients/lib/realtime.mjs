// The real cot-realtime binary (target/release/cot-realtime, built by
// `cargo build --release -p cot-realtime`; COT_REALTIME_BIN overrides) in
// front of a test database, on loopback, and @supabase/realtime-js clients
// for it (Node 20 needs `ws` as the transport).

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort, WATCHDOG } from './postgrest.mjs';
import { fileURLToPath } from 'node:url';
import { RealtimeClient } from '@supabase/realtime-js';
import WebSocket from 'ws';

export const REALTIME_BIN =
  process.env.COT_REALTIME_BIN ?? fileURLToPath(new URL('../../../target/release/cot-realtime', import.meta.url));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function dbUri(dbName, loginRole = 'authenticator') {
  const pghost = process.env.PGHOST ?? '';
  const host = pghost && !pghost.startsWith('/') ? pghost : '127.0.0.1';
  const port = Number(process.env.PGPORT ?? 5432);
  return `postgres://${encodeURIComponent(loginRole)}@${host}:${port}/${encodeURIComponent(dbName)}`;
}

// Starts cot-realtime for `dbName` with `secret`; `env` adds COT_REALTIME_*
// settings. Resolves once /health answers 200 (the reader is connected).
// Returns { url, port, output(), metrics(), stop(signal) } .
export async function startRealtime(dbName, { secret, loginRole = 'authenticator', env = {}, readyTimeoutMs = 20_000 } = {}) {
  if (!existsSync(REALTIME_BIN)) {
    throw new Error(`${REALTIME_BIN} is missing: cargo build --release -p cot-realtime`);
  }
  const port = await freePort();
  const lines = [];
  const child = spawn('/bin/sh', ['-c', WATCHDOG, REALTIME_BIN], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      COT_REALTIME_DB_URI: dbUri(dbName, loginRole),
      COT_REALTIME_JWT_SECRET: secret,
      COT_REALTIME_PORT: String(port),
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const keep = (chunk) => {
    for (const line of chunk.toString().split('\n')) if (line) lines.push(line);
    if (lines.length > 500) lines.splice(0, lines.length - 500);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      child.stdin.end();
      throw new Error(`cot-realtime did not get ready; its output:\n${lines.join('\n')}`);
    }
    await sleep(100);
  }
  return {
    port,
    url: `ws://127.0.0.1:${port}/realtime/v1`,
    base,
    output: () => lines.join('\n'),
    async metrics() {
      const text = await (await fetch(`${base}/metrics`)).text();
      return Object.fromEntries(
        text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
          const [k, v] = l.split(' ');
          return [k.replace(/^cot_realtime_/, ''), Number(v)];
        }),
      );
    },
    exited,
    // Closing stdin makes the watchdog send SIGTERM (graceful shutdown).
    async stop() {
      child.stdin.end();
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

// A realtime-js client of the server; `apikey` is a JWT or a Cot API key.
export function client(server, apikey, options = {}) {
  return new RealtimeClient(server.url, {
    params: { apikey },
    transport: WebSocket,
    heartbeatIntervalMs: 5_000,
    reconnectAfterMs: () => 200,
    ...options,
  });
}

// Closes a client for good: its channels' timers (a channel whose socket
// went away keeps a rejoin timer, which keeps the test process alive after
// its last test), then the socket.
export async function closeClient(c) {
  for (const channel of c.getChannels()) channel.teardown();
  await c.disconnect();
}

// Subscribes a channel with `bindings` (postgres_changes filters); resolves
// with { channel, events, system, status } once SUBSCRIBED, or rejects with
// the server's reason. `events` collects the payloads the callback got.
export function subscribe(rt, name, bindings, { after, timeoutMs = 10_000 } = {}) {
  const options = after === undefined ? {} : { config: { postgres_changes_options: { after } } };
  const channel = rt.channel(name, options);
  const events = [];
  const system = [];
  const statuses = [];
  for (const b of bindings) channel.on('postgres_changes', b, (p) => events.push(p));
  channel.on('system', {}, (p) => system.push(p));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to the join of ${name}`)), timeoutMs);
    channel.subscribe((status, err) => {
      statuses.push(status);
      if (status === 'SUBSCRIBED') {
        clearTimeout(timer);
        resolve({ channel, events, system, statuses, position: () => lastPosition(system) });
      } else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') {
        clearTimeout(timer);
        reject(Object.assign(new Error(err?.message ?? status), { status, statuses }));
      }
    });
  });
}

function lastPosition(system) {
  const p = system.filter((m) => m.position !== undefined).map((m) => Number(m.position));
  return p.length ? Math.max(...p) : undefined;
}

// Waits until `check()` is true (polling), or fails with `what`.
export async function until(check, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
