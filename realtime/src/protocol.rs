//! The Phoenix messages the Realtime protocol is made of, and the
//! `postgres_changes` bindings a join asks for (event, schema, table, filter).
//! Protocol 2.0.0 sends arrays `[join_ref, ref, topic, event, payload]`,
//! 1.0.0 objects; the server answers in the form the client spoke.

use serde_json::{json, Map, Value};
use std::cmp::Ordering;

/// Message form: 1.0.0 (objects) or 2.0.0 (arrays).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Wire {
    V1,
    V2,
}

/// One message from a client.
#[derive(Clone, Debug, PartialEq)]
pub struct Msg {
    pub join_ref: Option<String>,
    pub msg_ref: Option<String>,
    pub topic: String,
    pub event: String,
    pub payload: Value,
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads a client message; None for anything that is not one.
pub fn parse(raw: &str) -> Option<(Msg, Wire)> {
    match serde_json::from_str::<Value>(raw).ok()? {
        Value::Array(a) if a.len() == 5 => Some((
            Msg {
                join_ref: text(a.first()),
                msg_ref: text(a.get(1)),
                topic: a[2].as_str()?.to_string(),
                event: a[3].as_str()?.to_string(),
                payload: a[4].clone(),
            },
            Wire::V2,
        )),
        Value::Object(o) => Some((
            Msg {
                join_ref: text(o.get("join_ref")),
                msg_ref: text(o.get("ref")),
                topic: o.get("topic")?.as_str()?.to_string(),
                event: o.get("event")?.as_str()?.to_string(),
                payload: o.get("payload").cloned().unwrap_or(Value::Null),
            },
            Wire::V1,
        )),
        _ => None,
    }
}

/// A message to a client; `payload` is JSON text already.
pub fn encode(
    wire: Wire,
    join_ref: Option<&str>,
    msg_ref: Option<&str>,
    topic: &str,
    event: &str,
    payload: &str,
) -> String {
    let q = |s: &str| Value::String(s.to_string()).to_string();
    let r = |s: Option<&str>| s.map_or("null".to_string(), q);
    match wire {
        Wire::V2 => format!(
            "[{},{},{},{},{payload}]",
            r(join_ref),
            r(msg_ref),
            q(topic),
            q(event)
        ),
        Wire::V1 => format!(
            "{{\"join_ref\":{},\"ref\":{},\"topic\":{},\"event\":{},\"payload\":{payload}}}",
            r(join_ref),
            r(msg_ref),
            q(topic),
            q(event)
        ),
    }
}

/// A reply to a client's message (`phx_reply`).
pub fn reply(wire: Wire, m: &Msg, status: &str, response: Value) -> String {
    let payload = json!({"status": status, "response": response}).to_string();
    encode(
        wire,
        m.join_ref.as_deref(),
        m.msg_ref.as_deref(),
        &m.topic,
        "phx_reply",
        &payload,
    )
}

/// Which operations a binding wants.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Event {
    All,
    Insert,
    Update,
    Delete,
}

impl Event {
    pub fn wants(self, op: Op) -> bool {
        matches!(
            (self, op),
            (Event::All, _)
                | (Event::Insert, Op::Insert)
                | (Event::Update, Op::Update)
                | (Event::Delete, Op::Delete)
        )
    }
}

/// A change's operation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    Insert,
    Update,
    Delete,
}

impl Op {
    pub fn from_log(op: &str) -> Option<Op> {
        match op {
            "insert" => Some(Op::Insert),
            "update" => Some(Op::Update),
            "delete" => Some(Op::Delete),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Op::Insert => "INSERT",
            Op::Update => "UPDATE",
            Op::Delete => "DELETE",
        }
    }
}

/// The comparison operators realtime-js sends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cmp {
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    In,
}

/// `column=op.value`, as realtime-js sends it.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    pub column: String,
    pub cmp: Cmp,
    pub values: Vec<String>,
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, String> {
        let bad = || {
            format!("invalid filter {text:?}: use column=op.value, op one of eq, neq, lt, lte, gt, gte, in")
        };
        let (column, rest) = text.split_once('=').ok_or_else(bad)?;
        let (op, value) = rest.split_once('.').ok_or_else(bad)?;
        let cmp = match op {
            "eq" => Cmp::Eq,
            "neq" => Cmp::Neq,
            "lt" => Cmp::Lt,
            "lte" => Cmp::Lte,
            "gt" => Cmp::Gt,
            "gte" => Cmp::Gte,
            "in" => Cmp::In,
            _ => return Err(bad()),
        };
        let values = if cmp == Cmp::In {
            let inner = value
                .strip_prefix('(')
                .and_then(|v| v.strip_suffix(')'))
                .ok_or_else(bad)?;
            split_list(inner)
        } else {
            vec![value.to_string()]
        };
        if column.is_empty() || values.is_empty() || values.len() > 100 {
            return Err(bad());
        }
        Ok(Filter {
            column: column.to_string(),
            cmp,
            values,
        })
    }

    /// Does the record pass? A missing or null column passes nothing (as SQL).
    pub fn matches(&self, record: &Map<String, Value>) -> bool {
        let Some(v) = record.get(&self.column) else {
            return false;
        };
        let ord = |t: &str| compare(v, t);
        match self.cmp {
            Cmp::Eq => ord(&self.values[0]) == Some(Ordering::Equal),
            Cmp::Neq => matches!(ord(&self.values[0]), Some(o) if o != Ordering::Equal),
            Cmp::Lt => ord(&self.values[0]) == Some(Ordering::Less),
            Cmp::Lte => matches!(ord(&self.values[0]), Some(Ordering::Less | Ordering::Equal)),
            Cmp::Gt => ord(&self.values[0]) == Some(Ordering::Greater),
            Cmp::Gte => matches!(ord(&self.values[0]), Some(Ordering::Greater | Ordering::Equal)),
            Cmp::In => self.values.iter().any(|t| ord(t) == Some(Ordering::Equal)),
        }
    }
}

