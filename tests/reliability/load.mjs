// Writers that keep inserting rows through a tenant's API view, as the
// tenant's user role with its claims (as PostgREST would), and remember every
// commit the server acknowledged. A crash cuts them off; they reconnect and go
// on. Afterwards every acknowledged row must be in the table, with its id.

import { session, sleep } from './server.mjs';

// Starts `n` writers on view `slug.entity` (fields writer, seq, note). Writer
// i commits one row per statement when i is even, five rows per explicit
// transaction when i is odd (acknowledged at COMMIT).
export function startWriters(db, slug, entity, n) {
  const state = { stop: false, acked: new Map(), attempts: 0, lost: 0, errors: {} };
  const claims = JSON.stringify({ role: `cot_${slug}_user`, tenant: slug });
  const one = async (writer) => {
    let seq = 0;
    while (!state.stop) {
      let c;
      try {
        c = await session(db);
        await c.query("SELECT set_config('request.jwt.claims', $1, false)", [claims]);
        await c.query(`SET ROLE cot_${slug}_user`);
        while (!state.stop) {
          const batch = writer % 2 === 0 ? 1 : 5;
          const rows = Array.from({ length: batch }, () => ++seq);
          state.attempts += batch;
          const sql = `INSERT INTO ${slug}.${entity} (writer, seq, note) VALUES ($1, $2, $3) RETURNING id`;
          if (batch === 1) {
            const r = await c.query(sql, [writer, rows[0], `w${writer} s${rows[0]}`]);
            state.acked.set(`${writer}/${rows[0]}`, r.rows[0].id);
          } else {
            await c.query('BEGIN');
            const ids = [];
            for (const s of rows) ids.push((await c.query(sql, [writer, s, `w${writer} s${s}`])).rows[0].id);
            await c.query('COMMIT');
            rows.forEach((s, k) => state.acked.set(`${writer}/${s}`, ids[k]));
          }
        }
      } catch (e) {
        // A crash (57P01, connection ended) or recovery in progress (57P03):
        // reconnect. Anything else is counted and reported.
        const code = e.code ?? 'connection lost';
        if (!['57P01', '57P02', '57P03', 'connection lost', 'ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'EPIPE'].includes(code)) {
          state.errors[code] = (state.errors[code] ?? 0) + 1;
        }
        state.lost++;
        await sleep(50);
      } finally {
        await c?.end().catch(() => {});
      }
    }
  };
  const done = Promise.all(Array.from({ length: n }, (_, i) => one(i)));
  return {
    state,
    async stop() {
      state.stop = true;
      await done;
    },
  };
}

// Every acknowledged row, looked up by (writer, seq): returns the ones
// missing or with another id.
export async function missingAcked(c, slug, entity, acked) {
  const { rows } = await c.query(`SELECT writer, seq, id FROM tenant_${slug}.${entity}`);
  const have = new Map(rows.map((r) => [`${r.writer}/${r.seq}`, r.id]));
  const missing = [];
  for (const [key, id] of acked) if (have.get(key) !== id) missing.push(`${key}: ${id} -> ${have.get(key)}`);
  return { missing, present: rows.length };
}
