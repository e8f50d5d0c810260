//! Source files of a workspace and byte offset <-> line/column conversion.

use camp_grammar::Span;

/// An index into [`crate::Workspace::files`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub usize);

/// One file's text with its line starts, computed once.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// As the user named it (relative paths stay relative).
    pub path: String,
    pub text: String,
    /// Set when the bytes were not UTF-8: where the first bad byte is
    /// (`text` then holds a lossy copy for display).
    pub invalid_utf8_at: Option<usize>,
    /// Set when the file could not be read, with the reason.
    pub unreadable: Option<String>,
    line_starts: Vec<usize>,
}

/// A 1-based line and a 1-based column counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1));
        SourceFile {
            path: path.into(),
            text,
            invalid_utf8_at: None,
            unreadable: None,
            line_starts,
        }
    }

    /// Line and column of a byte offset (clamped into the file and back to a
    /// char boundary, so any offset is safe).
    pub fn line_col(&self, offset: usize) -> LineCol {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let column = self.text[start..offset].chars().count() + 1;
        LineCol { line: line + 1, column }
    }

    /// The byte offset of a 0-based line start, if the line exists.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.line_starts.get(line).copied()
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The text under a span, empty if the span is out of range.
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let file = SourceFile::new("a.camp", "ab\n고객명 x\n");
        assert_eq!(file.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(file.line_col(3), LineCol { line: 2, column: 1 });
        // `x` follows three 3-byte Hangul syllables and a space.
        assert_eq!(file.line_col(3 + 9 + 1), LineCol { line: 2, column: 5 });
        // Inside a multi-byte character: clamped back to its start.
        assert_eq!(file.line_col(4), LineCol { line: 2, column: 1 });
        assert_eq!(file.line_col(999).line, 3);
    }
}
