//! Korean ad law (정보통신망법 제50조) for `kind ad` campaigns.

use super::template::Facts;
use super::Env;
use crate::codes;
use crate::diagnostic::{Diagnostic, Fix, Sink};
use crate::source::FileId;
use crate::types::FieldType;
use camp_grammar::ast::{self, CmpOp, Expr, ExprKind, Span};
use std::collections::BTreeSet;

pub const AD_PREFIX: &str = "(광고)";

/// Which of the body rules a message passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdBody {
    pub prefix: bool,
    pub sender: bool,
    pub optout: bool,
}

/// Body rules: "(광고)" first, the sender, and the free opt-out line.
pub fn check_ad_body(
    env: &Env,
    sink: &mut Sink,
    file: FileId,
    message: &ast::Message,
    body: &Facts,
    body_span: Span,
    campaign: (FileId, Span),
) -> AdBody {
    let source = env.sources.get(file.0).copied().unwrap_or("");
    let text_start = Span::new(body_span.start, (body_span.start + 1).min(body_span.end));
    let prefix = body.leading_text.starts_with(AD_PREFIX);
    if !prefix {
        let lookalike = looks_like_prefix(&body.leading_text);
        let message_text = match &lookalike {
            Some(found) => format!("ad text starts with `{found}`, not exactly `{AD_PREFIX}`"),
            None => format!("ad text must start with `{AD_PREFIX}`"),
        };
        sink.push(
            Diagnostic::new(codes::AD_PREFIX, file, text_start, message_text, "the text starts here")
                .with_label(campaign.0, campaign.1, "this campaign is `kind ad`")
                .with_fix(prefix_fix(source, message, body_span, lookalike.as_deref()))
                .with_help(match lookalike {
                    Some(found) => format!("replace `{found}` with `{AD_PREFIX}`"),
                    None => format!("begin the text with `{AD_PREFIX}`, e.g. `\"{AD_PREFIX} #{{sender}} ..\"`"),
                }),
        );
    }
    let contains = |policy: &Option<String>| {
        policy
            .as_deref()
            .is_some_and(|t| !t.trim().is_empty() && body.literal_text.contains(t))
    };
    let sender = body.has_sender || contains(&env.policy.sender);
    let optout = body.has_optout || contains(&env.policy.optout);
    if !sender {
        sink.push(
            Diagnostic::new(
                codes::AD_SENDER,
                file,
                message.name.span,
                format!("ad `{}` does not name the sender", message.name.name),
                "no sender",
            )
            .with_label(campaign.0, campaign.1, "this campaign is `kind ad`")
            .with_help(format!("add `#{{sender}}` after `{AD_PREFIX}`")),
        );
    }
    if !optout {
        sink.push(
            Diagnostic::new(
                codes::AD_OPTOUT,
                file,
                message.name.span,
                format!("ad `{}` has no free opt-out line", message.name.name),
                "no opt-out",
            )
            .with_label(campaign.0, campaign.1, "this campaign is `kind ad`")
            .with_fix(optout_fix(source, body_span))
            .with_help("add `#{optout}` at the end of the text"),
        );
    }
    AdBody { prefix, sender, optout }
}

/// Writes "(광고)" where the text begins, or in place of a look-alike.
fn prefix_fix(source: &str, message: &ast::Message, body_span: Span, lookalike: Option<&str>) -> Option<Fix> {
    let body = message.parts.iter().find_map(|p| match p {
        ast::MessagePart::Body(t) if t.span == body_span => Some(t),
        _ => None,
    })?;
    let start = match body.segments.first() {
        Some(ast::TemplateSegment::Text { span, .. }) => span.start,
        Some(ast::TemplateSegment::Placeholder(p)) => p.span.start,
        Some(ast::TemplateSegment::For(l)) => l.span.start,
        None => body_span.start + 1,
    };
    let rest = source.get(start..body_span.end)?;
    match lookalike {
        Some(found) if rest.starts_with(found) => Some(Fix::new(
            format!("replace `{found}` with `{AD_PREFIX}`"),
            Span::new(start, start + found.len()),
            AD_PREFIX,
        )),
        Some(_) => None,
        None => Some(Fix::new(
            format!("insert `{AD_PREFIX}`"),
            Span::new(start, start),
            format!("{AD_PREFIX} "),
        )),
    }
}

