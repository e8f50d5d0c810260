//! The content hash: SHA-256 of the canonical JSON of a plan without its
//! `hash` field. Canonical JSON has object keys sorted by code point, no
//! white space, and serde_json's number and string forms (shortest
//! round-trip floats, minimal escapes), so it does not depend on field order
//! or pretty-printing.

use super::Plan;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt::Write;

pub fn content_hash(plan: &Plan) -> String {
    let mut value = serde_json::to_value(plan).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.remove("hash");
    }
    let mut text = String::new();
    canonical(&value, &mut text);
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                scalar(&Value::String(k.clone()), out);
                out.push(':');
                canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(v, out);
            }
            out.push(']');
        }
        other => scalar(other, out),
    }
}

fn scalar(value: &Value, out: &mut String) {
    // Strings, numbers, booleans and null always serialize.
    out.push_str(&serde_json::to_string(value).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_form_sorts_keys_and_drops_space() {
        let mut s = String::new();
        canonical(&json!({"b": [1, 2.5, "x"], "a": {"d": null, "c": true}}), &mut s);
        assert_eq!(s, r#"{"a":{"c":true,"d":null},"b":[1,2.5,"x"]}"#);
    }
}
