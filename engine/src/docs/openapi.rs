//! The OpenAPI 3.1 document of one tenant's PostgREST API: a path per view
//! (entities and many-to-many junctions) with the methods its access rules
//! open to someone, the record schemas, PostgREST's query parameters and
//! headers, its error shape, and the two ways to authenticate (JWT, API key).
//!
//! PostgREST serves its own OpenAPI (Swagger 2.0) at `/`, read from the
//! catalog; this one is built from the definitions instead, so it knows what
//! the catalog does not say: the rules (who may do what), enum values, bounds,
//! patterns, labels, and which columns the database fills in.

use super::components::{self, error_responses, param_ref, security};
use super::model::{embeddings, views, Column, Source, View};
use super::record_schema::{view_schema, Variant};
use crate::access::Rule;
use crate::names::TenantNames;
use crate::plan::Labels;
use crate::scalar::Scalar;
use crate::types::{Entity, FieldType};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// Where PostgREST listens when the caller does not say.
pub const DEFAULT_SERVER_URL: &str = "http://localhost:3000";

/// Options of [`openapi`] (`cot.openapi(tenant, options)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenApiOptions {
    /// The base URL of the PostgREST server (`servers[0].url`).
    pub server_url: String,
}

impl Default for OpenApiOptions {
    fn default() -> Self {
        OpenApiOptions {
            server_url: DEFAULT_SERVER_URL.into(),
        }
    }
}

impl OpenApiOptions {
    /// Reads the options object; unknown keys and wrong types are errors (a
    /// sentence for the user), as everywhere in Cot.
    pub fn from_json(v: &Value) -> Result<OpenApiOptions, String> {
        let Value::Object(map) = v else {
            return Err("openapi options must be a JSON object".into());
        };
        let mut out = OpenApiOptions::default();
        for (key, value) in map {
            match (key.as_str(), value) {
                ("server_url", Value::String(s)) => {
                    if s.is_empty()
                        || s.len() > 2048
                        || s.chars().any(|c| c.is_whitespace() || c.is_control())
                    {
                        return Err("server_url must be 1-2048 characters without spaces".into());
                    }
                    out.server_url = s.clone();
                }
                ("server_url", _) => return Err("server_url must be a string".into()),
                (key, _) => {
                    return Err(format!(
                        "unknown openapi option {}; the options are: server_url",
                        crate::names::shown(key)
                    ))
                }
            }
        }
        Ok(out)
    }
}

/// The OpenAPI 3.1.0 document of tenant `tenant`'s API. A view whose four
/// rules are all `none` has no path (and no schema): nobody can call it.
pub fn openapi(names: &TenantNames, entities: &[(Entity, Labels)], options: &OpenApiOptions) -> Value {
    let tenant = names.slug.as_str();
    let all = views(entities);
    let served: Vec<&View<'_>> = all.iter().filter(|v| v.reachable()).collect();
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let mut tags = Vec::new();
    for v in &served {
        if let Source::Entity(e) = v.source {
            tags.push(json!({"name": e.name.as_str(), "description": v.description}));
        }
        paths.insert(format!("/{}", v.name), path_item(names, v));
        schemas.insert(v.name.clone(), Value::Object(view_schema(v, Variant::Row)));
        if v.access.create != Rule::None {
            schemas.insert(
                format!("{}.insert", v.name),
                Value::Object(view_schema(v, Variant::Insert)),
            );
        }
        if v.access.update != Rule::None {
            schemas.insert(
                format!("{}.update", v.name),
                Value::Object(view_schema(v, Variant::Update)),
            );
        }
    }
    paths.extend(rpc_paths(names));
    schemas.insert("PostgrestError".into(), components::error_schema());
    let components = json!({
        "schemas": schemas,
        "parameters": components::parameters(names),
        "headers": components::headers(),
        "responses": components::responses(),
        "securitySchemes": components::security_schemes(names),
    });
    let paths = Value::Object(paths);
    // The version changes exactly when the API does.
    let digest = Sha256::digest(format!("{paths}{components}").as_bytes());
    let version: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": format!("{tenant} API"),
            "version": version,
            "description": format!(
                "The REST API of Cot tenant {tenant}, served by PostgREST 12. Every request names the tenant's \
                 profile (Accept-Profile: {tenant} to read, Content-Profile: {tenant} to write) unless a proxy \
                 sets it, and authenticates with a JWT or an API key; row-level security in the database \
                 enforces the rules stated on each operation. Generated by cot.openapi('{tenant}')."
            ),
        },
        "servers": [{"url": options.server_url, "description": "PostgREST"}],
        "security": [{"bearerAuth": []}, {"apiKey": []}],
        "tags": tags,
        "paths": paths,
        "components": components,
    })
}

