//! Inlay hints: after each message's text, its worst-case length against
//! the limit of each channel it is sent on ("SMS 84/90 bytes").

use super::hover::size_label;
use super::Db;
use camp_compiler::facts::MessageSize;
use camp_compiler::FileId;
use camp_grammar::ast::{Item, MessagePart};

/// A hint to show at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub offset: usize,
    pub label: String,
    pub tooltip: String,
}

pub fn hints(db: &Db, file: FileId) -> Vec<Hint> {
    let Some(ast) = db.analysis.asts.get(file.0) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in &ast.items {
        let Item::Message(m) = item else { continue };
        let Some(body) = m.parts.iter().find_map(|p| match p {
            MessagePart::Body(t) => Some(t),
            _ => None,
        }) else {
            continue;
        };
        // The worst campaign per channel.
        let mut worst: Vec<&MessageSize> = Vec::new();
        for s in db.analysis.facts.sizes_of(&m.name.name).filter(|s| s.file == file) {
            match worst.iter_mut().find(|w| w.channel == s.channel) {
                Some(w) if w.worst < s.worst => *w = s,
                Some(_) => {}
                None => worst.push(s),
            }
        }
        if worst.is_empty() {
            continue;
        }
        let labels: Vec<String> = worst
            .iter()
            .map(|s| {
                if s.fits() {
                    size_label(s)
                } else {
                    format!("{} (too long)", size_label(s))
                }
            })
            .collect();
        out.push(Hint {
            offset: body.span.end,
            label: labels.join(" · "),
            tooltip: "worst-case length against the channel's limit, with every field at its largest".to_string(),
        });
    }
    out
}
