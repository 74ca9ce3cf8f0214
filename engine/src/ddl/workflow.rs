//! An entity's workflow trigger: one PL/pgSQL function per entity, written
//! out from the definition (no dynamic SQL: PL/pgSQL keeps the plan of each
//! statement), that checks every insert and every change of the state column
//! against the transitions ([`crate::workflow::decide`] is the same rule in
//! Rust) and records each transition in the tenant's change log. States,
//! names and guard values are literals through [`quote_literal`]; guards are
//! compiled by the query compiler ([`crate::query::inline_condition`]).
//!
//! The function is SECURITY DEFINER (it writes the change log, which no
//! tenant role may) with a pinned `search_path`; it judges `who` by the
//! session's role, as PostgREST sets it (the same role the change log names
//! as the actor), and can only run as a trigger.

use super::*;
use crate::names::{fixed, TenantNames, OWNER_COLUMN};
use crate::query::Filter;
use crate::workflow::{Transition, Who, Workflow, GUARD_FAILED, NOT_ALLOWED, NOT_A_START, NOT_A_TRANSITION};

/// The SQL of a workflow step; [`super::render`] sends each step here.
pub(super) fn render(step: &Step) -> String {
    match step {
        Step::CreateWorkflowFunction {
            schema,
            name,
            tenant,
            table,
            workflow,
            guards,
        } => {
            let f = quote_qualified(schema, name);
            format!(
                "CREATE OR REPLACE FUNCTION {f}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER \
                 SET search_path = pg_catalog, pg_temp AS {}; REVOKE ALL ON FUNCTION {f}() FROM PUBLIC",
                quote_literal(&function_body(tenant, table, workflow, guards))
            )
        }
        Step::CreateWorkflowTrigger {
            schema,
            table,
            column,
            function,
        } => format!(
            "CREATE TRIGGER {} BEFORE INSERT OR UPDATE OF {} ON {} FOR EACH ROW EXECUTE FUNCTION {}()",
            quote_ident(&fixed(crate::plan::workflow::TRIGGER)),
            quote_ident(column),
            quote_qualified(schema, table),
            quote_qualified(schema, function)
        ),
        Step::DropWorkflowFunction { schema, name } => {
            format!("DROP FUNCTION IF EXISTS {}()", quote_qualified(schema, name))
        }
        other => unreachable!("not a workflow step: {other:?}"),
    }
}

fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| quote_literal(s))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Is the session's role a member of `role`?
fn member(role: &str) -> String {
    format!(
        "pg_catalog.pg_has_role(caller, {}, 'MEMBER')",
        quote_literal(role)
    )
}

/// The condition that the caller (`caller`, the session's role) may take a
/// transition, on the record `row` before it changes.
fn who_sql(who: &[Who], t: &TenantNames, row: &str) -> String {
    let parts: Vec<String> = who
        .iter()
        .map(|w| match w {
            Who::Public => "true".to_string(),
            Who::Tenant => format!(
                "({} OR {})",
                member(t.user_role.as_str()),
                member(t.admin_role.as_str())
            ),
            Who::Admin => member(t.admin_role.as_str()),
            Who::Owner => format!(
                "({} OR ({} AND {row}.{} = cot.claim_sub()))",
                member(t.admin_role.as_str()),
                member(t.user_role.as_str()),
                quote_ident(&fixed(OWNER_COLUMN))
            ),
            // A role that does not exist (any more) admits nobody, rather
            // than failing every update.
            Who::Role(r) => format!(
                "CASE WHEN pg_catalog.to_regrole({}) IS NULL THEN false ELSE {} END",
                quote_literal(r),
                member(r)
            ),
        })
        .collect();
    parts.join(" OR ")
}

