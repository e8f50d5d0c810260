//! Applying the editor's changes to a document's text.

use crate::line_index::LineIndex;
use lsp_types::TextDocumentContentChangeEvent;

/// Applies one change: a range (UTF-16 positions, clamped into the text;
/// reversed ends are put in order) or, without one, the whole text.
pub fn apply(text: &mut String, change: TextDocumentContentChangeEvent) {
    let Some(range) = change.range else {
        *text = change.text;
        return;
    };
    let index = LineIndex::new(text);
    let a = index.offset(text, range.start.line, range.start.character);
    let b = index.offset(text, range.end.line, range.end.character);
    let (start, end) = (a.min(b), a.max(b));
    text.replace_range(start..end, &change.text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_types::{Position, Range};

    fn change(l1: u32, c1: u32, l2: u32, c2: u32, text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(l1, c1), Position::new(l2, c2))),
            range_length: None,
            text: text.to_string(),
        }
    }

    #[test]
    fn utf16_ranges() {
        let mut t = "a😀b\n고객".to_string();
        apply(&mut t, change(0, 1, 0, 3, "X"));
        assert_eq!(t, "aXb\n고객");
        apply(&mut t, change(1, 1, 1, 1, "😀"));
        assert_eq!(t, "aXb\n고😀객");
        // Out of range and reversed: clamped and ordered, never a panic.
        apply(&mut t, change(9, 9, 0, 3, ""));
        assert_eq!(t, "aXb");
    }
}
