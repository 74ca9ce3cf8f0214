// One page of records at a time, with keyset cursors: cot.query's
// `next_cursor` continues after the last record, so page 10,000 of a big
// table costs what page 1 costs. "Previous" goes back through the cursors
// already seen. The total is counted in a second request, so that the page
// never waits for a count over a million rows.
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { Api } from '../api/client';
import type { Order, QueryDoc, RecordRow } from '../api/records';

export interface PageState {
  rows: RecordRow[] | null;
  /** The page's number, from 1. */
  number: number;
  hasNext: boolean;
  hasPrev: boolean;
  loading: boolean;
  error: unknown;
  /** How many records match the filters, once counted. */
  count: number | null;
  next: () => void;
  prev: () => void;
  reload: () => void;
}

export function usePage(
  api: Api,
  entity: string,
  select: QueryDoc['select'],
  where: Record<string, unknown> | undefined,
  order: Order[],
  limit: number,
): PageState {
  const key = JSON.stringify({ entity, where, order, limit });
  const selectKey = JSON.stringify(select);
  // cursors[i] is the cursor of page i + 1 (undefined for the first page),
  // for the filters and order of `of`: a new filter or order starts at page 1.
  const [trail, setTrail] = useState<{ of: string; cursors: (string | undefined)[] }>({ of: key, cursors: [undefined] });
  const cursors = trail.of === key ? trail.cursors : [undefined];
  const setCursors = useCallback(
    (f: (c: (string | undefined)[]) => (string | undefined)[]) =>
      setTrail((t) => ({ of: key, cursors: f(t.of === key ? t.cursors : [undefined]) })),
    [key],
  );
  const [tick, setTick] = useState(0);
  const cursor = cursors[cursors.length - 1];
  // The page shown is the answer to `request`; until it arrives, it is loading.
  const request = JSON.stringify([key, selectKey, cursor ?? null, tick]);
  const [result, setResult] = useState<{ for: string; rows: RecordRow[]; next: string | null; error: unknown } | null>(null);
  const [count, setCount] = useState<number | null>(null);
  useEffect(() => {
    let live = true;
    const doc: QueryDoc = { select, order, limit };
    if (where) doc.where = where;
    if (cursor) doc.cursor = cursor;
    api.query(entity, doc).then(
      (page) => live && setResult({ for: request, rows: page.data, next: page.next_cursor, error: null }),
      (e: unknown) => live && setResult((r) => ({ for: request, rows: r?.rows ?? [], next: null, error: e })),
    );
    return () => {
      live = false;
    };
    // select, where, order and cursor are in request.
  }, [api, request]);

  useEffect(() => {
    let live = true;
    setCount(null);
    const doc: QueryDoc = { select: ['id'], limit: 0, count: true };
    if (where) doc.where = where;
    api.query(entity, doc).then(
      (page) => live && setCount(page.count),
      () => live && setCount(null),
    );
    return () => {
      live = false;
    };
  }, [api, key, tick]);

  const loading = result?.for !== request;
  const nextCursor = loading ? null : (result?.next ?? null);
  const next = useCallback(() => {
    if (nextCursor) setCursors((c) => [...c, nextCursor]);
  }, [nextCursor, setCursors]);
  const prev = useCallback(() => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)), [setCursors]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return useMemo(
    () => ({
      rows: result?.rows ?? null,
      number: cursors.length,
      hasNext: nextCursor !== null,
      hasPrev: cursors.length > 1,
      loading,
      error: result?.error ?? null,
      count,
      next,
      prev,
      reload,
    }),
    [result, cursors.length, nextCursor, loading, count, next, prev, reload],
  );
}
