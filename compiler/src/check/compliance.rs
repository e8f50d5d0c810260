//! Korean ad law (정보통신망법 제50조) for `kind ad` campaigns.

use super::message::Checked;
use super::template::Facts;
use super::Env;
use crate::channel::Channel;
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

/// The ad rules of one message on the channels it goes out on: "(광고)"
/// first (email: in the subject; push: in the title or the body; elsewhere
/// the body), the sender, and the free opt-out line.
pub fn check_ad_message(
    env: &Env,
    sink: &mut Sink,
    file: FileId,
    message: &ast::Message,
    checked: &Checked,
    on: &[Channel],
    campaign: (FileId, Span),
) -> AdBody {
    let source = env.sources.get(file.0).copied().unwrap_or("");
    let starts = |f: &Facts| f.leading_text.starts_with(AD_PREFIX);
    let title_ok = checked.title.as_ref().is_some_and(|(f, _)| starts(f));
    // The body carries the prefix on every channel but email, and on push
    // unless the title does.
    let body_needs = on.iter().any(|c| !(*c == Channel::Email || (*c == Channel::Push && title_ok)));
    let mut prefix = true;
    if body_needs {
        prefix = match &checked.body {
            Some(body) => body_prefix(sink, file, source, message, body, checked.body_span, campaign, on),
            None => {
                // A wide list or a carousel: the header or the first card.
                let first_card = checked.cards.first();
                let ok = title_ok
                    || first_card.is_some_and(|c| {
                        c.title.as_ref().is_some_and(|(f, _)| starts(f)) || c.body.as_ref().is_some_and(|(f, _)| starts(f))
                    });
                if !ok {
                    sink.push(
                        Diagnostic::new(
                            codes::AD_PREFIX,
                            file,
                            message.name.span,
                            format!("ad text must start with `{AD_PREFIX}`"),
                            "no part starts with it",
                        )
                        .with_label(campaign.0, campaign.1, "this campaign is `kind ad`")
                        .with_help(format!("begin the header (`title`) or the first card with `{AD_PREFIX}`")),
                    );
                }
                ok
            }
        };
    }
    if on.contains(&Channel::Email) {
        let subject_ok = checked.subject.as_ref().is_some_and(|(f, _)| starts(f));
        if !subject_ok {
            prefix = false;
            let (span, label, fix) = match &checked.subject {
                Some((f, span)) => {
                    let at = span.start + 1;
                    let fix = match looks_like_prefix(&f.leading_text) {
                        Some(found) if source.get(at..).is_some_and(|r| r.starts_with(&found)) => Fix::new(
                            format!("replace `{found}` with `{AD_PREFIX}`"),
                            Span::new(at, at + found.len()),
                            AD_PREFIX,
                        ),
                        _ => Fix::new(format!("insert `{AD_PREFIX}`"), Span::new(at, at), format!("{AD_PREFIX} ")),
                    };
                    (*span, "the subject starts here", Some(fix))
                }
                None => (message.name.span, "no subject", None),
            };
            sink.push(
                Diagnostic::new(
                    codes::AD_EMAIL_SUBJECT,
                    file,
                    span,
                    format!("an email ad's subject must start with `{AD_PREFIX}`"),
                    label,
                )
                .with_label(campaign.0, campaign.1, "this campaign is `kind ad`")
                .with_fix(fix)
                .with_help(format!("write the subject as `subject \"{AD_PREFIX} ..\"`")),
            );
        }
    }

    // Sender and opt-out: anywhere in the text, the header or the cards.
    let mut parts: Vec<&Facts> = Vec::new();
    parts.extend(checked.body.as_ref());
    parts.extend(checked.title.as_ref().map(|(f, _)| f));
    for c in &checked.cards {
        parts.extend(c.title.as_ref().map(|(f, _)| f));
        parts.extend(c.body.as_ref().map(|(f, _)| f));
    }
    let contains = |text: Option<&str>| text.is_some_and(|t| !t.trim().is_empty() && parts.iter().any(|f| f.literal_text.contains(t)));
    let sender = parts.iter().any(|f| f.has_sender) || contains(env.policy.sender.as_deref());
    let optout = parts.iter().any(|f| f.has_optout)
        || on.iter().all(|c| contains(env.policy.optout_on(c.name())))
        || contains(env.policy.optout.as_deref());
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
        let fix = checked.body.as_ref().and_then(|_| optout_fix(source, checked.body_span));
        sink.push(
            Diagnostic::new(
                codes::AD_OPTOUT,
                file,
                message.name.span,
                format!("ad `{}` has no free opt-out line", message.name.name),
                "no opt-out",
            )
            .with_label(campaign.0, campaign.1, "this campaign is `kind ad`")
            .with_fix(fix)
            .with_help("add `#{optout}` at the end of the text"),
        );
    }
    AdBody { prefix, sender, optout }
}

