-- A normalized description of everything extension cot owns, one line per
-- fact, sorted: what `ALTER EXTENSION cot UPDATE` made must read exactly as a
-- fresh install of the same version reads. pg_dump cannot serve here: it
-- dumps `CREATE EXTENSION cot` and none of the extension's members.
\pset format unaligned
\pset tuples_only on
-- Privileges, less those granted to a tenant's roles or a registered
-- authenticator: each tenant's grants on Cot's functions are the tenant's
-- (cot.create_tenant and cot.upgrade_tenant make them), not the extension's,
-- and a fresh database has no tenant.
CREATE FUNCTION pg_temp.acl(a aclitem[]) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT string_agg(x::text, ',' ORDER BY x::text) FROM unnest(a) AS x
    WHERE split_part(x::text, '=', 1) !~ '^cot_[a-z][a-z0-9_]*_(anon|user|admin)$'
      AND split_part(x::text, '=', 1) NOT IN (SELECT role FROM cot.authenticators)
$$;
WITH ext AS (
    SELECT oid FROM pg_extension WHERE extname = 'cot'
), member AS (
    SELECT d.classid, d.objid
    FROM pg_depend AS d, ext
    WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
), facts(line) AS (
    -- every member, by its identity
    SELECT 'member ' || pg_describe_object(classid, objid, 0) FROM member
    UNION ALL
    -- functions and procedures: signature, result, language, body or symbol,
    -- volatility, security, settings, privileges
    SELECT concat_ws(' | ', 'function ' || p.oid::regprocedure::text,
                     p.prokind, pg_get_function_result(p.oid), l.lanname,
                     p.provolatile, p.prosecdef, p.proisstrict, p.proparallel,
                     p.proconfig::text, pg_temp.acl(p.proacl),
                     pg_get_function_arguments(p.oid),
                     CASE WHEN l.lanname = 'c' THEN p.prosrc ELSE md5(p.prosrc) END,
                     obj_description(p.oid, 'pg_proc'))
    FROM pg_proc AS p JOIN pg_language AS l ON l.oid = p.prolang
    WHERE p.oid IN (SELECT objid FROM member WHERE classid = 'pg_proc'::regclass)
    UNION ALL
    -- tables, views, sequences: kind, options, privileges, comment
    SELECT concat_ws(' | ', 'relation ' || c.oid::regclass::text, c.relkind,
                     c.relpersistence, c.relrowsecurity, c.relforcerowsecurity,
                     c.reloptions::text, pg_temp.acl(c.relacl), obj_description(c.oid, 'pg_class'))
    FROM pg_class AS c
    WHERE c.oid IN (SELECT objid FROM member WHERE classid = 'pg_class'::regclass)
    UNION ALL
    -- columns in order (dropped ones left out), with type, NOT NULL, default,
    -- compression, privileges and comment
    SELECT concat_ws(' | ', 'column ' || a.attrelid::regclass::text || '.' || a.attname,
                     row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum),
                     format_type(a.atttypid, a.atttypmod), a.attnotnull,
                     pg_get_expr(ad.adbin, ad.adrelid), a.attcompression, a.attidentity,
                     pg_temp.acl(a.attacl), col_description(a.attrelid, a.attnum))
    FROM pg_attribute AS a
    LEFT JOIN pg_attrdef AS ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped
      AND a.attrelid IN (SELECT objid FROM member WHERE classid = 'pg_class'::regclass)
    UNION ALL
    SELECT 'view ' || c.oid::regclass::text || ' | ' || pg_get_viewdef(c.oid)
    FROM pg_class AS c
    WHERE c.relkind = 'v' AND c.oid IN (SELECT objid FROM member WHERE classid = 'pg_class'::regclass)
    UNION ALL
    SELECT concat_ws(' | ', 'constraint ' || co.conrelid::regclass::text || '.' || co.conname,
                     pg_get_constraintdef(co.oid))
    FROM pg_constraint AS co
    WHERE co.conrelid IN (SELECT objid FROM member WHERE classid = 'pg_class'::regclass)
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid)
    FROM pg_index AS i
    WHERE i.indrelid IN (SELECT objid FROM member WHERE classid = 'pg_class'::regclass)
    UNION ALL
    SELECT concat_ws(' | ', 'trigger ' || t.tgrelid::regclass::text || '.' || t.tgname,
                     pg_get_triggerdef(t.oid), t.tgenabled)
    FROM pg_trigger AS t
    WHERE NOT t.tgisinternal
      AND t.tgrelid IN (SELECT objid FROM member WHERE classid = 'pg_class'::regclass)
    UNION ALL
    SELECT concat_ws(' | ', 'policy ' || po.polrelid::regclass::text || '.' || po.polname,
                     po.polcmd, po.polpermissive, po.polroles::regrole[]::text,
                     pg_get_expr(po.polqual, po.polrelid), pg_get_expr(po.polwithcheck, po.polrelid))
    FROM pg_policy AS po
    WHERE po.polrelid IN (SELECT objid FROM member WHERE classid = 'pg_class'::regclass)
    UNION ALL
    SELECT concat_ws(' | ', 'event trigger ' || e.evtname, e.evtevent,
                     e.evtfoid::regprocedure::text, e.evtenabled, e.evttags::text)
    FROM pg_event_trigger AS e
    WHERE e.oid IN (SELECT objid FROM member WHERE classid = 'pg_event_trigger'::regclass)
    UNION ALL
    SELECT concat_ws(' | ', 'type ' || t.oid::regtype::text, t.typtype,
                     obj_description(t.oid, 'pg_type'))
    FROM pg_type AS t
    WHERE t.oid IN (SELECT objid FROM member WHERE classid = 'pg_type'::regclass)
    UNION ALL
    SELECT concat_ws(' | ', 'schema ' || n.nspname, pg_temp.acl(n.nspacl), obj_description(n.oid, 'pg_namespace'))
    FROM pg_namespace AS n WHERE n.nspname = 'cot'
    UNION ALL
    -- what pg_dump keeps of the meta-tables' rows
    SELECT concat_ws(' | ', 'config dump ' || c::regclass::text, cond)
    FROM pg_extension AS x,
         unnest(x.extconfig, x.extcondition) AS u(c, cond)
    WHERE x.extname = 'cot'
    UNION ALL
    SELECT concat_ws(' | ', 'extension', x.extversion, x.extrelocatable, n.nspname)
    FROM pg_extension AS x JOIN pg_namespace AS n ON n.oid = x.extnamespace
    WHERE x.extname = 'cot'
)
SELECT line FROM facts ORDER BY line COLLATE "C";
