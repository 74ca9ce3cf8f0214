//! Sample tenants for the documentation tests: `shop` uses every field type,
//! every relation kind and every access rule; `notes` is small enough to read
//! as a golden file.

use crate::plan::Labels;
use crate::types::Entity;
use crate::validate::{tests::TestEnv, validate};
use serde_json::{json, Value};

/// Validates definitions as the extension does with stored ones.
pub(crate) fn entities(defs: &[Value]) -> Vec<(Entity, Labels)> {
    defs.iter()
        .map(|d| {
            let v = validate(d, &TestEnv::new()).unwrap_or_else(|e| panic!("invalid sample {d}: {e:?}"));
            let labels = Labels::of(&v.normalized);
            (v.entity, labels)
        })
        .collect()
}

/// Tenant `shop`: every type, relation kind and rule.
pub(crate) fn shop_defs() -> Vec<Value> {
    vec![
        json!({
            "tenant": "shop", "name": "customers", "label": "Customer",
            "description": "People who buy.",
            "fields": [
                {"name": "name", "type": "text", "required": true, "min_length": 1, "max_length": 100},
                {"name": "email", "type": "email", "unique": true, "description": "Where receipts go."},
                {"name": "tier", "type": "enum", "values": ["basic", "pro", "it's \"vip\""], "default": "basic"},
                {"name": "vip", "type": "boolean", "required": true, "default": false},
                {"name": "profile", "type": "json"},
                {"name": "signup", "type": "date", "min": "2020-01-01", "index": true},
                {"name": "website", "type": "url"},
                {"name": "orders", "type": "relation", "kind": "one_to_many", "target": "orders", "inverse": "customer"}
            ],
            "access": {"read": "tenant", "create": "tenant", "update": "owner", "delete": "admin"}
        }),
        json!({
            "tenant": "shop", "name": "products", "label": "Product",
            "fields": [
                {"name": "name", "type": "text", "required": true},
                {"name": "sku", "type": "text", "pattern": "^[A-Z]{3}-\\d{4}$", "unique": true},
                {"name": "code", "type": "text", "pattern": "^\\w+$"},
                {"name": "blurb", "type": "text", "pattern": "^.{0,5}$"},
                {"name": "price", "type": "decimal", "precision": 10, "scale": 2, "min": 0, "required": true},
                {"name": "weight", "type": "float", "min": 0.5},
                {"name": "stock", "type": "integer", "min": 0, "default": 0, "required": true},
                {"name": "views", "type": "bigint"},
                {"name": "tags", "type": "array", "items": "enum", "values": ["new", "sale"], "default": []},
                {"name": "sizes", "type": "array", "items": "integer"},
                {"name": "released_at", "type": "timestamp", "default": "now"},
                {"name": "opens", "type": "time", "min": "08:00"}
            ],
            "indexes": [{"fields": ["created_at", "name"]}],
            "access": {"read": "public", "create": "admin", "update": "admin", "delete": "admin"}
        }),
        json!({
            "tenant": "shop", "name": "orders", "label": "Order",
            "fields": [
                {"name": "title", "type": "text", "required": true, "max_length": 200},
                {"name": "status", "type": "state", "states": ["draft", "paid", "shipped"], "initial": "draft",
                 "transitions": [{"name": "pay", "from": "draft", "to": "paid", "who": "owner", "guard": {"total": {"gt": 0}}},
                                 {"name": "ship", "from": "paid", "to": "shipped", "who": "admin"}]},
                {"name": "total", "type": "decimal", "precision": 12, "scale": 2, "min": "0.5", "max": 1000},
                {"name": "placed", "type": "date", "default": "today"},
                {"name": "ref", "type": "uuid", "default": "uuid"},
                {"name": "customer", "type": "relation", "kind": "many_to_one", "target": "customers", "required": true},
                {"name": "invoice", "type": "relation", "kind": "one_to_one", "target": "invoices", "on_delete": "set_null"},
                {"name": "products", "type": "relation", "kind": "many_to_many", "target": "products", "label": "Items"},
                {"name": "notes", "type": "array", "items": "text"}
            ],
            "access": {"read": "tenant", "create": "tenant", "update": "owner", "delete": "none"}
        }),
        json!({
            "tenant": "shop", "name": "invoices",
            "fields": [
                {"name": "number", "type": "text", "required": true},
                {"name": "amount", "type": "decimal"}
            ],
            "access": {"read": "admin", "create": "admin", "update": "none", "delete": "none"}
        }),
        json!({
            "tenant": "shop", "name": "audit",
            "fields": [{"name": "message", "type": "text"}],
            "access": {"read": "none", "create": "none", "update": "none", "delete": "none"}
        }),
    ]
}

/// Tenant `notes`: two small entities, for golden files.
pub(crate) fn notes_defs() -> Vec<Value> {
    vec![
        json!({
            "tenant": "notes", "name": "notes", "description": "A note */ with \"quotes\".",
            "fields": [
                {"name": "body", "type": "text", "required": true, "max_length": 500},
                {"name": "mood", "type": "enum", "values": ["ok", "good"], "default": "ok"},
                {"name": "stage", "type": "state", "states": ["draft", "published"], "initial": "draft",
                 "transitions": [{"name": "publish", "from": "draft", "to": "published", "who": "owner"}]},
                {"name": "folder", "type": "relation", "kind": "many_to_one", "target": "folders"}
            ],
            "access": {"read": "public", "create": "tenant", "update": "owner", "delete": "owner"}
        }),
        json!({
            "tenant": "notes", "name": "folders",
            "fields": [{"name": "name", "type": "text", "required": true}],
            "access": {"read": "tenant", "create": "admin", "update": "none", "delete": "none"}
        }),
    ]
}
