//! The content hash: SHA-256 of the canonical JSON of a plan without its
//! `hash` field. Canonical JSON has object keys sorted by code point, no
//! white space, and serde_json's number and string forms (shortest
//! round-trip floats, minimal escapes), so it does not depend on field order
//! or pretty-printing.

use super::Plan;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io;

pub fn content_hash(plan: &Plan) -> String {
    let mut value = serde_json::to_value(plan).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.remove("hash");
    }
    let mut hasher = HashWriter(Sha256::new());
    // A `Value`'s objects are ordered maps, so its compact form is already
    // canonical; it streams into the hasher without an intermediate string.
    let _ = serde_json::to_writer(&mut hasher, &value);
    let mut hex = String::with_capacity(64);
    for byte in hasher.0.finalize() {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
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
    use serde_json::json;

    #[test]
    fn canonical_form_sorts_keys_and_drops_space() {
        // Written in another key order than it prints: the map sorts.
        let value = json!({"b": [1, 2.5, "x"], "a": {"d": null, "c": true}});
        let text = serde_json::to_string(&value).unwrap_or_default();
        assert_eq!(text, r#"{"a":{"c":true,"d":null},"b":[1,2.5,"x"]}"#);
    }
}
