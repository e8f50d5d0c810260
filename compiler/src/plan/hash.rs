//! Content hashes: SHA-256 of the canonical JSON of a value without its
//! `hash` field. Canonical JSON has object keys sorted by code point (the
//! sort is done here, so the form never depends on how serde_json's maps
//! keep their keys), no white space, and serde_json's number and string
//! forms (shortest round-trip floats, minimal escapes); it does not depend
//! on field order or pretty-printing. Plans and deployments are hashed the
//! same way.

use super::Plan;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io::{self, Write};

pub fn content_hash(plan: &Plan) -> String {
    hash_without_field(plan)
}

/// The hash of `value`'s canonical JSON, its top-level `hash` field left out.
pub fn hash_without_field(value: &impl Serialize) -> String {
    let mut value = serde_json::to_value(value).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.remove("hash");
    }
    let mut hasher = HashWriter(Sha256::new());
    // Streams into the hasher without an intermediate string; writing into
    // a hasher never fails.
    let _ = write_canonical(&mut hasher, &value);
    let mut hex = String::with_capacity(64);
    for byte in hasher.0.finalize() {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// Writes the canonical form of `value`.
pub fn write_canonical(out: &mut impl Write, value: &Value) -> io::Result<()> {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.write_all(b"{")?;
            for (i, (key, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                serde_json::to_writer(&mut *out, key).map_err(io::Error::other)?;
                out.write_all(b":")?;
                write_canonical(out, v)?;
            }
            out.write_all(b"}")
        }
        Value::Array(items) => {
            out.write_all(b"[")?;
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                write_canonical(out, v)?;
            }
            out.write_all(b"]")
        }
        scalar => serde_json::to_writer(&mut *out, scalar).map_err(io::Error::other),
    }
}

struct HashWriter(Sha256);

impl io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::write_canonical;
    use serde_json::{json, Map, Value};

    fn canonical(v: &Value) -> String {
        let mut out = Vec::new();
        write_canonical(&mut out, v).unwrap_or_default();
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn canonical_form_sorts_keys_and_drops_space() {
        // Written in another key order than it prints: the writer sorts.
        let value = json!({"b": [1, 2.5, "x\"y"], "a": {"d": null, "c": true}, "가": 50.0});
        assert_eq!(canonical(&value), r#"{"a":{"c":true,"d":null},"b":[1,2.5,"x\"y"],"가":50.0}"#);
    }

    #[test]
    fn canonical_form_does_not_depend_on_insertion_order() {
        let mut one = Map::new();
        one.insert("z".into(), json!(1));
        one.insert("a".into(), json!({"y": 2, "b": 3}));
        let mut two = Map::new();
        two.insert("a".into(), json!({"b": 3, "y": 2}));
        two.insert("z".into(), json!(1));
        assert_eq!(canonical(&Value::Object(one)), canonical(&Value::Object(two)));
    }

    #[test]
    fn the_canonical_form_is_what_earlier_versions_hashed() {
        // Earlier versions hashed serde_json's compact form of sorted maps:
        // the same bytes, so stored plans keep their hash.
        let value = json!({"steps": [{"op": {"type": "wait", "seconds": 86400}}], "name": "c", "ratio": 0.1});
        assert_eq!(
            canonical(&value),
            r#"{"name":"c","ratio":0.1,"steps":[{"op":{"seconds":86400,"type":"wait"}}]}"#
        );
    }
}
