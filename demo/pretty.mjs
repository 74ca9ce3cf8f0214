#!/usr/bin/env node
// Prints the JSON on stdin indented, for the demo's HTTP answers:
//
//   curl -s ... | node demo/pretty.mjs
//
// Unlike JSON.parse + JSON.stringify, it keeps numbers exactly as PostgREST
// sent them (a numeric(12,2) 1999.90 stays 1999.90, not 1999.9), and it puts
// an object or array on one line when that line is short. Input that is not
// JSON is printed as it is; empty input prints nothing.
import { readFileSync } from 'node:fs';

const WIDTH = 78;

// A JSON value as a tree whose leaves keep their source text:
// {t: 'leaf', text} | {t: 'array', items} | {t: 'object', entries: [[keyText, value]]}
function parse(src) {
  let i = 0;
  const ws = () => {
    while (i < src.length && ' \t\r\n'.includes(src[i])) i++;
  };
  const fail = () => {
    throw new SyntaxError(`unexpected input at ${i}`);
  };
  const string = () => {
    const start = i++;
    while (i < src.length && src[i] !== '"') i += src[i] === '\\' ? 2 : 1;
    if (i >= src.length) fail();
    i++;
    return src.slice(start, i);
  };
  const value = () => {
    ws();
    const c = src[i];
    if (c === '{') {
      i++;
      const entries = [];
      ws();
      if (src[i] === '}') return i++, { t: 'object', entries };
      for (;;) {
        ws();
        if (src[i] !== '"') fail();
        const key = string();
        ws();
        if (src[i++] !== ':') fail();
        entries.push([key, value()]);
        ws();
        if (src[i] === ',') i++;
        else if (src[i] === '}') return i++, { t: 'object', entries };
        else fail();
      }
    }
    if (c === '[') {
      i++;
      const items = [];
      ws();
      if (src[i] === ']') return i++, { t: 'array', items };
      for (;;) {
        items.push(value());
        ws();
        if (src[i] === ',') i++;
        else if (src[i] === ']') return i++, { t: 'array', items };
        else fail();
      }
    }
    if (c === '"') return { t: 'leaf', text: string() };
    const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(src.slice(i));
    if (!m) fail();
    i += m[0].length;
    return { t: 'leaf', text: m[0] };
  };
  const v = value();
  ws();
  if (i !== src.length) fail();
  return v;
}

function oneLine(v) {
  if (v.t === 'leaf') return v.text;
  if (v.t === 'array') return `[${v.items.map(oneLine).join(', ')}]`;
  return `{${v.entries.map(([k, x]) => `${k}: ${oneLine(x)}`).join(', ')}}`;
}

// `indent`: the indentation of the line the value is on; `column`: where on
// that line it starts.
function render(v, indent, column = indent.length) {
  const flat = oneLine(v);
  if (v.t === 'leaf' || column + flat.length <= WIDTH) return flat;
  const inner = `${indent}  `;
  if (v.t === 'array') return `[\n${v.items.map((x) => inner + render(x, inner)).join(',\n')}\n${indent}]`;
  const entries = v.entries.map(([k, x]) => `${inner}${k}: ${render(x, inner, inner.length + k.length + 2)}`);
  return `{\n${entries.join(',\n')}\n${indent}}`;
}

const text = readFileSync(0, 'utf8');
if (text.trim()) {
  let out;
  try {
    out = render(parse(text), '');
  } catch {
    out = text.trimEnd();
  }
  console.log(out);
}