/// "(광고)" at the start of the body.
#[allow(clippy::too_many_arguments)]
fn body_prefix(
    sink: &mut Sink,
    file: FileId,
    source: &str,
    message: &ast::Message,
    body: &Facts,
    body_span: Span,
    campaign: (FileId, Span),
    on: &[Channel],
) -> bool {
    let text_start = Span::new(body_span.start, (body_span.start + 1).min(body_span.end));
    if body.leading_text.starts_with(AD_PREFIX) {
        return true;
    }
    let lookalike = looks_like_prefix(&body.leading_text);
    let message_text = match &lookalike {
        Some(found) => format!("ad text starts with `{found}`, not exactly `{AD_PREFIX}`"),
        None => format!("ad text must start with `{AD_PREFIX}`"),
    };
    let push = on.contains(&Channel::Push);
    sink.push(
        Diagnostic::new(codes::AD_PREFIX, file, text_start, message_text, "the text starts here")
            .with_label(campaign.0, campaign.1, "this campaign is `kind ad`")
            .with_fix(prefix_fix(source, message, body_span, lookalike.as_deref()))
            .with_help(match lookalike {
                Some(found) => format!("replace `{found}` with `{AD_PREFIX}`"),
                None if push => format!("begin the title or the text with `{AD_PREFIX}`"),
                None => format!("begin the text with `{AD_PREFIX}`, e.g. `\"{AD_PREFIX} #{{sender}} ..\"`"),
            }),
    );
    false
}

/// Words that make an informational message read as an ad.
const PROMOTIONAL: [&str; 12] = [
    "할인",
    "쿠폰",
    "세일",
    "특가",
    "이벤트",
    "무료",
    "증정",
    "적립",
    "사은품",
    "최저가",
    "프로모션",
    "1+1",
];

/// A `kind info` message with promotional wording: mislabelled ads are the
/// most common violation of the ad law.
pub fn promotional_wording(env: &Env, sink: &mut Sink, file: FileId, message: &ast::Message, campaign: (FileId, Span)) {
    let source = env.sources.get(file.0).copied().unwrap_or("");
    let mut texts: Vec<&ast::Template> = Vec::new();
    for part in &message.parts {
        match part {
            ast::MessagePart::Body(t) | ast::MessagePart::Subject(t) | ast::MessagePart::Title(t) => texts.push(t),
            ast::MessagePart::Item { text, .. } => texts.push(text),
            ast::MessagePart::Card(c) => {
                for p in &c.parts {
                    if let ast::MessagePart::Body(t) | ast::MessagePart::Title(t) = p {
                        texts.push(t);
                    }
                }
            }
            _ => {}
        }
    }
    for t in texts {
        let Some(raw) = source.get(t.span.start..t.span.end) else {
            continue;
        };
        if let Some((at, word)) = find_promotional(raw) {
            let start = t.span.start + at;
            sink.push(
                Diagnostic::new(
                    codes::INFO_LOOKS_PROMOTIONAL,
                    file,
                    Span::new(start, start + word.len()),
                    format!("`{word}` reads as advertising in an informational message"),
                    "promotional wording",
                )
                .with_label(campaign.0, campaign.1, "this campaign is `kind info`")
                .with_help("if the message promotes anything, make the campaign `kind ad` (and follow the ad rules); otherwise reword it"),
            );
            return;
        }
    }
}

/// The first promotional word of a text (or `N%`), with its byte offset;
/// the free opt-out wording (`무료수신거부`, `무료 수신거부`) does not count.
fn find_promotional(text: &str) -> Option<(usize, String)> {
    let mut best: Option<(usize, String)> = None;
    for w in PROMOTIONAL {
        for (at, _) in text.match_indices(w) {
            let after = text[at + w.len()..].trim_start();
            if w == "무료" && (after.starts_with("수신") || after.starts_with("거부") || after.starts_with("전화")) {
                continue;
            }
            if best.as_ref().is_none_or(|(b, _)| at < *b) {
                best = Some((at, w.to_string()));
            }
            break;
        }
    }
    // `30%`, `10 %`
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_digit()) {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let mut j = i;
            while j < bytes.len() && bytes[j] == b' ' {
                j += 1;
            }
            if bytes.get(j) == Some(&b'%') {
                if best.as_ref().is_none_or(|(b, _)| start < *b) {
                    best = Some((start, text[start..=j].to_string()));
                }
                break;
            }
            continue;
        }
        i += 1;
    }
    best
}

/// Since 2026-07-07 ads go out only through a certified sender
/// (전송자격인증): every provider channel of an ad campaign must say
/// `certified = true` in `camp.toml` (checked when the binary passes the
/// workspace's channels in).
pub fn certified_senders(env: &Env, sink: &mut Sink, file: FileId, channels: &[(Channel, Span)]) {
    let Some(configured) = env.channels else { return };
    let mut seen = Vec::new();
    for (ch, span) in channels {
        if seen.contains(ch) {
            continue;
        }
        seen.push(*ch);
        let Some(facts) = configured.get(ch.name()) else { continue };
        if facts.provider && !facts.certified {
            sink.push(
                Diagnostic::new(
                    codes::AD_UNCERTIFIED,
                    file,
                    *span,
                    format!(
                        "ads on {} need a certified sender, and `[channels.{}]` is not marked certified",
                        ch.name(),
                        ch.name()
                    ),
                    "uncertified channel",
                )
                .with_help(format!(
                    "once the provider has certified your sender (전송자격인증), add `certified = true` under `[channels.{}]` in camp.toml",
                    ch.name()
                )),
            );
        }
    }
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
