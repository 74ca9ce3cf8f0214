// Webhook receivers for tests: real HTTP or HTTPS servers on loopback that
// verify each request's Standard Webhooks signature with the published
// `standardwebhooks` package and remember what they got. What a receiver
// answers is decided per request by `answer(hit)`: a status (and headers),
// or `hang` (never answer).

import http from 'node:http';
import https from 'node:https';
import { Webhook } from 'standardwebhooks';

export async function receiver({ secret = null, tls = null, answer = () => ({ status: 204 }) } = {}) {
  const hits = [];
  const hanging = new Set();
  const waiters = [];
  const state = { secret };
  const handler = (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const hit = { at: Date.now(), headers: req.headers, body, json: null, verified: false, error: null };
      try {
        hit.json = JSON.parse(body);
      } catch (e) {
        hit.error = `body is not JSON: ${e.message}`;
      }
      if (state.secret) {
        try {
          new Webhook(state.secret).verify(body, req.headers);
          hit.verified = true;
        } catch (e) {
          hit.error = `signature: ${e.message}`;
        }
      }
      hits.push(hit);
      const a = answer(hit, hits);
      for (const w of waiters.splice(0)) w();
      if (a.hang) {
        hanging.add(res);
        return;
      }
      res.writeHead(a.status, a.headers ?? {});
      res.end(a.body ?? '');
    });
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}/hook`,
    port,
    hits,
    setSecret: (s) => {
      state.secret = s;
    },
    // Resolves when `pred(hits)` holds, or rejects after `ms`.
    until: (pred, ms = 20_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver: condition not met in ${ms} ms; ${hits.length} hits`)), ms);
        const check = () => {
          if (pred(hits)) {
            clearTimeout(timer);
            resolve(hits);
          } else {
            waiters.push(check);
          }
        };
        check();
      }),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
