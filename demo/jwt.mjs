#!/usr/bin/env node
// Mints an HS256 JWT for the demo's PostgREST, with nothing but node:crypto.
//
//   COT_JWT_SECRET=... node demo/jwt.mjs '{"role":"cot_acme_user","tenant":"acme","sub":"user-1"}' [SECONDS]
//
// The claims are the JSON argument; `iat` is now and `exp` is SECONDS from now
// (default 3600; a negative number gives a token that has already expired).
// The secret comes from the environment, so it does not show in `ps`. The
// token is printed on stdout.
import { createHmac } from 'node:crypto';

const [claimsArg, secondsArg = '3600'] = process.argv.slice(2);
const secret = process.env.COT_JWT_SECRET ?? '';
const seconds = Number(secondsArg);
if (!claimsArg || !Number.isInteger(seconds)) {
  console.error("usage: COT_JWT_SECRET=... node demo/jwt.mjs '{\"role\":...,\"tenant\":...,\"sub\":...}' [SECONDS]");
  process.exit(2);
}
if (secret.length < 32) {
  console.error('COT_JWT_SECRET must hold the JWT secret (32 characters or more, as PostgREST requires)');
  process.exit(2);
}

let claims;
try {
  claims = JSON.parse(claimsArg);
} catch (err) {
  console.error(`the claims are not JSON: ${err.message}`);
  process.exit(2);
}
const now = Math.floor(Date.now() / 1000);
claims = { ...claims, iat: now, exp: now + seconds };

const b64url = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const signingInput = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
const signature = createHmac('sha256', secret).update(signingInput).digest('base64url');
console.log(`${signingInput}.${signature}`);