/// Paths under `/rpc/`: the wrappers of `crate::rpc` in the tenant's schema.
/// `query` is for every role of the tenant (anonymous requests too, as its
/// anon role); `openapi` and `typescript` for its users and admins; the
/// definition functions for its admins. Reading ones answer
/// GET as well (their arguments in the query string; a JSON argument as its
/// text).
fn rpc_paths(names: &TenantNames) -> Map<String, Value> {
    let tenant = names.slug.as_str();
    use crate::rpc::{Audience, Rpc, ALL};
    let mut paths = Map::new();
    for f in ALL {
        let (who, rule) = match f.audience() {
            Audience::Everyone => (
                format!(
                    "every role of tenant {tenant}, anonymous requests included ({}); it reads as the caller, so the \
                     caller's grants and the row-level policies decide what it returns",
                    names.anon_role
                ),
                Rule::Public,
            ),
            Audience::Members => (
                format!(
                    "the users and admins of tenant {tenant} (JWT role {} or {})",
                    names.user_role, names.admin_role
                ),
                Rule::Tenant,
            ),
            Audience::Admin => (
                format!(
                    "the admins of tenant {tenant} only (JWT role {})",
                    names.admin_role
                ),
                Rule::Admin,
            ),
        };
        let arg_schema = |a: &crate::rpc::Arg| {
            if a.json {
                json!({"description": a.description})
            } else {
                json!({"type": "string", "description": a.description})
            }
        };
        let properties: Map<String, Value> = f
            .args()
            .iter()
            .map(|a| (a.name.to_string(), arg_schema(a)))
            .collect();
        let required: Vec<&str> = f.args().iter().filter(|a| a.required).map(|a| a.name).collect();
        let result = match f {
            Rpc::DropEntity => None,
            Rpc::DeleteWebhook => Some(json!({"type": "boolean"})),
            Rpc::Entities => Some(
                json!({"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}, "label": {"type": "string"},
                "description": {"type": ["string", "null"]}, "fields": {"type": "integer"}, "version": {"type": "integer"},
                "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}}}}),
            ),
            Rpc::Query => Some(
                json!({"type": "object", "required": ["data", "next_cursor", "count"], "properties": {
                "data": {"type": "array", "items": {"type": "object"}, "description": "The records, each with the fields selected."},
                "next_cursor": {"type": ["string", "null"], "description": "Pass as cursor for the next page; null on the last."},
                "count": {"type": ["integer", "null"], "description": "Every matching record, when count was asked."}}}),
            ),
            Rpc::TypeScript => Some(
                json!({"type": "string", "description": "TypeScript source; with Accept: text/plain, the text itself."}),
            ),
            _ => Some(json!({"description": "JSON"})),
        };
        let mut ok = Map::new();
        match &result {
            Some(schema) => ok.insert(
                "200".into(),
                json!({"description": "OK", "content": content(schema)}),
            ),
            None => ok.insert("204".into(), json!({"description": "Done; no body."})),
        };
        let write = !f.stable();
        let op = |method: &str, mut params: Vec<Value>, body: Option<Value>| {
            let mut o = Map::new();
            o.insert("operationId".into(), json!(format!("{method}_rpc_{}", f.name())));
            o.insert("tags".into(), json!(["rpc"]));
            o.insert("summary".into(), json!(f.summary()));
            o.insert("description".into(), json!(format!("Allowed to {who}.")));
            params.retain(|p| !p.is_null());
            o.insert("parameters".into(), Value::Array(params));
            if let Some(b) = body {
                o.insert("requestBody".into(), b);
            }
            let mut responses = ok.clone();
            responses.extend(error_responses(write));
            o.insert("responses".into(), Value::Object(responses));
            o.insert("security".into(), security(rule));
            Value::Object(o)
        };
        let mut item = Map::new();
        let body = json!({
            "required": !required.is_empty(),
            "content": content(&json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})),
        });
        item.insert(
            "post".into(),
            op("post", vec![param_ref("contentProfile")], Some(body)),
        );
        if f.stable() {
            let mut params = vec![param_ref("acceptProfile")];
            params.extend(f.args().iter().map(|a| {
                json!({"name": a.name, "in": "query", "required": a.required, "schema": {"type": "string"},
                       "description": if a.json { format!("{} As JSON text.", a.description) } else { a.description.to_string() }})
            }));
            item.insert("get".into(), op("get", params, None));
        }
        paths.insert(format!("/rpc/{}", f.name()), Value::Object(item));
    }
    paths
}