/// One transition's check: taken when the caller may and the guard holds;
/// otherwise the first refusal is kept for the error.
fn check(t: &Transition, guard: Option<&Filter>, col: &str, tn: &TenantNames) -> String {
    let name = quote_literal(&t.name);
    let guard = guard.map_or("true".to_string(), |f| crate::query::inline_condition(f, "NEW"));
    format!(
        "    IF taken IS NULL AND OLD.{col} IN ({from}) AND NEW.{col} = {to} AND (wanted IS NULL OR wanted = {name}) THEN\n\
         \x20       IF NOT ({who}) THEN\n\
         \x20           IF refused IS NULL THEN refused := {name}; why := 'who'; END IF;\n\
         \x20       ELSIF NOT coalesce({guard}, false) THEN\n\
         \x20           IF refused IS NULL THEN refused := {name}; why := 'guard'; END IF;\n\
         \x20       ELSE\n\
         \x20           taken := {name};\n\
         \x20       END IF;\n\
         \x20   END IF;\n",
        from = list(&t.from),
        to = quote_literal(&t.to),
        who = who_sql(&t.who, tn, "OLD"),
    )
}

/// The statement `cot.transitions` runs as its caller, through the API
/// view: the record's state, then for each transition whether the caller
/// may take it now (it leaves the present state, the role may, the record
/// meets the guard). `$1` is the record's id; no row when the caller cannot
/// read the record.
pub fn available_query(tenant: &Ident, entity: &Ident, w: &Workflow, guards: &[Option<Filter>]) -> String {
    let tn = TenantNames::new(tenant);
    let col = quote_ident(&w.field);
    let each: Vec<String> = w
        .transitions
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let guard = guards
                .get(i)
                .and_then(Option::as_ref)
                .map_or("true".to_string(), |f| crate::query::inline_condition(f, "r"));
            format!(
                "(r.{col} IN ({}) AND ({}) AND coalesce({guard}, false))",
                list(&t.from),
                who_sql(&t.who, &tn, "r")
            )
        })
        .collect();
    format!(
        "SELECT r.{col}::text, ARRAY[{}]::boolean[] FROM {} AS r, \
         (SELECT CASE WHEN pg_catalog.current_setting('role') = 'none' THEN session_user::text \
                 ELSE pg_catalog.current_setting('role') END AS caller) AS c \
         WHERE r.\"id\" = $1",
        each.join(", "),
        quote_qualified(&tn.api_schema, entity)
    )
}

/// `CASE <expr> WHEN <key> THEN <text> ... ELSE <other> END`, every part a literal.
fn case(expr: &str, arms: &[(String, String)], other: &str) -> String {
    if arms.is_empty() {
        return quote_literal(other);
    }
    let mut s = format!("CASE {expr}");
    for (k, v) in arms {
        s.push_str(&format!(" WHEN {} THEN {}", quote_literal(k), quote_literal(v)));
    }
    s.push_str(&format!(" ELSE {} END", quote_literal(other)));
    s
}

/// The transitions that leave each state, in words: the HINT of a refused change.
fn leaving_hints(w: &Workflow) -> Vec<(String, String)> {
    w.states
        .iter()
        .map(|s| {
            let ts: Vec<String> = w
                .leaving(s)
                .iter()
                .map(|t| format!("{} (to \"{}\")", t.name, t.to))
                .collect();
            let text = if ts.is_empty() {
                format!("no transition leaves \"{s}\"")
            } else {
                format!("the transitions from \"{s}\": {}", ts.join(", "))
            };
            (s.clone(), text)
        })
        .collect()
}