/// Adds `#{optout}` as a last line of the text, aligned with the lines
/// above it (the dedent rule then removes that indentation again).
fn optout_fix(source: &str, body_span: Span) -> Option<Fix> {
    let open = body_span.start;
    let close = body_span.end.checked_sub(1)?;
    let raw = source.get(open + 1..close)?;
    let indent_of = |line: &str| line.len() - line.trim_start_matches([' ', '\t']).len();
    let (at, indent) = match raw.rfind('\n') {
        None => {
            // One line: align with the text after the opening quote.
            let line_start = source[..open].rfind('\n').map_or(0, |i| i + 1);
            (close, " ".repeat(source[line_start..open].chars().count() + 1))
        }
        Some(last_break) => {
            let last = &raw[last_break + 1..];
            if last.trim().is_empty() {
                // The closing quote on its own line: insert above it.
                let above = raw[..last_break].rsplit('\n').find(|l| !l.trim().is_empty()).unwrap_or(last);
                (open + 1 + last_break, above[..indent_of(above)].to_string())
            } else {
                (close, last[..indent_of(last)].to_string())
            }
        }
    };
    let at = at.min(source.len());
    Some(Fix::new(
        "add `#{optout}` at the end",
        Span::new(at, at),
        format!("\n{indent}#{{optout}}"),
    ))
}

/// `[광고]`, `(광 고)`, ` (광고)`, `광고`: the author meant the prefix but
/// wrote it differently; returns what they wrote.
fn looks_like_prefix(text: &str) -> Option<String> {
    const BRACKETS: &str = "([{<【（)]}>】）";
    let head: String = text.chars().take(10).collect();
    let squeezed: String = head.chars().filter(|c| !c.is_whitespace() && !BRACKETS.contains(*c)).collect();
    if !squeezed.starts_with("광고") {
        return None;
    }
    let end = head.find('고')? + '고'.len_utf8();
    let close: usize = head[end..]
        .chars()
        .take_while(|c| c.is_whitespace() || BRACKETS.contains(*c))
        .map(char::len_utf8)
        .sum();
    Some(head[..end + close].trim_end().to_string())
}

/// The consent fields a condition requires to be true for everyone it
/// selects: `and` unions, `or` intersects, `not` requires nothing.
pub fn required_consents(env: &Env, e: &Expr, depth: usize) -> BTreeSet<String> {
    if depth > camp_grammar::MAX_NESTING {
        return BTreeSet::new();
    }
    match &e.kind {
        ExprKind::And(items) => items.iter().flat_map(|i| required_consents(env, i, depth + 1)).collect(),
        ExprKind::Or(items) => {
            let mut sets = items.iter().map(|i| required_consents(env, i, depth + 1));
            let first = sets.next().unwrap_or_default();
            sets.fold(first, |acc, s| acc.intersection(&s).cloned().collect())
        }
        // `x == true`, `true == x`, `x != false`, `false != x`
        ExprKind::Compare { op, lhs, rhs } => {
            let truth = match op {
                CmpOp::Eq => true,
                CmpOp::Ne => false,
                _ => return BTreeSet::new(),
            };
            match (&lhs.kind, &rhs.kind) {
                (_, ExprKind::Bool(b)) if *b == truth => required_consents(env, lhs, depth + 1),
                (ExprKind::Bool(b), _) if *b == truth => required_consents(env, rhs, depth + 1),
                _ => BTreeSet::new(),
            }
        }
        ExprKind::Path(p) => {
            let names: Vec<&str> = p.segments.iter().map(|s| s.name.as_str()).collect();
            match names.as_slice() {
                ["customer", field] => env
                    .schema
                    .customer
                    .as_ref()
                    .and_then(|c| c.field(field))
                    .filter(|f| f.ty == FieldType::Consent)
                    .map(|f| BTreeSet::from([f.name.clone()]))
                    .unwrap_or_default(),
                [segment] => env
                    .segments
                    .get(segment)
                    .map(|d| required_consents(env, &d.item.cond, depth + 1))
                    .unwrap_or_default(),
                _ => BTreeSet::new(),
            }
        }
        _ => BTreeSet::new(),
    }
}

/// The consent fields that permit night-time ads: those named in the
/// policy's quiet-hours `unless`, else consent fields whose name or alias
/// says night (`night`, `야간`).
pub fn night_consents(env: &Env) -> BTreeSet<String> {
    let from_policy: BTreeSet<String> = env
        .policy
        .quiet_hours
        .iter()
        .filter_map(|r| r.unless.as_ref())
        .flat_map(|u| required_consents(env, u, 0))
        .collect();
    if !from_policy.is_empty() {
        return from_policy;
    }
    env.schema
        .customer
        .iter()
        .flat_map(|c| &c.fields)
        .filter(|f| f.ty == FieldType::Consent)
        .filter(|f| f.name.contains("night") || f.alias.as_deref().is_some_and(|a| a.contains("야간") || a.contains("night")))
        .map(|f| f.name.clone())
        .collect()
}