/// A JSON body or answer with `schema`.
fn content(schema: &Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

/// One operation of a path, before it is written out.
struct Op {
    /// `get`, `post`, `patch` or `delete`.
    method: &'static str,
    /// The rule that allows it.
    rule: Rule,
    /// What it does.
    cmd: Cmd,
    /// One line.
    summary: String,
    /// Parameters (the column filters are added for all but POST).
    params: Vec<Value>,
    /// The request body.
    body: Option<Value>,
    /// The success responses.
    ok: Map<String, Value>,
    /// Said after who may call it.
    extra: String,
}

fn operation(names: &TenantNames, v: &View<'_>, filters: &[Value], op: Op) -> Value {
    let mut o = Map::new();
    o.insert("operationId".into(), json!(format!("{}_{}", op.method, v.name)));
    o.insert("tags".into(), json!([v.entity().name.as_str()]));
    o.insert("summary".into(), json!(op.summary));
    let mut text = format!("Allowed to {}.", who(names, op.rule, op.cmd));
    if !op.extra.is_empty() {
        text.push(' ');
        text.push_str(&op.extra);
    }
    o.insert("description".into(), json!(text));
    let mut params = op.params;
    if op.cmd != Cmd::Create {
        params.extend(filters.iter().cloned());
    }
    o.insert("parameters".into(), Value::Array(params));
    if let Some(b) = op.body {
        o.insert("requestBody".into(), b);
    }
    let mut responses = op.ok;
    responses.extend(error_responses(op.cmd != Cmd::Read));
    o.insert("responses".into(), Value::Object(responses));
    o.insert("security".into(), security(op.rule));
    Value::Object(o)
}

/// The path item of one view: only the methods some rule allows.
fn path_item(names: &TenantNames, v: &View<'_>) -> Value {
    let mut item = Map::new();
    item.insert("summary".into(), json!(v.title));
    item.insert("description".into(), json!(v.description));
    let row_ref = json!({"$ref": format!("#/components/schemas/{}", v.name)});
    let rows = json!({"type": "array", "items": row_ref});
    let filters = filter_params(v);
    let read_note = match v.access.read {
        Rule::None => {
            "Nobody may read this view, so Prefer: return=representation fails with 42501.".to_string()
        }
        rule => format!(
            "Prefer: return=representation returns the rows; it needs the read rule too, which allows {}.",
            who(names, rule, Cmd::Read)
        ),
    };
    let a = v.access;
    if a.read != Rule::None {
        let body = json!({
            "application/json": {"schema": rows},
            "application/vnd.pgrst.object+json": {"schema": row_ref},
        });
        let range = json!({"Content-Range": {"$ref": "#/components/headers/Content-Range"}});
        let mut ok = Map::new();
        ok.insert(
            "200".into(),
            json!({"description": "The rows the caller may read; row-level security leaves out the others without an error.", "headers": range, "content": body}),
        );
        ok.insert(
            "206".into(),
            json!({"description": "Part of the rows (a Range or limit with a known count).", "headers": range, "content": body}),
        );
        let params = vec![
            param_ref("acceptProfile"),
            select_param(v),
            param_ref("order"),
            param_ref("limit"),
            param_ref("offset"),
            param_ref("or"),
            param_ref("and"),
            param_ref("range"),
            param_ref("rangeUnit"),
            param_ref("preferCount"),
        ];
        let op = Op {
            method: "get",
            rule: a.read,
            cmd: Cmd::Read,
            summary: format!("Read {}", v.title),
            params,
            body: None,
            ok,
            extra: String::new(),
        };
        item.insert("get".into(), operation(names, v, &filters, op));
    }
    if a.create != Rule::None {
        let insert = json!({"$ref": format!("#/components/schemas/{}.insert", v.name)});
        let body = json!({
            "required": true,
            "description": "One record, or an array of records inserted together.",
            "content": content(&json!({"oneOf": [insert, {"type": "array", "items": insert}]})),
        });
        let mut ok = Map::new();
        ok.insert(
            "201".into(),
            json!({"description": "Created. With Prefer: return=representation the body holds the new rows.", "content": content(&rows)}),
        );
        let op = Op {
            method: "post",
            rule: a.create,
            cmd: Cmd::Create,
            summary: format!("Create {}", v.title),
            params: vec![
                param_ref("contentProfile"),
                param_ref("preferInsert"),
                select_param(v),
            ],
            body: Some(body),
            ok,
            extra: read_note.clone(),
        };
        item.insert("post".into(), operation(names, v, &filters, op));
    }
    for (method, rule, cmd, verb) in [
        ("patch", a.update, Cmd::Update, "updated"),
        ("delete", a.delete, Cmd::Delete, "deleted"),
    ] {
        if rule == Rule::None {
            continue;
        }
        let body = (cmd == Cmd::Update).then(|| {
            let update = json!({"$ref": format!("#/components/schemas/{}.update", v.name)});
            json!({"required": true, "content": content(&update)})
        });
        let op = Op {
            method,
            rule,
            cmd,
            summary: format!("{} {}", if cmd == Cmd::Update { "Update" } else { "Delete" }, v.title),
            params: vec![param_ref("contentProfile"), param_ref("preferWrite"), select_param(v)],
            body,
            ok: changed_responses(&rows, verb),
            extra: format!(
                "Every row matching the filters is {verb} (without filters: every row the caller may change); rows the rules hide are skipped silently. {read_note}"
            ),
        };
        item.insert(method.into(), operation(names, v, &filters, op));
    }
    Value::Object(item)
}

fn changed_responses(rows: &Value, verb: &str) -> Map<String, Value> {
    let mut ok = Map::new();
    ok.insert(
        "200".into(),
        json!({"description": format!("The {verb} rows (Prefer: return=representation)."), "content": {"application/json": {"schema": rows}}}),
    );
    ok.insert(
        "204".into(),
        json!({"description": format!("Done (Prefer: return=minimal, the default); zero rows {verb} is not an error.")}),
    );
    ok
}

/// What an operation does, for describing who may do it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmd {
    /// GET.
    Read,
    /// POST.
    Create,
    /// PATCH.
    Update,
    /// DELETE.
    Delete,
}