/// `a,"b c",d` → [a, b c, d].
fn split_list(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut cur, mut quoted) = (String::new(), false);
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

/// A record's value against a filter's text: numbers as numbers, booleans as
/// booleans, text by bytes (ISO dates and uuids order that way); None when
/// they cannot be compared.
fn compare(v: &Value, t: &str) -> Option<Ordering> {
    match v {
        Value::Null => None,
        Value::Number(n) => n.as_f64()?.partial_cmp(&t.parse::<f64>().ok()?),
        Value::Bool(b) => match t {
            "true" | "t" => Some(b.cmp(&true)),
            "false" | "f" => Some(b.cmp(&false)),
            _ => None,
        },
        Value::String(s) => Some(s.as_str().cmp(t)),
        other => serde_json::from_str::<Value>(t)
            .ok()
            .filter(|v| v == other)
            .map(|_| Ordering::Equal),
    }
}

/// One `postgres_changes` binding of a joined channel.
#[derive(Clone, Debug)]
pub struct Binding {
    pub id: u32,
    pub event: Event,
    pub schema: String,
    /// None: every entity of the schema (table `*` or left out).
    pub table: Option<String>,
    pub filter: Option<Filter>,
    /// The binding as the client sent it, with its id: the reply echoes it,
    /// since realtime-js compares each field.
    pub echo: Value,
}

impl Binding {
    pub fn parse(v: &Value, id: u32) -> Result<Binding, String> {
        let o = v
            .as_object()
            .ok_or("each postgres_changes binding is an object")?;
        let field = |k: &str| o.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
        let event = match field("event").unwrap_or("*") {
            "*" => Event::All,
            "INSERT" => Event::Insert,
            "UPDATE" => Event::Update,
            "DELETE" => Event::Delete,
            e => return Err(format!("unknown event {e:?}: use *, INSERT, UPDATE or DELETE")),
        };
        let schema = field("schema").ok_or("a postgres_changes binding names its schema (the tenant)")?;
        let table = field("table").filter(|t| *t != "*").map(String::from);
        let filter = field("filter").map(Filter::parse).transpose()?;
        let mut echo = o.clone();
        echo.insert("id".into(), json!(id));
        Ok(Binding {
            id,
            event,
            schema: schema.to_string(),
            table,
            filter,
            echo: Value::Object(echo),
        })
    }

    /// Does this binding want a change of `op` on `entity`, whose record (or,
    /// for a delete, old row) is `record`?
    pub fn wants(&self, entity: &str, op: Op, record: &Map<String, Value>) -> bool {
        self.event.wants(op)
            && self.table.as_deref().is_none_or(|t| t == entity)
            && self.filter.as_ref().is_none_or(|f| f.matches(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_message_forms_are_read_and_written() {
        let (m, w) = parse(r#"["6","6","realtime:c","phx_join",{"config":{}}]"#).unwrap();
        assert_eq!(
            (w, m.topic.as_str(), m.event.as_str()),
            (Wire::V2, "realtime:c", "phx_join")
        );
        assert_eq!(
            reply(w, &m, "ok", json!({})),
            r#"["6","6","realtime:c","phx_reply",{"response":{},"status":"ok"}]"#
        );
        let (m, w) = parse(r#"{"topic":"phoenix","event":"heartbeat","payload":{},"ref":7}"#).unwrap();
        assert_eq!((w, m.msg_ref.as_deref()), (Wire::V1, Some("7")));
        assert!(parse("[1,2]").is_none() && parse("nonsense").is_none());
    }

    #[test]
    fn filters_compare_by_type() {
        let rec = json!({"n": 5, "s": "b", "ok": true, "none": null})
            .as_object()
            .unwrap()
            .clone();
        let yes = [
            "n=eq.5",
            "n=gt.4.5",
            "n=lte.5",
            "s=lt.c",
            "s=in.(a,b)",
            "ok=eq.true",
            "n=neq.6",
            "s=in.(\"b\")",
        ];
        for f in yes {
            assert!(Filter::parse(f).unwrap().matches(&rec), "{f}");
        }
        let no = [
            "n=eq.6",
            "n=gt.5",
            "s=gte.c",
            "s=in.(a,c)",
            "none=eq.null",
            "none=neq.1",
            "missing=eq.1",
            "n=eq.x",
        ];
        for f in no {
            assert!(!Filter::parse(f).unwrap().matches(&rec), "{f}");
        }
        for bad in ["n", "n=like.5", "n=in.5", "=eq.1", "n=in.()"] {
            assert!(Filter::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bindings_echo_what_was_sent() {
        let b = Binding::parse(&json!({"event": "INSERT", "schema": "acme", "table": "notes"}), 9).unwrap();
        assert_eq!(
            b.echo,
            json!({"event": "INSERT", "schema": "acme", "table": "notes", "id": 9})
        );
        let rec = Map::new();
        assert!(
            b.wants("notes", Op::Insert, &rec)
                && !b.wants("notes", Op::Delete, &rec)
                && !b.wants("x", Op::Insert, &rec)
        );
        let all = Binding::parse(&json!({"event": "*", "schema": "acme"}), 1).unwrap();
        assert!(all.wants("anything", Op::Delete, &rec));
        assert!(Binding::parse(&json!({"event": "TRUNCATE", "schema": "acme"}), 1).is_err());
    }
}
