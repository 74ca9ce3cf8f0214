//! The parts of the OpenAPI document that every path shares: PostgREST's
//! query parameters and headers, its error body and error responses, and the
//! two security schemes Cot wires (a JWT, an API key).

use crate::access::Rule;
use crate::names::TenantNames;
use serde_json::{json, Map, Value};

/// A `$ref` to a shared parameter.
pub fn param_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/parameters/{name}")})
}

/// The shared parameters. The profile headers take the tenant's slug: Cot
/// serves every tenant from one PostgREST, and without the header PostgREST
/// would pick the first schema it serves, which is some other tenant's (unless
/// a proxy sets the header; docs/postgrest.md).
pub fn parameters(names: &TenantNames) -> Value {
    let tenant = names.slug.as_str();
    let profile = |header: &str, what: &str| {
        json!({
            "name": header, "in": "header", "required": true,
            "description": format!("The tenant's API schema, {tenant}, for {what}. A reverse proxy may set it instead of the client."),
            "schema": {"type": "string", "enum": [tenant], "default": tenant},
        })
    };
    let query = |name: &str, description: &str| json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}});
    let count = |name: &str, description: &str| json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "integer", "minimum": 0}});
    json!({
        "acceptProfile": profile("Accept-Profile", "reading"),
        "contentProfile": profile("Content-Profile", "writing"),
        "order": query("order", "Sort order: column[.asc|.desc][.nullsfirst|.nullslast], comma-separated (order=created_at.desc,id)."),
        "limit": count("limit", "At most this many rows."),
        "offset": count("offset", "Skip this many rows first."),
        "or": query("or", "Rows matching any of the filters in parentheses: or=(status.eq.paid,total.gt.100)."),
        "and": query("and", "Rows matching all of the filters in parentheses; nests with or: and=(a.eq.1,or(b.eq.2,c.eq.3))."),
        "range": {
            "name": "Range", "in": "header", "required": false,
            "description": "Rows first-last, counted from 0 (0-24): the same as offset and limit.",
            "schema": {"type": "string", "pattern": "^[0-9]+-[0-9]*$"},
        },
        "rangeUnit": {
            "name": "Range-Unit", "in": "header", "required": false,
            "description": "The unit of Range: items.",
            "schema": {"type": "string", "enum": ["items"]},
        },
        "preferCount": {
            "name": "Prefer", "in": "header", "required": false,
            "description": "Ask for the number of matching rows, returned in Content-Range (0-24/3573): exact counts them (a full count), planned and estimated use the planner's statistics.",
            "schema": {"type": "string", "enum": ["count=exact", "count=planned", "count=estimated"]},
        },
        "preferInsert": {
            "name": "Prefer", "in": "header", "required": false,
            "description": "Comma-separated preferences: return=minimal (the default, no body), return=headers-only (Location), return=representation (the new rows); missing=default makes keys absent from some records of an array take the column's default instead of NULL; count=exact.",
            "schema": {"type": "string"},
            "examples": {"representation": {"value": "return=representation"}, "bulk": {"value": "return=representation,missing=default"}},
        },
        "preferWrite": {
            "name": "Prefer", "in": "header", "required": false,
            "description": "Comma-separated preferences: return=minimal (the default, 204), return=representation (the changed rows, 200); count=exact (the number of rows in Content-Range).",
            "schema": {"type": "string"},
            "examples": {"representation": {"value": "return=representation"}},
        },
    })
}

/// The response headers the paths use.
pub fn headers() -> Value {
    json!({
        "Content-Range": {
            "description": "The range of rows returned and, when counted (Prefer: count=...), the total: 0-24/3573, or 0-24/* without a count.",
            "schema": {"type": "string"},
        },
    })
}

/// PostgREST's error body: a PostgreSQL error (code is its SQLSTATE) or one
/// of PostgREST's own (PGRSTxxx). All four keys are always present.
pub fn error_schema() -> Value {
    json!({
        "title": "PostgREST error",
        "type": "object",
        "properties": {
            "code": {"type": "string", "description": "SQLSTATE (23505, 42501, PT401, ...) or a PostgREST code (PGRST...)."},
            "message": {"type": "string"},
            "details": {"type": ["string", "null"]},
            "hint": {"type": ["string", "null"]},
        },
        "required": ["code", "message", "details", "hint"],
    })
}

/// The shared error responses.
pub fn responses() -> Value {
    let error = |description: &str| {
        json!({
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PostgrestError"}}},
        })
    };
    json!({
        "BadRequest": error("Malformed request: an unknown column or operator in a filter, a value of the wrong type, or a value that breaks a rule of the entity (23514 check, 23502 not null, 22P02 invalid text)."),
        "Unauthorized": error("No valid credentials: an expired or forged JWT, an unknown or malformed API key (PT401), or an anonymous request that the rules do not allow (42501)."),
        "Forbidden": error("The role may not do this (42501), or the API key was revoked or has expired (PT403)."),
        "NotFound": error("No such view in this profile (it may not be loaded yet right after a change)."),
        "NotAcceptable": error("An unknown profile in Accept-Profile or Content-Profile, or application/vnd.pgrst.object+json when the result is not exactly one row."),
        "Conflict": error("The write conflicts with other rows: a unique value already used (23505) or a relation pointing to a missing row, or a delete of a row still referenced (23503)."),
    })
}

/// The error responses of an operation (writes can also conflict).
pub fn error_responses(write: bool) -> Map<String, Value> {
    let mut m = Map::new();
    let mut add = |code: &str, name: &str| {
        m.insert(
            code.into(),
            json!({"$ref": format!("#/components/responses/{name}")}),
        );
    };
    add("400", "BadRequest");
    add("401", "Unauthorized");
    add("403", "Forbidden");
    add("404", "NotFound");
    add("406", "NotAcceptable");
    if write {
        add("409", "Conflict");
    }
    m
}

/// The security schemes: what PostgREST and `cot.pre_request()` accept.
pub fn security_schemes(names: &TenantNames) -> Value {
    let tenant = names.slug.as_str();
    json!({
        "bearerAuth": {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": format!(
                "A JWT signed with PostgREST's jwt-secret (HS256). Claims: role, the role the request runs as \
                 ({} or {}; {} for anonymous access); tenant, which must be \
                 {tenant} (every policy checks it, so a token of another tenant sees and changes nothing); sub, the end \
                 user (owner rules compare it with owner_id); exp.",
                names.user_role, names.admin_role, names.anon_role
            ),
        },
        "apiKey": {
            "type": "apiKey", "in": "header", "name": "x-api-key",
            "description": format!(
                "A key from cot.create_api_key('{tenant}', role), exchanged by cot.pre_request() for the claims of its \
                 role, tenant and sub. Unknown or malformed: 401 (PT401); revoked or expired: 403 (PT403)."
            ),
        },
    })
}

/// An operation's security: a public rule also accepts requests without
/// credentials (the empty requirement).
pub fn security(rule: Rule) -> Value {
    if rule == Rule::Public {
        json!([{}, {"bearerAuth": []}, {"apiKey": []}])
    } else {
        json!([{"bearerAuth": []}, {"apiKey": []}])
    }
}
