//! Formatting: the same formatter as `camp fmt`, sent as one edit that
//! covers only the lines that change.

use super::doc;
use crate::server::{error, HandlerResult, Server};
use crate::to_proto;
use camp_grammar::format::{format, FormatError};
use camp_grammar::Span;
use lsp_server::ErrorCode;
use lsp_types as lsp;

pub fn formatting(server: &Server, p: lsp::DocumentFormattingParams) -> HandlerResult<Option<Vec<lsp::TextEdit>>> {
    let Some((snap, file)) = doc(server, &p.text_document.uri) else {
        return Ok(None);
    };
    let text = snap.text(file);
    let formatted = match format(text) {
        Ok(f) => f,
        Err(e @ FormatError::Syntax(_)) => return Err(error(ErrorCode::RequestFailed, format!("cannot format: {e}"))),
        Err(e) => return Err(error(ErrorCode::InternalError, e.to_string())),
    };
    let Some((span, replacement)) = difference(text, &formatted) else {
        return Ok(Some(Vec::new()));
    };
    Ok(Some(vec![lsp::TextEdit {
        range: to_proto::range(snap, file, span),
        new_text: replacement.to_string(),
    }]))
}

/// The smallest span of `old` to replace (on char boundaries) to get `new`,
/// and its replacement; `None` when they are equal.
fn difference<'n>(old: &str, new: &'n str) -> Option<(Span, &'n str)> {
    if old == new {
        return None;
    }
    let mut prefix = old.bytes().zip(new.bytes()).take_while(|(a, b)| a == b).count();
    while !(old.is_char_boundary(prefix) && new.is_char_boundary(prefix)) {
        prefix -= 1;
    }
    let max_suffix = old.len().min(new.len()) - prefix;
    let mut suffix = old
        .bytes()
        .rev()
        .zip(new.bytes().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    while !(old.is_char_boundary(old.len() - suffix) && new.is_char_boundary(new.len() - suffix)) {
        suffix -= 1;
    }
    Some((Span::new(prefix, old.len() - suffix), &new[prefix..new.len() - suffix]))
}

#[cfg(test)]
mod tests {
    use super::difference;

    #[test]
    fn smallest_edit() {
        assert_eq!(difference("a  b\nc", "a b\nc"), Some((camp_grammar::Span::new(2, 3), "")));
        assert_eq!(difference("같다", "같다"), None);
        let (span, new) = difference("가나", "가다").unwrap_or_default();
        assert_eq!((span.start, span.end, new), (3, 6, "다"));
    }
}
