//! Parses one chunk (at most one top-level item) with pest and builds it.

use crate::ast::Item;
use crate::build::{self, Ctx};
use crate::grammar::{CampParser, Rule};
use crate::recover::Chunk;
use crate::{errors, SyntaxError};
use pest::Parser;

/// The item of `chunk` (if it holds one and it parsed), recording errors.
pub(crate) fn parse_chunk(src: &str, chunk: &Chunk, errors_out: &mut Vec<SyntaxError>) -> Option<Item> {
    let text = src.get(chunk.start..chunk.end)?;
    let pairs = match CampParser::parse(Rule::chunk, text) {
        Ok(pairs) => pairs,
        Err(e) => {
            errors_out.push(errors::from_pest(&e, src, chunk.start, chunk.end));
            return None;
        }
    };
    let root = pairs.into_iter().next()?;
    let mut cx = Ctx {
        text,
        base: chunk.start,
        errors: errors_out,
    };
    match build::item(&mut cx, root) {
        Ok(Some((item, _end))) => Some(item),
        Ok(None) | Err(build::Fail) => None,
    }
}
