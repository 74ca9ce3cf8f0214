//! Drift: what the catalog should hold for an entity, compared with what it
//! holds. `cot.check(tenant)` reads the catalog; this module says what is
//! expected (from the same planner that creates entities) and names every
//! difference. Work deliberately left for later (a constraint added NOT VALID,
//! an index not built yet) is reported as pending, with the statement to run.

use crate::access::Command;
use crate::ddl::render;
use crate::names::Ident;
use crate::plan::{self, Labels, RelKind, Step};
use crate::relations;
use crate::sql::quote_qualified_str;
use crate::types::Entity;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What one table or view of an entity should be.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expected {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// A view rather than a table.
    pub view: bool,
    /// Columns in order: name, type as `format_type` prints it, NOT NULL.
    pub columns: Vec<(String, String, bool)>,
    /// Constraint names (tables), each with the statement that validates it.
    pub constraints: Vec<(String, String)>,
    /// Index names and their CREATE INDEX CONCURRENTLY statement (tables).
    pub indexes: Vec<(String, String)>,
    /// Policies by name (tables), as the catalog shows them.
    pub policies: BTreeMap<String, Policy>,
    /// Columns that have a default: a view's copy the table's (see
    /// [`plan::view_defaults`]).
    pub defaults: BTreeSet<String>,
    /// Trigger names (tables), which must be enabled.
    pub triggers: BTreeSet<String>,
    /// The bodies of Cot's per-entity trigger functions (a workflow's), by
    /// trigger name: a function edited by hand no longer enforces the definition.
    pub trigger_bodies: BTreeMap<String, String>,
    /// (role, privilege) granted.
    pub grants: BTreeSet<(String, String)>,
}

/// A policy as `pg_policy` holds it: `polcmd`, the roles, and the two
/// expressions as `pg_get_expr` prints them. Every policy Cot makes is
/// permissive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `r`, `a`, `w` or `d`.
    pub command: String,
    /// Role names.
    pub roles: BTreeSet<String>,
    /// USING, printed.
    pub using: Option<String>,
    /// WITH CHECK, printed.
    pub check: Option<String>,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `drift` (the catalog differs from the definition) or `pending` (work
    /// deferred on purpose).
    pub kind: &'static str,
    /// The object, e.g. `tenant_acme.orders.total`.
    pub object: String,
    /// What differs.
    pub problem: String,
    /// A statement that resolves it, for pending work.
    pub sql: Option<String>,
}

/// A type as Postgres's `format_type` prints it.
pub fn catalog_type(sql_type: &str) -> String {
    let (base, array) = match sql_type.strip_suffix("[]") {
        Some(b) => (b, "[]"),
        None => (sql_type, ""),
    };
    let base = match base {
        "timestamptz" => "timestamp with time zone",
        "time" => "time without time zone",
        other => other,
    };
    format!("{base}{array}")
}

