-- One line per table that holds data (every tenant table, and Cot's
-- meta-tables but the ledger, which an upgrade appends to): row count and an
-- md5 of every row's text. An upgrade must leave each line as it was.
--
-- Over the columns each table had at the first run (kept in
-- public.upgrade_check_columns): an upgrade may add a column (with its
-- default), and must leave the values of the ones that were there.
\pset format unaligned
\pset tuples_only on
\set QUIET on
CREATE TABLE IF NOT EXISTS public.upgrade_check_columns AS
SELECT n.nspname, c.relname, array_agg(quote_ident(a.attname) ORDER BY a.attnum) AS cols
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind = 'r'
  AND (n.nspname LIKE 'tenant\_%'
       OR (n.nspname = 'cot' AND c.relname IN ('tenants', 'entities', 'fields', 'relationships', 'api_keys', 'authenticators')))
GROUP BY 1, 2;
\set QUIET off
SELECT format(
    $q$SELECT %L || ' ' || count(*) || ' ' || coalesce(md5(string_agg(x, E'\n' ORDER BY x)), '-') FROM (SELECT ROW(%s)::text AS x FROM %I.%I) AS t$q$,
    k.nspname || '.' || k.relname, array_to_string(k.cols, ', '), k.nspname, k.relname)
FROM public.upgrade_check_columns AS k
ORDER BY 1
\gexec