/// Who a rule lets do a command, as a phrase completing "Allowed to ...".
pub(crate) fn who(names: &TenantNames, rule: Rule, cmd: Cmd) -> String {
    let tenant = names.slug.as_str();
    let roles = format!(
        "(JWT role {} or {}, claim tenant {tenant})",
        names.user_role, names.admin_role
    );
    match (rule, cmd) {
        (Rule::Public, _) => format!(
            "everyone, anonymous requests included (they run as {})",
            names.anon_role
        ),
        (Rule::Tenant, _) => format!("the users and admins of tenant {tenant} {roles}"),
        (Rule::Owner, Cmd::Create) => format!(
            "the users and admins of tenant {tenant} {roles}; owner_id is set to the caller's sub claim"
        ),
        (Rule::Owner, _) => format!(
            "users on the rows they own (owner_id equal to their sub claim) and the admins of tenant {tenant} on every row {roles}"
        ),
        (Rule::Admin, _) => format!("the admins of tenant {tenant} only (JWT role {})", names.admin_role),
        (Rule::None, _) => "nobody over the API".into(),
    }
}

/// `select`, with the relations this view can embed.
fn select_param(v: &View<'_>) -> Value {
    let columns: Vec<&str> = v.columns.iter().map(|c| c.name.as_str()).collect();
    let mut text = format!(
        "Columns to return, comma-separated (default *): {}. A column can be renamed (alias:column) or cast (column::text).",
        columns.join(", ")
    );
    if let Source::Entity(e) = v.source {
        let embeds = embeddings(e);
        if !embeds.is_empty() {
            let list: Vec<String> = embeds.iter().map(|(s, what)| format!("{s} for {what}")).collect();
            text.push_str(&format!(" Embeddable: {}.", list.join("; ")));
        }
    }
    json!({"name": "select", "in": "query", "required": false, "description": text, "schema": {"type": "string"}})
}