/// Everything `e`'s creation makes, per relation.
pub fn expected(e: &Entity, labels: &Labels) -> Vec<Expected> {
    let mut out: Vec<Expected> = Vec::new();
    let steps: Vec<Step> = plan::create_entity(e, labels)
        .into_iter()
        .chain(relations::steps(e, labels))
        .collect();
    let find = |out: &mut Vec<Expected>, schema: &Ident, name: &Ident, view: bool| -> usize {
        if let Some(i) = out
            .iter()
            .position(|x| x.schema == schema.as_str() && x.name == name.as_str() && x.view == view)
        {
            return i;
        }
        out.push(Expected {
            schema: schema.to_string(),
            name: name.to_string(),
            view,
            ..Expected::default()
        });
        out.len() - 1
    };
    for step in &steps {
        match step {
            Step::CreateTable(t) => {
                let i = find(&mut out, &t.schema, &t.name, false);
                out[i].columns = t
                    .columns
                    .iter()
                    .map(|c| (c.name.to_string(), catalog_type(&c.sql_type), c.not_null))
                    .collect();
                out[i].defaults = t
                    .columns
                    .iter()
                    .filter(|c| c.default.is_some())
                    .map(|c| c.name.to_string())
                    .collect();
                for c in &t.constraints {
                    out[i]
                        .constraints
                        .push((c.name.to_string(), validate_sql(&t.schema, &t.name, &c.name)));
                }
            }
            Step::CreateSystemTrigger { schema, table, .. } => {
                let i = find(&mut out, schema, table, false);
                out[i].triggers.insert("cot_system_columns".into());
            }
            Step::CreateOwnerTrigger { schema, table } => {
                let i = find(&mut out, schema, table, false);
                out[i].triggers.insert("cot_owner_column".into());
            }
            Step::CreateWorkflowTrigger { schema, table, .. }
            | Step::CreateWorkflowFunction { schema, table, .. } => {
                let i = find(&mut out, schema, table, false);
                workflow_expectation(&mut out[i], step);
            }
            Step::CreateHistoryTrigger {
                schema,
                table,
                command,
                ..
            } => {
                let i = find(&mut out, schema, table, false);
                out[i]
                    .triggers
                    .insert(crate::plan::history::trigger_name(*command).to_string());
            }
            Step::SetViewDefault {
                schema,
                view,
                column,
                default: Some(_),
            } => {
                let i = find(&mut out, schema, view, true);
                out[i].defaults.insert(column.to_string());
            }
            Step::AddConstraint {
                schema,
                table,
                constraint,
            } => {
                let i = find(&mut out, schema, table, false);
                out[i].constraints.push((
                    constraint.name.to_string(),
                    validate_sql(schema, table, &constraint.name),
                ));
            }
            Step::CreateIndex {
                schema, table, name, ..
            } => {
                let i = find(&mut out, schema, table, false);
                let sql = crate::ddl::render_concurrently(step);
                out[i].indexes.push((name.to_string(), sql));
            }
            Step::CreatePolicy {
                schema,
                table,
                name,
                command,
                roles,
                using,
                check,
            } => {
                let i = find(&mut out, schema, table, false);
                let command = match command {
                    Command::Select => "r",
                    Command::Insert => "a",
                    Command::Update => "w",
                    Command::Delete => "d",
                };
                out[i].policies.insert(
                    name.to_string(),
                    Policy {
                        command: command.into(),
                        roles: roles.iter().map(|r| r.to_string()).collect(),
                        using: using.as_ref().map(crate::ddl::printed_predicate),
                        check: check.as_ref().map(crate::ddl::printed_predicate),
                    },
                );
            }
            Step::CreateView {
                schema,
                name,
                columns,
                ..
            } => {
                let i = find(&mut out, schema, name, true);
                out[i].columns = columns
                    .iter()
                    .map(|c| (c.to_string(), String::new(), false))
                    .collect();
            }
            Step::Grant {
                command,
                kind,
                schema,
                name,
                roles,
            } => {
                let i = find(&mut out, schema, name, *kind == RelKind::View);
                for r in roles {
                    out[i].grants.insert((r.to_string(), privilege(*command).into()));
                }
            }
            _ => {}
        }
    }
    out
}

fn privilege(c: Command) -> &'static str {
    match c {
        Command::Select => "SELECT",
        Command::Insert => "INSERT",
        Command::Update => "UPDATE",
        Command::Delete => "DELETE",
    }
}

fn strings(v: &Value) -> Vec<&Value> {
    v.as_array().map(|a| a.iter().collect()).unwrap_or_default()
}

/// Compares what is expected of one relation with what the catalog holds,
/// given as `{exists, rls, force, columns: [[name, type, notnull]],
/// constraints: [[name, validated]], indexes: [[name, valid]], policies:
/// [{name, command, permissive, roles, using, check}], grants: [[role, privilege]]}` (grants to the tenant's roles only).
pub fn compare(x: &Expected, actual: &Value) -> Vec<Finding> {
    let object = format!("{}.{}", x.schema, x.name);
    let mut out = Vec::new();
    if actual["exists"] != Value::Bool(true) {
        out.push(drift(
            object,
            format!("{} is missing", if x.view { "view" } else { "table" }),
        ));
        return out;
    }
    compare_columns(x, actual, &object, &mut out);
    if !x.view {
        if actual["rls"] != Value::Bool(true) || actual["force"] != Value::Bool(true) {
            out.push(drift(
                object.clone(),
                "row level security is not enabled and forced".into(),
            ));
        }
        compare_constraints(x, actual, &object, &mut out);
        compare_indexes(x, actual, &mut out);
        compare_policies(x, actual, &object, &mut out);
        compare_triggers(x, actual, &object, &mut out);
    }
    compare_grants(x, actual, &object, &mut out);
    out
}

/// A difference between the definition and the catalog.
fn drift(object: String, problem: String) -> Finding {
    Finding {
        kind: "drift",
        object,
        problem,
        sql: None,
    }
}

