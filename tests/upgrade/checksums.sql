-- One line per table that holds data (every tenant table, and Cot's
-- meta-tables but the ledger, which an upgrade appends to): row count and an
-- md5 of every row's text. An upgrade must leave each line as it was.
\pset format unaligned
\pset tuples_only on
SELECT format(
    $q$SELECT %L || ' ' || count(*) || ' ' || coalesce(md5(string_agg(t::text, E'\n' ORDER BY t::text)), '-') FROM %I.%I AS t$q$,
    n.nspname || '.' || c.relname, n.nspname, c.relname)
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND (n.nspname LIKE 'tenant\_%'
       OR (n.nspname = 'cot' AND c.relname IN ('tenants', 'entities', 'fields', 'relationships', 'api_keys', 'authenticators')))
ORDER BY 1
\gexec