/// One horizontal filter parameter per column: `?<column>=<op>.<value>`.
fn filter_params(v: &View<'_>) -> Vec<Value> {
    v.columns
        .iter()
        .map(|c| {
            let ops = filter_ops(c);
            let mut text = format!(
                "Filter on {} ({}): ?{}=<operator>.<value>, operators {}; not.<operator> negates.",
                c.name,
                c.title,
                c.name,
                ops.join(", ")
            );
            if c.ty == FieldType::Scalar(Scalar::Json) {
                text.push_str(&format!(" Keys are reached with {0}->key or {0}->>key.", c.name));
            }
            if indexed(v, c) {
                text.push_str(" Indexed.");
            }
            json!({"name": c.name, "in": "query", "required": false, "description": text, "schema": {"type": "string"}})
        })
        .collect()
}

/// The PostgREST operators that make sense on a column.
fn filter_ops(c: &Column<'_>) -> Vec<&'static str> {
    let mut ops: Vec<&'static str> = match &c.ty {
        FieldType::Array(_) => vec!["eq", "neq", "cs", "cd", "ov"],
        FieldType::Scalar(Scalar::Json) => vec!["eq", "neq", "cs", "cd"],
        FieldType::Scalar(Scalar::Boolean) => vec!["eq", "neq", "is"],
        FieldType::Scalar(s) => {
            let mut ops = vec!["eq", "neq", "lt", "lte", "gt", "gte"];
            if matches!(s, Scalar::Text | Scalar::Enum(_) | Scalar::Email | Scalar::Url) {
                ops.extend(["like", "ilike", "match", "imatch"]);
            }
            ops.push("in");
            ops
        }
    };
    if c.nullable && !ops.contains(&"is") {
        ops.push("is");
    }
    ops
}

/// Whether a filter on the column alone can use an index (its own, or a
/// compound index it leads).
fn indexed(v: &View<'_>, c: &Column<'_>) -> bool {
    use super::model::Role;
    let own = match c.role {
        Role::Id => true,
        Role::Field(f) | Role::RelationColumn(f, _) => f.index || f.unique,
        // The junction's primary key starts with the source; the target has its own index.
        Role::JunctionRef => true,
        Role::CreatedAt | Role::UpdatedAt | Role::Owner => false,
    };
    own || match v.source {
        Source::Entity(e) => e
            .indexes
            .iter()
            .any(|i| i.columns.first().map(|n| n.as_str()) == Some(c.name.as_str())),
        Source::Junction(..) => false,
    }
}