/// The body of the trigger function (what `pg_proc.prosrc` holds: `cot.check`
/// compares the two).
pub fn function_body(tenant: &Ident, table: &Ident, w: &Workflow, guards: &[Option<Filter>]) -> String {
    let tn = TenantNames::new(tenant);
    let col = quote_ident(&w.field);
    let entity = quote_literal(table.as_str());
    let field = quote_literal(w.field.as_str());
    let checks: String = w
        .transitions
        .iter()
        .enumerate()
        .map(|(i, t)| check(t, guards.get(i).and_then(Option::as_ref), &col, &tn))
        .collect();
    let who_hints: Vec<(String, String)> = w
        .transitions
        .iter()
        .map(|t| {
            let who: Vec<&str> = t.who.iter().map(Who::name).collect();
            (
                t.name.clone(),
                format!("{} may be taken by: {}", t.name, who.join(", ")),
            )
        })
        .collect();
    let guards: Vec<(String, String)> = w
        .transitions
        .iter()
        .map(|t| {
            let g = t.guard.as_ref().map(|g| g.to_string()).unwrap_or_default();
            (t.name.clone(), format!("the guard of {}: {g}", t.name))
        })
        .collect();
    // The transition's entry (cot.log_transition, src/change_log.rs).
    let record = format!(
        "cot.log_transition({slug}, {entity}, NEW.\"id\", pg_catalog.jsonb_build_object({field}, OLD.{col}), \
         pg_catalog.jsonb_build_object({field}, NEW.{col}), \
         pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('name', taken, 'field', {field}, \
         'from', OLD.{col}, 'to', NEW.{col}, \
         'note', nullif(pg_catalog.current_setting('cot.transition_note', true), ''))))",
        slug = quote_literal(tenant.as_str())
    );
    format!(
        "
DECLARE
    wanted text := nullif(pg_catalog.current_setting('cot.transition', true), '');
    taken text;
    refused text;
    why text;
    caller text;
    entry bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.{col} IS NULL OR NEW.{col} IN ({starts}) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION USING ERRCODE = '{NOT_A_START}',
            MESSAGE = pg_catalog.format('a new record of %s cannot start in state %L', {entity}, NEW.{col}),
            DETAIL = pg_catalog.format('field %s: %L', {field}, NEW.{col}),
            HINT = {start_hint};
    END IF;
    IF wanted IS NULL AND NEW.{col} IS NOT DISTINCT FROM OLD.{col} THEN
        RETURN NEW;
    END IF;
    caller := CASE WHEN pg_catalog.current_setting('role') = 'none' THEN session_user
                   ELSE pg_catalog.current_setting('role') END;
{checks}    IF taken IS NULL THEN
        IF refused IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = '{NOT_A_TRANSITION}',
                MESSAGE = CASE WHEN wanted IS NULL
                    THEN pg_catalog.format('no transition of %s leads from %L to %L', {entity}, OLD.{col}, NEW.{col})
                    ELSE pg_catalog.format('transition %L of %s cannot be taken from state %L', wanted, {entity}, OLD.{col}) END,
                DETAIL = pg_catalog.format('record %s, field %s: %L -> %L, transition tried: %s', NEW.\"id\", {field},
                    OLD.{col}, NEW.{col}, coalesce(wanted, '(none named)')),
                HINT = {leaving};
        ELSIF why = 'who' THEN
            RAISE EXCEPTION USING ERRCODE = '{NOT_ALLOWED}',
                MESSAGE = pg_catalog.format('role %s may not take transition %L of %s', caller, refused, {entity}),
                DETAIL = pg_catalog.format('record %s, field %s: %L -> %L, transition tried: %s', NEW.\"id\", {field},
                    OLD.{col}, NEW.{col}, refused),
                HINT = {who_hint};
        ELSE
            RAISE EXCEPTION USING ERRCODE = '{GUARD_FAILED}',
                MESSAGE = pg_catalog.format('the record does not meet the guard of transition %L of %s', refused, {entity}),
                DETAIL = pg_catalog.format('record %s, field %s: %L -> %L, transition tried: %s; %s', NEW.\"id\", {field},
                    OLD.{col}, NEW.{col}, refused, {guard_text}),
                HINT = 'change the record so that it meets the guard, in the same update or before';
        END IF;
    END IF;
    -- Recorded as the history triggers record a change
    -- (docs/changes.md): cot.log_transition takes the transaction's lock for
    -- the readers' watermark, wakes consumers, and appends the entry (its id
    -- after the lock's) without starting an executor, as does this
    -- assignment (a PERFORM would run a query).
    entry := {record};
    RETURN NEW;
END
",
        starts = list(&w.starts),
        start_hint = quote_literal(&format!("records start in: {}", w.starts.join(", "))),
        leaving = case(&format!("OLD.{col}"), &leaving_hints(w), "no transition leaves this state"),
        who_hint = case("refused", &who_hints, ""),
        guard_text = case("refused", &guards, ""),
    )
}
