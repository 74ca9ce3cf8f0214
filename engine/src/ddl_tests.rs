//! Golden DDL: the exact SQL a definition turns into.

use crate::ddl::render_all;
use crate::names::{check_name, Keywords, NameKind, TenantNames};
use crate::plan;
use crate::validate::{tests::TestEnv, validate};
use serde_json::json;

fn entity_sql(def: serde_json::Value) -> Vec<String> {
    let v = validate(&def, &TestEnv::new()).expect("valid");
    render_all(&plan::create_entity(&v.entity, &plan::Labels::of(&v.normalized)))
}

/// The steps of an entity's relations (foreign keys, computed relationships).
fn relation_steps(def: serde_json::Value) -> Vec<plan::Step> {
    let v = validate(&def, &TestEnv::new()).expect("valid");
    crate::relations::steps(&v.entity, &plan::Labels::of(&v.normalized))
}

#[test]
fn golden_entity() {
    let sql = entity_sql(json!({
        "tenant": "acme", "name": "orders", "description": "Customer's orders",
        "fields": [
            {"id": "01900000-0000-7000-8000-000000000001", "name": "title", "type": "text", "required": true, "min_length": 1, "max_length": 200, "pattern": "^[^\\\\]+$"},
            {"id": "01900000-0000-7000-8000-000000000002", "name": "status", "type": "enum", "values": ["draft", "it's paid"], "default": "draft", "index": true},
            {"id": "01900000-0000-7000-8000-000000000003", "name": "total", "type": "decimal", "precision": 12, "scale": 2, "min": 0, "max": "9999999999.99"},
            {"id": "01900000-0000-7000-8000-000000000004", "name": "email", "type": "email", "unique": true},
            {"id": "01900000-0000-7000-8000-000000000005", "name": "tags", "type": "array", "items": "text", "default": ["a"], "index": true},
            {"id": "01900000-0000-7000-8000-000000000006", "name": "due", "type": "date", "default": "today", "min": "2000-01-01"},
            {"id": "01900000-0000-7000-8000-000000000007", "name": "at", "type": "timestamp", "default": "now"},
        ],
        "indexes": [{"fields": ["status", "created_at"]}, {"fields": ["title", "due"], "unique": true}]
    }));
    let expected = [
        r#"CREATE TABLE "tenant_acme"."orders" (
  "id" uuid NOT NULL DEFAULT cot.uuid_generate_v7(),
  "title" text NOT NULL,
  "status" text DEFAULT 'draft'::text,
  "total" numeric(12,2),
  "email" text,
  "tags" text[] DEFAULT ARRAY['a'::text]::text[],
  "due" date DEFAULT CURRENT_DATE,
  "at" timestamptz DEFAULT now(),
  "created_at" timestamptz NOT NULL DEFAULT now(),
  "updated_at" timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT "orders_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "orders_title_min_length" CHECK (CASE WHEN (char_length("title") >= 1) IS NOT FALSE THEN true ELSE cot.rule_broken(tableoid, '01900000-0000-7000-8000-000000000001'::uuid, 'at least 1 character long') END),
  CONSTRAINT "orders_title_max_length" CHECK (CASE WHEN (char_length("title") <= 200) IS NOT FALSE THEN true ELSE cot.rule_broken(tableoid, '01900000-0000-7000-8000-000000000001'::uuid, 'at most 200 characters long') END),
  CONSTRAINT "orders_title_pattern" CHECK (CASE WHEN ("title" ~ E'^[^\\\\]+$') IS NOT FALSE THEN true ELSE cot.rule_broken(tableoid, '01900000-0000-7000-8000-000000000001'::uuid, E'text matching the pattern "^[^\\\\]+$"') END),
  CONSTRAINT "orders_status_values" CHECK (CASE WHEN ("status" = ANY (ARRAY['draft', 'it''s paid']::text[])) IS NOT FALSE THEN true ELSE cot.rule_broken(tableoid, '01900000-0000-7000-8000-000000000002'::uuid, 'one of "draft", "it''s paid"') END),
  CONSTRAINT "orders_total_min" CHECK (CASE WHEN ("total" >= '0'::numeric) IS NOT FALSE THEN true ELSE cot.rule_broken(tableoid, '01900000-0000-7000-8000-000000000003'::uuid, 'at least 0') END),
  CONSTRAINT "orders_total_max" CHECK (CASE WHEN ("total" <= '9999999999.99'::numeric) IS NOT FALSE THEN true ELSE cot.rule_broken(tableoid, '01900000-0000-7000-8000-000000000003'::uuid, 'at most 9999999999.99') END),
  CONSTRAINT "orders_email_max_length" CHECK (CASE WHEN (char_length("email") <= 254) IS NOT FALSE THEN true ELSE cot.rule_broken(tableoid, '01900000-0000-7000-8000-000000000004'::uuid, 'at most 254 characters long') END),
  CONSTRAINT "orders_email_format" CHECK (CASE WHEN ("email" ~ E'^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$') IS NOT FALSE THEN true ELSE cot.rule_broken(tableoid, '01900000-0000-7000-8000-000000000004'::uuid, 'a valid email address') END),
  CONSTRAINT "orders_email_key" UNIQUE ("email"),
  CONSTRAINT "orders_tags_items" CHECK (CASE WHEN (CASE WHEN array_ndims("tags") IS NULL THEN true WHEN array_ndims("tags") <> 1 THEN false ELSE array_position("tags", NULL) IS NULL END) IS NOT FALSE THEN true ELSE cot.rule_broken(tableoid, '01900000-0000-7000-8000-000000000005'::uuid, 'a list of one dimension without null items') END),
  CONSTRAINT "orders_due_min" CHECK (CASE WHEN ("due" >= '2000-01-01'::date) IS NOT FALSE THEN true ELSE cot.rule_broken(tableoid, '01900000-0000-7000-8000-000000000006'::uuid, 'at least 2000-01-01') END),
  CONSTRAINT "orders_title_due_key" UNIQUE ("title", "due")
)"#,
        r#"CREATE INDEX "orders_status_idx" ON "tenant_acme"."orders" ("status")"#,
        r#"CREATE INDEX "orders_tags_idx" ON "tenant_acme"."orders" USING gin ("tags")"#,
        r#"CREATE INDEX "orders_status_created_at_idx" ON "tenant_acme"."orders" ("status", "created_at")"#,
        r#"CREATE TRIGGER "cot_system_columns" BEFORE INSERT OR UPDATE ON "tenant_acme"."orders" FOR EACH ROW EXECUTE FUNCTION cot.system_columns()"#,
        r#"ALTER TABLE "tenant_acme"."orders" OWNER TO "cot_owner""#,
        r#"COMMENT ON TABLE "tenant_acme"."orders" IS 'Customer''s orders'"#,
    ];
    assert_eq!(sql[..expected.len()], expected[..], "{}", sql.join(";\n"));
    let view_at = sql.iter().position(|s| s.starts_with("CREATE VIEW")).unwrap();
    assert_eq!(
        sql[view_at],
        r#"CREATE VIEW "acme"."orders" WITH (security_invoker = true) AS SELECT "id", "title", "status", "total", "email", "tags", "due", "at", "created_at", "updated_at" FROM "tenant_acme"."orders""#
    );
    // The view's columns carry the table's defaults, so DEFAULT through the
    // view is the table's default, not NULL.
    assert_eq!(
        sql[view_at + 1..view_at + 9],
        [
            r#"ALTER VIEW "acme"."orders" ALTER COLUMN "id" SET DEFAULT cot.uuid_generate_v7()"#,
            r#"ALTER VIEW "acme"."orders" ALTER COLUMN "status" SET DEFAULT 'draft'::text"#,
            r#"ALTER VIEW "acme"."orders" ALTER COLUMN "tags" SET DEFAULT ARRAY['a'::text]::text[]"#,
            r#"ALTER VIEW "acme"."orders" ALTER COLUMN "due" SET DEFAULT CURRENT_DATE"#,
            r#"ALTER VIEW "acme"."orders" ALTER COLUMN "at" SET DEFAULT now()"#,
            r#"ALTER VIEW "acme"."orders" ALTER COLUMN "created_at" SET DEFAULT now()"#,
            r#"ALTER VIEW "acme"."orders" ALTER COLUMN "updated_at" SET DEFAULT now()"#,
            r#"ALTER VIEW "acme"."orders" OWNER TO "cot_owner""#,
        ]
    );
    assert!(sql.contains(&r#"COMMENT ON COLUMN "acme"."orders"."title" IS 'Title'"#.to_string()));
    // Table column comments, the view, its defaults, its comments, then row
    // security: enable + one policy per command + a grant per command on
    // table and view.
    assert_eq!(sql.len(), expected.len() + 7 + 2 + 7 + 1 + 7 + 1 + 4 + 8);
}

#[test]
fn long_names_get_hashed_constraint_names() {
    let long_entity = "e".repeat(60);
    let sql = entity_sql(json!({"tenant": "acme", "name": long_entity, "fields": [
        {"name": "f".repeat(63), "type": "text", "max_length": 5, "unique": true},
        {"name": "g".repeat(63), "type": "text", "max_length": 5}
    ]}));
    let table = &sql[0];
    let names: Vec<&str> = table
        .lines()
        .filter_map(|l| l.trim().strip_prefix("CONSTRAINT \""))
        .map(|l| &l[..l.find('"').unwrap()])
        .collect();
    assert_eq!(names.len(), 4);
    for n in &names {
        assert!(n.len() <= 63, "{n}");
    }
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len());
}

