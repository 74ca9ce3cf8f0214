// The JavaScript (and CSS) a first visit loads, gzip-compressed as the front
// door serves it: what studio/dist/index.html references (entry script,
// modulepreloads, stylesheets). Screens loaded on demand (the diagram, import
// and export) are listed apart. Budget: 250 KB of initial JavaScript.
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const html = readFileSync(`${dist}index.html`, 'utf8');
const initial = [...html.matchAll(/(?:src|href)="\/?(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
const gz = (f) => gzipSync(readFileSync(`${dist}${f}`), { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

let js = 0;
let css = 0;
for (const f of initial) {
  const n = gz(f);
  if (f.endsWith('.js')) js += n;
  else css += n;
  console.log(`initial  ${f.padEnd(42)} ${kb(n).padStart(9)} gzip`);
}
for (const f of readdirSync(`${dist}assets`).map((f) => `assets/${f}`).filter((f) => !initial.includes(f))) {
  console.log(`on demand ${f.padEnd(41)} ${kb(gz(f)).padStart(9)} gzip`);
}
console.log(`initial JavaScript: ${kb(js)} gzip (budget 250 KB); initial CSS: ${kb(css)} gzip`);
if (js > 250 * 1024) process.exit(1);
