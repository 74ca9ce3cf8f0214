//! Structured logs: one JSON object per line on standard error.

use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

fn write(level: &str, msg: &str, fields: Value) {
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let mut line = json!({"ts": (ts * 1000.0).round() / 1000.0, "level": level, "msg": msg});
    if let (Some(l), Value::Object(f)) = (line.as_object_mut(), fields) {
        l.extend(f);
    }
    eprintln!("{line}");
}

pub fn info(msg: &str, fields: Value) {
    write("info", msg, fields);
}

pub fn warn(msg: &str, fields: Value) {
    write("warn", msg, fields);
}
