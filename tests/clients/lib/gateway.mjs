// Cot's front door (Debian's nginx, gateway/nginx.conf.template) for the
// tests, started and stopped by scripts/lib/gateway.sh exactly as the demo
// starts it. Also: the name resolution browsers and curl have for
// *.localhost, which Node 20's own fetch lacks (ENOTFOUND), as an undici 7
// Agent, a fetch for supabase-js and a `lookup` for ws.

import { execFile } from 'node:child_process';
import { lookup as dnsLookup } from 'node:dns';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Agent, fetch as undiciFetch } from 'undici';
import { freePort } from './postgrest.mjs';

const run = promisify(execFile);
const library = path.resolve(import.meta.dirname, '../../../scripts/lib/gateway.sh');

// *.localhost (and localhost) is 127.0.0.1, as RFC 6761 lets resolvers say;
// any other name goes to the system resolver. Node calls it either way:
// (host, options, cb(err, address, family)) or, with options.all, cb(err, [{address, family}]).
export function lookup(hostname, options, callback) {
  const cb = typeof options === 'function' ? options : callback;
  const opts = typeof options === 'function' ? {} : options ?? {};
  if (hostname === 'localhost' || /\.localhost$/i.test(hostname)) {
    if (opts.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
    else cb(null, '127.0.0.1', 4);
    return;
  }
  dnsLookup(hostname, opts, cb);
}

export const agent = new Agent({ connect: { lookup } });

// fetch through that agent: pass it as supabase-js's `global.fetch`.
export const localFetch = (url, init = {}) => undiciFetch(url, { ...init, dispatcher: agent });

async function sh(script, args, env = {}) {
  return run('bash', ['-c', `set -euo pipefail; source ${library}; ${script}`, 'gateway', ...args], {
    env: { ...process.env, ...env },
    maxBuffer: 16 * 1024 * 1024,
  });
}

// Starts nginx in front of PostgREST (`postgrestPort`; or `postgrest`, the
// POSTGREST argument of gateway_start as it is: `default=3000,b=unix:/x.sock`),
// serving `studioDist` at / (a directory; without index.html the stand-in
// page) and, when `realtimePort` is given, /realtime/v1/. With `routesDb` (a
// conninfo) the tenants' routes come from that database's cot.api_routes().
// Resolves once it answers.
//
// Returns { port, dir, pid, url(slug), errorLog(), routes(), stop() };
// routes() rewrites the routes from `routesDb` and has nginx reload them.
// stop() is safe to call twice; nginx is also killed if the test process
// exits without calling it.
export async function startGateway({
  postgrestPort,
  postgrest = String(postgrestPort),
  studioDist = '/nonexistent',
  realtimePort,
  baseDomain = 'localhost',
  routesDb,
}) {
  let lastError;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const dir = mkdtempSync('/tmp/cot-gw.');
    rmSync(dir, { recursive: true }); // gateway_start makes it, marked as its own
    const port = await freePort();
    const args = [dir, String(port), postgrest, studioDist];
    if (realtimePort) args.push(String(realtimePort));
    try {
      await sh('gateway_start "$@"', args, {
        COT_BASE_DOMAIN: baseDomain,
        ...(routesDb ? { COT_GATEWAY_ROUTES_DB: routesDb } : {}),
      });
    } catch (err) {
      lastError = err;
      await sh('gateway_stop "$1"', [dir]).catch(() => {});
      if (/address already in use/i.test(String(err.stderr))) continue;
      throw new Error(`gateway_start failed:\n${err.stderr}`);
    }
    const pid = Number(readFileSync(`${dir}/gateway.pid`, 'utf8'));
    const kill = () => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    process.on('exit', kill);
    let stopped = false;
    const read = (name) => {
      try {
        return readFileSync(`${dir}/${name}`, 'utf8');
      } catch {
        return '';
      }
    };
    return {
      port,
      dir,
      pid,
      url: (slug) => `http://${slug ? `${slug}.` : ''}${baseDomain}:${port}`,
      errorLog: () => read('error.log'),
      routes: () => sh('gateway_routes "$1" "$2"', [dir, routesDb ?? '']),
      async stop() {
        if (stopped) return;
        stopped = true;
        process.off('exit', kill);
        await sh('gateway_stop "$1"', [dir]);
      },
    };
  }
  throw new Error(`gateway_start failed three times:\n${lastError?.stderr}`);
}