#[test]
fn colliding_derived_names_are_made_distinct() {
    let sql = entity_sql(json!({"tenant": "acme", "name": "t", "fields": [
        {"name": "a_b", "type": "text", "index": true},
        {"name": "a", "type": "text"},
        {"name": "b", "type": "text"}
    ], "indexes": [{"fields": ["a", "b"]}]}));
    assert!(sql.contains(&r#"CREATE INDEX "t_a_b_idx" ON "tenant_acme"."t" ("a_b")"#.to_string()));
    assert!(sql.contains(&r#"CREATE INDEX "t_a_b_idx_2" ON "tenant_acme"."t" ("a", "b")"#.to_string()));
}

#[test]
fn golden_tenant() {
    let slug = check_name(NameKind::Tenant, "acme", "", &Keywords::default()).unwrap();
    let t = TenantNames::new(&slug);
    let sql = render_all(&plan::create_tenant(&t, "Acme", true, &[]));
    // Four statements per wrapper; query, history, transition and
    // transitions have two more grants, openapi and typescript one more each.
    let rpc_lines = 4 * crate::rpc::ALL.len() + 10;
    let (head, rest) = sql.split_at(9);
    let (rpc, tail) = rest.split_at(rpc_lines);
    assert_eq!(
        head,
        vec![
            r#"CREATE ROLE "cot_owner" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS"#,
            r#"CREATE ROLE "cot_acme_anon" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"#,
            r#"CREATE ROLE "cot_acme_user" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"#,
            r#"CREATE ROLE "cot_acme_admin" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"#,
            r#"CREATE SCHEMA "tenant_acme" AUTHORIZATION "cot_owner""#,
            r#"CREATE SCHEMA "acme" AUTHORIZATION "cot_owner""#,
            r#"GRANT USAGE ON SCHEMA "acme" TO "cot_acme_anon", "cot_acme_user", "cot_acme_admin""#,
            &format!(
                r#"GRANT EXECUTE ON FUNCTION {} TO "cot_acme_admin""#,
                crate::rpc::COT_FUNCTIONS.join(", ")
            ),
            r#"GRANT EXECUTE ON FUNCTION cot.record_schema(text, text), cot.openapi(text, jsonb), cot.typescript(text) TO "cot_acme_admin", "cot_acme_user""#,
        ]
    );
    assert_eq!(
        &rpc[..4],
        [
            r#"CREATE FUNCTION "acme"."validate_entity"(definition jsonb) RETURNS jsonb LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS 'SELECT cot.validate_entity(cot.with_tenant(cot.json_arg(definition), ''acme''))'"#,
            r#"ALTER FUNCTION "acme"."validate_entity"(jsonb) OWNER TO "cot_owner""#,
            r#"REVOKE ALL ON FUNCTION "acme"."validate_entity"(jsonb) FROM PUBLIC"#,
            r#"GRANT EXECUTE ON FUNCTION "acme"."validate_entity"(jsonb) TO "cot_acme_admin""#,
        ]
    );
    // Every definition wrapper is executable by the admin role alone.
    let (definitions, rest) = rpc.split_at(rpc_lines - 34);
    let (query, rest) = rest.split_at(6);
    let (history, rest) = rest.split_at(6);
    let (workflow, docs) = rest.split_at(12);
    for chunk in definitions.chunks(4) {
        assert!(chunk[0].starts_with(r#"CREATE FUNCTION "acme"."#), "{}", chunk[0]);
        assert!(chunk[2].ends_with("FROM PUBLIC"), "{}", chunk[2]);
        assert!(chunk[3].ends_with(r#"TO "cot_acme_admin""#), "{}", chunk[3]);
    }
    // query, by all three roles of the tenant.
    assert_eq!(
        query,
        [
            r#"CREATE FUNCTION "acme"."query"(entity text, query jsonb DEFAULT '{}') RETURNS jsonb LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS 'SELECT cot.query(''acme'', entity, cot.json_arg(query))'"#,
            r#"ALTER FUNCTION "acme"."query"(text, jsonb) OWNER TO "cot_owner""#,
            r#"REVOKE ALL ON FUNCTION "acme"."query"(text, jsonb) FROM PUBLIC"#,
            r#"GRANT EXECUTE ON FUNCTION "acme"."query"(text, jsonb) TO "cot_acme_anon""#,
            r#"GRANT EXECUTE ON FUNCTION "acme"."query"(text, jsonb) TO "cot_acme_user""#,
            r#"GRANT EXECUTE ON FUNCTION "acme"."query"(text, jsonb) TO "cot_acme_admin""#,
        ]
    );
    // The API's documentation, by its user and admin roles.
    assert_eq!(
        docs,
        [
            r#"CREATE FUNCTION "acme"."openapi"(options jsonb DEFAULT '{}') RETURNS jsonb LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS 'SELECT cot.openapi(''acme'', cot.json_arg(options))'"#,
            r#"ALTER FUNCTION "acme"."openapi"(jsonb) OWNER TO "cot_owner""#,
            r#"REVOKE ALL ON FUNCTION "acme"."openapi"(jsonb) FROM PUBLIC"#,
            r#"GRANT EXECUTE ON FUNCTION "acme"."openapi"(jsonb) TO "cot_acme_user""#,
            r#"GRANT EXECUTE ON FUNCTION "acme"."openapi"(jsonb) TO "cot_acme_admin""#,
            r#"CREATE FUNCTION "acme"."typescript"() RETURNS cot."text/plain" LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS 'SELECT cot.typescript(''acme'')::cot."text/plain"'"#,
            r#"ALTER FUNCTION "acme"."typescript"() OWNER TO "cot_owner""#,
            r#"REVOKE ALL ON FUNCTION "acme"."typescript"() FROM PUBLIC"#,
            r#"GRANT EXECUTE ON FUNCTION "acme"."typescript"() TO "cot_acme_user""#,
            r#"GRANT EXECUTE ON FUNCTION "acme"."typescript"() TO "cot_acme_admin""#,
        ]
    );
    assert_eq!(
        history[0],
        r#"CREATE FUNCTION "acme"."history"(entity text, id text) RETURNS jsonb LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS 'SELECT cot.history(''acme'', entity, id::uuid)'"#
    );
    assert!(history[3..]
        .iter()
        .zip(["anon", "user", "admin"])
        .all(|(g, r)| g.ends_with(&format!("TO \"cot_acme_{r}\""))));
    // The workflow wrappers, by all three roles (what each may do is the
    // workflow's and the access rules' business).
    assert_eq!(
        workflow[0],
        r#"CREATE FUNCTION "acme"."transition"(entity text, id text, transition text, note text DEFAULT NULL) RETURNS jsonb LANGUAGE sql SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS 'SELECT cot.transition(''acme'', entity, id::uuid, transition, note)'"#
    );
    assert!(workflow[6].starts_with(
        r#"CREATE FUNCTION "acme"."transitions"(entity text, id text) RETURNS jsonb LANGUAGE sql STABLE"#
    ));
    for w in [&workflow[..6], &workflow[6..]] {
        assert!(w[3..]
            .iter()
            .zip(["anon", "user", "admin"])
            .all(|(g, r)| g.ends_with(&format!("TO \"cot_acme_{r}\""))));
    }
    assert_eq!(
        tail,
        vec![
            r#"COMMENT ON SCHEMA "acme" IS 'Acme: REST API (Cot tenant acme)'"#,
            r#"COMMENT ON SCHEMA "tenant_acme" IS 'Acme: tables (Cot tenant acme); not exposed over HTTP'"#,
        ]
    );
    let drop = render_all(&plan::drop_tenant(&t, true));
    let (fns, drop) = drop.split_at(crate::rpc::ALL.len());
    assert_eq!(fns[0], r#"DROP FUNCTION "acme"."validate_entity"(jsonb)"#);
    assert_eq!(drop[0], r#"DROP SCHEMA "acme" CASCADE"#);
    assert_eq!(
        drop[1],
        r#"DROP TABLE IF EXISTS "tenant_acme"."_changes"; DROP FUNCTION IF EXISTS "tenant_acme"."_log_changes"() CASCADE"#
    );
    assert_eq!(
        drop[3],
        r#"DROP OWNED BY "cot_acme_anon", "cot_acme_user", "cot_acme_admin""#
    );
    assert_eq!(drop[6], r#"DROP ROLE "cot_acme_anon""#);
}

#[test]
fn hostile_text_only_reaches_sql_as_literals() {
    let evil = "x'(); DROP TABLE t; --$$\\";
    let sql = entity_sql(
        json!({"tenant": "acme", "name": "t", "description": evil, "fields": [
            {"name": "a", "type": "enum", "values": [evil], "default": evil, "description": evil},
            {"name": "b", "type": "text", "pattern": evil, "default": evil}
        ]}),
    );
    let quoted = crate::sql::quote_literal(evil);
    // The rules in words carry it too, each as one literal.
    let rules = [
        crate::plan::Check::OneOf(vec![evil.into()]).rule_text(),
        crate::plan::Check::Pattern(evil.into()).rule_text(),
    ]
    .map(|r| crate::sql::quote_literal(&r));
    for stmt in &sql {
        // Remove every correctly quoted occurrence; no raw fragment may remain.
        let mut stripped = stmt.replace(&quoted, "<lit>");
        for r in &rules {
            stripped = stripped.replace(r, "<lit>");
        }
        assert!(!stripped.contains("DROP TABLE"), "{stmt}");
        assert!(!stripped.contains("$$"), "{stmt}");
    }
}

#[test]
fn golden_access_rules() {
    let sql = entity_sql(
        json!({"tenant": "acme", "name": "notes", "fields": [{"name": "body", "type": "text"}],
        "access": {"read": "public", "create": "tenant", "update": "owner", "delete": "none"}}),
    );
    let at = sql
        .iter()
        .position(|s| s.starts_with("ALTER TABLE") && s.contains("ROW LEVEL"))
        .unwrap();
    assert_eq!(
        sql[at..],
        [
            r#"ALTER TABLE "tenant_acme"."notes" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY"#,
            r#"CREATE POLICY "cot_select" ON "tenant_acme"."notes" AS PERMISSIVE FOR SELECT TO "cot_acme_anon", "cot_acme_user", "cot_acme_admin" USING ((SELECT cot.claim_tenant() = 'acme'))"#,
            r#"CREATE POLICY "cot_insert" ON "tenant_acme"."notes" AS PERMISSIVE FOR INSERT TO "cot_acme_user", "cot_acme_admin" WITH CHECK ((SELECT cot.claim_tenant() = 'acme'))"#,
            r#"CREATE POLICY "cot_update_owner" ON "tenant_acme"."notes" AS PERMISSIVE FOR UPDATE TO "cot_acme_user" USING ((SELECT cot.claim_tenant() = 'acme') AND "owner_id" = (SELECT cot.claim_sub())) WITH CHECK ((SELECT cot.claim_tenant() = 'acme') AND "owner_id" = (SELECT cot.claim_sub()))"#,
            r#"CREATE POLICY "cot_update_admin" ON "tenant_acme"."notes" AS PERMISSIVE FOR UPDATE TO "cot_acme_admin" USING ((SELECT cot.claim_tenant() = 'acme')) WITH CHECK ((SELECT cot.claim_tenant() = 'acme'))"#,
            r#"GRANT SELECT ON TABLE "tenant_acme"."notes" TO "cot_acme_anon", "cot_acme_user", "cot_acme_admin""#,
            r#"GRANT SELECT ON TABLE "acme"."notes" TO "cot_acme_anon", "cot_acme_user", "cot_acme_admin""#,
            r#"GRANT INSERT ON TABLE "tenant_acme"."notes" TO "cot_acme_user", "cot_acme_admin""#,
            r#"GRANT INSERT ON TABLE "acme"."notes" TO "cot_acme_user", "cot_acme_admin""#,
            r#"GRANT UPDATE ON TABLE "tenant_acme"."notes" TO "cot_acme_user", "cot_acme_admin""#,
            r#"GRANT UPDATE ON TABLE "acme"."notes" TO "cot_acme_user", "cot_acme_admin""#,
        ]
    );
    // The owner rule brings the owner column, in table and view, and its trigger.
    assert!(sql[0].contains(r#""owner_id" text"#), "{}", sql[0]);
    assert!(sql
        .iter()
        .any(|s| s.starts_with(r#"CREATE TRIGGER "cot_owner_column""#)));
    assert!(sql
        .iter()
        .any(|s| s.starts_with("CREATE VIEW") && s.contains(r#""updated_at", "owner_id" FROM"#)));
    // Never more than the four privileges.
    for s in &sql {
        for bad in ["GRANT ALL", "TRUNCATE", "REFERENCES ON", "TRIGGER ON"] {
            assert!(!s.contains(bad), "{s}");
        }
    }
}

/// Every whole-word occurrence of `word` in `sql` (not part of a longer
/// name such as `group_id`) stands between double quotes.
fn always_quoted(sql: &str, word: &str) -> bool {
    let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    sql.match_indices(word).all(|(at, _)| {
        let before = sql[..at].chars().next_back();
        let after = sql[at + word.len()..].chars().next();
        (ident(before) || ident(after)) || (before == Some('"') && after == Some('"'))
    })
}

#[test]
fn reserved_words_as_names_are_always_quoted() {
    let words = ["user", "group", "end", "from", "to", "desc", "all"];
    let sql = entity_sql(json!({
        "tenant": "acme", "name": "user",
        "access": {"read": "tenant", "create": "tenant", "update": "owner", "delete": "admin"},
        "fields": [
            {"name": "user", "type": "text", "required": true, "unique": true, "max_length": 40, "pattern": "^[a-z]+$"},
            {"name": "group", "type": "enum", "values": ["staff", "guests"], "default": "staff", "index": true},
            {"name": "end", "type": "date", "min": "2000-01-01"},
            {"name": "from", "type": "timestamp", "default": "now"},
            {"name": "to", "type": "integer", "min": 0, "max": 10},
            {"name": "desc", "type": "array", "items": "text"},
            {"name": "all", "type": "relation", "kind": "many_to_one", "target": "user"}
        ],
        "indexes": [{"fields": ["end", "from"], "unique": true}, {"fields": ["to", "desc"]}]
    }));
    assert!(
        sql.iter()
            .any(|s| s.contains(r#"CREATE TABLE "tenant_acme"."user""#)),
        "{sql:#?}"
    );
    assert!(
        sql.iter().any(|s| s.contains(r#"UNIQUE ("end", "from")"#)),
        "{sql:#?}"
    );
    for statement in &sql {
        for word in words {
            assert!(always_quoted(statement, word), "{word} unquoted in {statement}");
        }
    }
    // The check itself: an unquoted word is caught, a longer name is not.
    assert!(!always_quoted("SELECT user FROM t", "user"));
    assert!(always_quoted(
        r#"SELECT "user", user_id, "group_id" FROM t"#,
        "user"
    ));
}

#[test]
fn a_relation_function_made_again_in_place_keeps_its_name() {
    let steps = relation_steps(json!({"tenant": "acme", "name": "orders", "fields": [
        {"name": "customer", "type": "relation", "kind": "many_to_one", "target": "customers"}]}));
    let replaced: Vec<plan::Step> = steps[1..]
        .iter()
        .map(|s| plan::Step::Replace(Box::new(s.clone())))
        .collect();
    assert_eq!(
        render_all(&replaced),
        [
            r#"CREATE OR REPLACE FUNCTION "acme"."customer"("acme"."orders") RETURNS SETOF "acme"."customers" ROWS 1 LANGUAGE sql STABLE AS 'SELECT t.* FROM "acme"."customers" AS t WHERE t."id" OPERATOR(pg_catalog.=) $1."customer_id"'"#,
            r#"ALTER FUNCTION "acme"."customer"("acme"."orders") OWNER TO "cot_owner""#,
        ]
    );
}

#[test]
fn a_long_relation_name_gets_a_short_unique_name_while_it_is_made() {
    let long = "r".repeat(60);
    let steps = relation_steps(json!({"tenant": "acme", "name": "orders", "fields": [
        {"name": long, "type": "relation", "kind": "many_to_one", "target": "customers"}]}));
    let sql = render_all(&steps);
    let new = sql[1].split('"').nth(3).unwrap().to_string();
    assert!(new.starts_with("_cot_new_r") && new.len() <= 63, "{new}");
    assert!(sql[2].ends_with(&format!(r#"RENAME TO "{long}""#)), "{}", sql[2]);
    assert!(sql[2].starts_with(&format!(r#"ALTER FUNCTION "acme"."{new}"("acme"."orders")"#)));
}
