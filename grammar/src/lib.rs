//! The syntax of camp: the only crate that knows pest.
//!
//! [`parse`] turns one file's text into an [`ast::File`] plus every syntax
//! error found, recovering at the next top-level item after an error.
//!
//! How a file is read:
//! 1. files over [`MAX_FILE_BYTES`] are refused;
//! 2. `recover` cuts the file into chunks, one per top-level item, and finds
//!    strings that never close;
//! 3. `nesting` refuses chunks nested deeper than [`MAX_NESTING`], before
//!    pest (which recurses on brackets) sees them;
//! 4. `parser` runs the pest grammar (camp.pest) on each chunk and `build`
//!    turns the pairs into the AST; `errors` words pest's failures.

pub mod ast;
pub mod format;
pub mod tokens;
pub mod words;

mod build;
mod errors;
mod grammar;
mod lex;
mod nesting;
mod parser;
mod recover;
mod strings;
mod template;

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
    if source.len() > MAX_FILE_BYTES {
        return Parsed {
            file: ast::File::default(),
            errors: vec![too_large(source.len())],
        };
    }
    let mut parsed = Parsed::default();
    for chunk in recover::split(source) {
        if let Some(problem) = chunk.problem {
            parsed.errors.push(problem);
            continue;
        }
        let text = &source[chunk.start..chunk.end];
        if let Some(too_deep) = nesting::check(text, chunk.start) {
            parsed.errors.push(too_deep);
            continue;
        }
        if let Some(item) = parser::parse_chunk(source, &chunk, &mut parsed.errors) {
            parsed.file.items.push(item);
        }
    }
    // Chunks come in order, but errors inside one item may not.
    parsed.errors.sort_by_key(|e| (e.span.start, e.span.end));
    parsed
}

fn too_large(len: usize) -> SyntaxError {
    SyntaxError {
        kind: SyntaxErrorKind::FileTooLarge,
        span: Span::new(0, 0),
        message: format!(
            "file too large: {len} bytes, more than the {} MiB a camp file may have",
            MAX_FILE_BYTES / (1024 * 1024)
        ),
        label: "this file is not parsed".to_string(),
        help: Some("split it into several `.camp` files".to_string()),
    }
}