/// Columns: names in order, and for tables types and NOT NULL.
fn compare_columns(x: &Expected, actual: &Value, object: &str, out: &mut Vec<Finding>) {
    let have: Vec<(String, String, bool)> = strings(&actual["columns"])
        .into_iter()
        .map(|c| {
            (
                c[0].as_str().unwrap_or_default().to_string(),
                c[1].as_str().unwrap_or_default().to_string(),
                c[2].as_bool().unwrap_or(false),
            )
        })
        .collect();
    for (name, ty, not_null) in &x.columns {
        match have.iter().find(|h| &h.0 == name) {
            None => out.push(drift(format!("{object}.{name}"), "column is missing".into())),
            Some(h) if !x.view && (&h.1 != ty || h.2 != *not_null) => out.push(drift(
                format!("{object}.{name}"),
                format!(
                    "column is {}{}, the definition says {}{}",
                    h.1,
                    if h.2 { " NOT NULL" } else { "" },
                    ty,
                    if *not_null { " NOT NULL" } else { "" }
                ),
            )),
            Some(_) => {}
        }
    }
    // Defaults: the catalog says which columns have one (`atthasdef`).
    for c in strings(&actual["columns"]) {
        let (Some(name), Some(has)) = (c[0].as_str(), c[3].as_bool()) else {
            continue;
        };
        match (has, x.defaults.contains(name)) {
            (false, true) => out.push(drift(
                format!("{object}.{name}"),
                "column has no default, the definition gives it one".into(),
            )),
            (true, false) if x.columns.iter().any(|c| c.0 == name) => out.push(drift(
                format!("{object}.{name}"),
                "column has a default the definition does not give".into(),
            )),
            _ => {}
        }
    }
    for h in &have {
        if !x.columns.iter().any(|c| c.0 == h.0) {
            out.push(drift(
                format!("{object}.{}", h.0),
                "column is not in the definition".into(),
            ));
        }
    }
}

/// Constraints: each one the definition makes, validated; no other.
fn compare_constraints(x: &Expected, actual: &Value, object: &str, out: &mut Vec<Finding>) {
    let constraints: Vec<(&str, bool)> = strings(&actual["constraints"])
        .into_iter()
        .map(|c| (c[0].as_str().unwrap_or_default(), c[1].as_bool().unwrap_or(true)))
        .collect();
    for (name, validate) in &x.constraints {
        match constraints.iter().find(|c| c.0 == name) {
            None => out.push(drift(format!("{object}.{name}"), "constraint is missing".into())),
            Some((_, false)) => out.push(Finding {
                kind: "pending",
                object: format!("{object}.{name}"),
                problem: "constraint is NOT VALID: existing rows are not checked yet".into(),
                sql: Some(validate.clone()),
            }),
            _ => {}
        }
    }
    for (name, _) in &constraints {
        if !x.constraints.iter().any(|c| c.0 == *name) {
            out.push(drift(
                format!("{object}.{name}"),
                "constraint is not in the definition".into(),
            ));
        }
    }
}

/// Indexes: each one the definition makes, built and valid; no other.
fn compare_indexes(x: &Expected, actual: &Value, out: &mut Vec<Finding>) {
    let indexes: Vec<(&str, bool)> = strings(&actual["indexes"])
        .into_iter()
        .map(|c| (c[0].as_str().unwrap_or_default(), c[1].as_bool().unwrap_or(true)))
        .collect();
    for (name, sql) in &x.indexes {
        match indexes.iter().find(|i| i.0 == name) {
            None => out.push(Finding {
                kind: "pending",
                object: format!("{}.{name}", x.schema),
                problem: "index is not built".into(),
                sql: Some(sql.clone()),
            }),
            Some((_, false)) => out.push(Finding {
                kind: "pending",
                object: format!("{}.{name}", x.schema),
                problem: "index is invalid (a concurrent build failed): rebuild it".into(),
                // REINDEX rebuilds it in place without blocking writes
                // (and is not DDL the drift guard sees); DROP INDEX is.
                sql: Some(format!(
                    "REINDEX INDEX CONCURRENTLY {}",
                    quote_qualified_str(&x.schema, name)
                )),
            }),
            _ => {}
        }
    }
    for (name, _) in &indexes {
        if !x.indexes.iter().any(|i| i.0 == *name) {
            out.push(drift(
                format!("{}.{name}", x.schema),
                "index is not in the definition".into(),
            ));
        }
    }
}

/// Policies: each one the access rules make, as they make it; no other.
fn compare_policies(x: &Expected, actual: &Value, object: &str, out: &mut Vec<Finding>) {
    let policies: BTreeMap<String, &Value> = strings(&actual["policies"])
        .into_iter()
        .filter_map(|p| p["name"].as_str().map(|n| (n.to_string(), p)))
        .collect();
    for (name, want) in &x.policies {
        let Some(have) = policies.get(name) else {
            out.push(drift(
                format!("{object}: policy {name}"),
                "policy is missing".into(),
            ));
            continue;
        };
        let differs = policy_differences(have, want);
        if !differs.is_empty() {
            out.push(drift(
                format!("{object}: policy {name}"),
                format!("policy differs from the access rules: {}", differs.join("; ")),
            ));
        }
    }
    for name in policies.keys().filter(|n| !x.policies.contains_key(*n)) {
        out.push(drift(
            format!("{object}: policy {name}"),
            "policy is not from the access rules".into(),
        ));
    }
}

/// How a policy in the catalog differs from the one the access rules make.
fn policy_differences(have: &Value, want: &Policy) -> Vec<String> {
    let text = |v: &Value| v.as_str().map(str::to_string);
    let roles: BTreeSet<String> = strings(&have["roles"]).into_iter().filter_map(text).collect();
    let mut differs = Vec::new();
    if have["permissive"] != Value::Bool(true) {
        differs.push("it is RESTRICTIVE, the access rules make it PERMISSIVE".to_string());
    }
    if text(&have["command"]).as_deref() != Some(want.command.as_str()) {
        differs.push(format!(
            "its command is {}, the access rules make {}",
            text(&have["command"]).unwrap_or_default(),
            want.command
        ));
    }
    if roles != want.roles {
        differs.push(format!(
            "it applies to {}, the access rules to {}",
            roles.iter().cloned().collect::<Vec<_>>().join(", "),
            want.roles.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    for (clause, have, want) in [
        ("USING", &have["using"], &want.using),
        ("WITH CHECK", &have["check"], &want.check),
    ] {
        if text(have) != *want {
            differs.push(format!(
                "its {clause} is {}, the access rules make {}",
                text(have).unwrap_or_else(|| "none".into()),
                want.clone().unwrap_or_else(|| "none".into())
            ));
        }
    }
    differs
}

/// A workflow's trigger, and the body its function must have.
fn workflow_expectation(x: &mut Expected, step: &Step) {
    match step {
        Step::CreateWorkflowTrigger { .. } => {
            x.triggers.insert(plan::workflow::TRIGGER.into());
        }
        Step::CreateWorkflowFunction {
            tenant,
            table,
            workflow,
            guards,
            ..
        } => {
            x.trigger_bodies.insert(
                plan::workflow::TRIGGER.into(),
                crate::ddl::function_body(tenant, table, workflow, guards),
            );
        }
        _ => {}
    }
}

/// Triggers: Cot's, enabled (a disabled `cot_owner_column` lets a writer
/// forge `owner_id`); no other.
fn compare_triggers(x: &Expected, actual: &Value, object: &str, out: &mut Vec<Finding>) {
    let have: Vec<(&str, bool)> = strings(&actual["triggers"])
        .into_iter()
        .map(|t| (t[0].as_str().unwrap_or_default(), t[1].as_bool().unwrap_or(false)))
        .collect();
    for (name, body) in &x.trigger_bodies {
        let found = strings(&actual["triggers"])
            .into_iter()
            .find(|t| t[0].as_str() == Some(name.as_str()))
            .map(|t| t[2].as_str().unwrap_or_default().to_string());
        if found.is_some_and(|b| b != *body) {
            out.push(drift(
                format!("{object}: trigger {name}"),
                "trigger function differs from the one the definition makes".into(),
            ));
        }
    }
    for name in &x.triggers {
        match have.iter().find(|h| h.0 == name) {
            None => out.push(drift(
                format!("{object}: trigger {name}"),
                "trigger is missing".into(),
            )),
            Some((_, false)) => out.push(drift(
                format!("{object}: trigger {name}"),
                "trigger is disabled".into(),
            )),
            Some(_) => {}
        }
    }
    for (name, _) in have.iter().filter(|h| !x.triggers.contains(h.0)) {
        out.push(drift(
            format!("{object}: trigger {name}"),
            "trigger is not Cot's".into(),
        ));
    }
}

/// Grants: exactly the privileges the access rules give, to whomever the
/// catalog says (PUBLIC and roles outside the tenant included).
fn compare_grants(x: &Expected, actual: &Value, object: &str, out: &mut Vec<Finding>) {
    let grants: BTreeSet<(String, String)> = strings(&actual["grants"])
        .into_iter()
        .map(|g| {
            (
                g[0].as_str().unwrap_or_default().to_string(),
                g[1].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for (role, privilege) in x.grants.difference(&grants) {
        out.push(drift(
            object.to_string(),
            format!("{privilege} is not granted to {role}"),
        ));
    }
    for (role, privilege) in grants.difference(&x.grants) {
        out.push(drift(
            object.to_string(),
            format!("{privilege} is granted to {role}, the access rules do not"),
        ));
    }
}

fn validate_sql(schema: &Ident, table: &Ident, name: &Ident) -> String {
    render(&Step::ValidateConstraint {
        schema: schema.clone(),
        table: table.clone(),
        name: name.clone(),
    })
}

#[cfg(test)]
#[path = "drift_tests.rs"]
mod tests;
