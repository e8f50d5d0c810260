//! A message checked for the channels it is sent on: which parts the
//! channel takes, and whether the worst case fits the carrier's limits.

use super::expr::{Scope, Trigger};
use super::template::{self, Facts, Size};
use super::{Def, Env};
use crate::channel::{Channel, Unit};
use crate::codes;
use crate::diagnostic::{Diagnostic, Sink};
use camp_grammar::ast::{self, MessagePart, Span};
use std::collections::HashSet;

/// A message's parts, checked once in one campaign's context.
pub struct Checked {
    pub body: Option<Facts>,
    pub body_span: Span,
    pub subject: Option<(Facts, Span)>,
    pub title: Option<(Facts, Span)>,
    pub image: Option<Span>,
    pub buttons: Vec<(Facts, Span)>,
    pub template_code: Option<Span>,
}

pub fn check_parts(env: &Env, sink: &mut Sink, scope: &Scope, message: &ast::Message) -> Checked {
    let mut checked = Checked {
        body: None,
        body_span: message.name.span,
        subject: None,
        title: None,
        image: None,
        buttons: Vec::new(),
        template_code: None,
    };
    let twice = |sink: &mut Sink, what: &str, span: Span, first: Span| {
        let plural = if what == "body" { "bodies".to_string() } else { format!("{what}s") };
        sink.push(
            Diagnostic::new(
                codes::DUPLICATE_SETTING,
                scope.file,
                span,
                format!("the message has two {plural}"),
                format!("second {what}"),
            )
            .with_label(scope.file, first, format!("first {what}"))
            .with_help(format!("keep one {what}")),
        );
    };
    let lists = super::lists::check(env, sink, scope, message);
    let lists = lists.as_slice();
    for part in &message.parts {
        match part {
            MessagePart::List(_) => {}
            MessagePart::Body(t) => match &checked.body {
                Some(_) => twice(sink, "body", t.span, checked.body_span),
                None => {
                    checked.body = Some(template::check_with(env, sink, scope, t, lists));
                    checked.body_span = t.span;
                }
            },
            MessagePart::Subject(t) => match &checked.subject {
                Some((_, first)) => twice(sink, "subject", t.span, *first),
                None => checked.subject = Some((template::check_with(env, sink, scope, t, lists), t.span)),
            },
            MessagePart::Title(t) => match &checked.title {
                Some((_, first)) => twice(sink, "title", t.span, *first),
                None => checked.title = Some((template::check_with(env, sink, scope, t, lists), t.span)),
            },
            MessagePart::Image(t) => {
                template::check_with(env, sink, scope, t, lists);
                match checked.image {
                    Some(first) => twice(sink, "image", t.span, first),
                    None => checked.image = Some(t.span),
                }
            }
            MessagePart::TemplateCode(code) => match checked.template_code {
                Some(first) => twice(sink, "template code", code.span, first),
                None => checked.template_code = Some(code.span),
            },
            MessagePart::Button { label, url, span } => {
                let facts = template::check_with(env, sink, scope, label, lists);
                template::check_with(env, sink, scope, url, lists);
                checked.buttons.push((facts, *span));
            }
        }
    }
    if checked.body.is_none() {
        sink.push(
            Diagnostic::new(
                codes::NO_BODY,
                scope.file,
                message.name.span,
                format!("message `{}` has no text", message.name.name),
                "no body",
            )
            .with_help("add the text as a string: `\"#{고객명}님, ..\"`"),
        );
    }
    checked
}

/// Checks a message's parts against one channel. `used` points at where the
/// campaign chose the channel.
pub fn check_channel(
    sink: &mut Sink,
    file: crate::source::FileId,
    message: &ast::Message,
    checked: &Checked,
    channel: Channel,
    used: (crate::source::FileId, Span),
) {
    let limits = channel.limits();
    let name = channel.name();
    let not_allowed = |sink: &mut Sink, what: &str, span: Span| {
        sink.push(
            Diagnostic::new(
                codes::PART_NOT_ALLOWED,
                file,
                span,
                format!("{name} messages cannot have {} {what}", crate::types::article(what)),
                format!("{what} on {name}"),
            )
            .with_label(used.0, used.1, format!("sent via {name} here"))
            .with_help(format!("remove the {what}, or send this message on a channel that takes one")),
        );
    };
    let measure = |s: Size| match limits.unit {
        Unit::Bytes => s.bytes,
        Unit::Chars => s.chars,
    };

    if let Some(body) = &checked.body {
        let (worst, limit) = body_size(checked, channel).unwrap_or_default();
        if let Some(limit) = limit {
            if worst > limit {
                let mut d = Diagnostic::new(
                    codes::TOO_LONG,
                    file,
                    checked.body_span,
                    format!(
                        "`{}` can reach {worst} {} on {name}, over the limit of {limit}",
                        message.name.name,
                        limits.unit.name()
                    ),
                    format!("up to {worst} {}", limits.unit.name()),
                )
                .with_label(used.0, used.1, format!("sent via {name} here"));
                let bound = "bound the fields it prints in the schema (`text(max N)`, `int(max N)`, `money(max N)`)";
                d.help = Some(match channel.larger() {
                    Some(larger) => format!("shorten the text, {bound}, or send via `{}`", larger.name()),
                    None => format!("shorten the text or {bound}"),
                });
                sink.push(d);
            }
            for span in &body.unbounded {
                sink.push(
                    Diagnostic::new(
                        codes::UNBOUNDED_TEXT,
                        file,
                        *span,
                        format!(
                            "this text has no length limit and could overflow {name}'s {limit} {}",
                            limits.unit.name()
                        ),
                        "unbounded text",
                    )
                    .with_help("give the field a bound in the schema: `text(max N)`"),
                );
            }
        }
        if limits.euc_kr_only {
            for (span, c) in &body.unencodable {
                sink.push(
                    Diagnostic::new(
                        codes::UNENCODABLE,
                        file,
                        *span,
                        format!("{name} cannot carry `{c}` (U+{:04X})", *c as u32),
                        "not in EUC-KR/CP949",
                    )
                    .with_label(used.0, used.1, format!("sent via {name} here"))
                    .with_help("remove the character (emoji are not carried by SMS, LMS or MMS)"),
                );
            }
        }
    }

    for (part, limit, what) in [
        (&checked.subject, limits.subject, "subject"),
        (&checked.title, limits.title, "title"),
    ] {
        let Some((facts, span)) = part else { continue };
        if !limit.allowed {
            not_allowed(sink, what, *span);
            continue;
        }
        if let Some(max) = limit.max {
            let worst = measure(facts.size);
            if worst > max {
                sink.push(
                    Diagnostic::new(
                        codes::PART_TOO_LONG,
                        file,
                        *span,
                        format!(
                            "the {what} can reach {worst} {} on {name}, over the limit of {max}",
                            limits.unit.name()
                        ),
                        format!("up to {worst} {}", limits.unit.name()),
                    )
                    .with_help(format!("shorten the {what}")),
                );
            }
        }
        if limits.euc_kr_only {
            for (span, c) in &facts.unencodable {
                sink.push(
                    Diagnostic::new(
                        codes::UNENCODABLE,
                        file,
                        *span,
                        format!("{name} cannot carry `{c}` (U+{:04X})", *c as u32),
                        "not in EUC-KR/CP949",
                    )
                    .with_help("remove the character"),
                );
            }
        }
    }
    if let Some(span) = checked.image {
        if !limits.image {
            not_allowed(sink, "image", span);
        }
    }
    if !checked.buttons.is_empty() && limits.buttons == 0 {
        not_allowed(sink, "button", checked.buttons[0].1);
    } else {
        if let Some((_, span)) = checked.buttons.get(limits.buttons) {
            sink.push(
                Diagnostic::new(
                    codes::PART_TOO_LONG,
                    file,
                    *span,
                    format!("{name} takes at most {} buttons", limits.buttons),
                    "one button too many",
                )
                .with_help("remove buttons"),
            );
        }
        if let Some(max) = limits.button_label {
            for (facts, span) in &checked.buttons {
                if facts.size.chars > max {
                    sink.push(
                        Diagnostic::new(
                            codes::PART_TOO_LONG,
                            file,
                            *span,
                            format!(
                                "the button label can reach {} characters on {name}, over the limit of {max}",
                                facts.size.chars
                            ),
                            "label too long",
                        )
                        .with_help("shorten the label"),
                    );
                }
            }
        }
    }
    if limits.needs_template_code && checked.template_code.is_none() {
        sink.push(
            Diagnostic::new(
                codes::MISSING_TEMPLATE_CODE,
                file,
                message.name.span,
                format!("`{}` is sent via alimtalk but has no template code", message.name.name),
                "no `template \"..\"`",
            )
            .with_label(used.0, used.1, "sent via alimtalk here")
            .with_help("add the pre-approved template code: `template \"CODE\"`"),
        );
    }
}

/// The body's worst case on `channel` in the channel's unit, and the limit
/// that applies to it (a smaller one with an image on Kakao).
pub fn body_size(checked: &Checked, channel: Channel) -> Option<(usize, Option<usize>)> {
    let body = checked.body.as_ref()?;
    let limits = channel.limits();
    let limit = match (checked.image, limits.body_with_image) {
        (Some(_), Some(l)) => Some(l),
        _ => limits.body,
    };
    let worst = match limits.unit {
        Unit::Bytes => body.size.bytes,
        Unit::Chars => body.size.chars,
    };
    Some((worst, limit))
}

/// Messages no campaign sends are still checked for names and types, with
/// no channel and no trigger.
pub fn check_unsent(env: &Env, sink: &mut Sink, sent: &HashSet<&str>, duplicates: &[Def<ast::Message>]) {
    let mut unsent: Vec<&Def<ast::Message>> = env
        .messages
        .iter()
        .filter(|(n, _)| !sent.contains(*n))
        .map(|(_, d)| d)
        .chain(duplicates)
        .collect();
    unsent.sort_by_key(|d| (d.file, d.item.span.start));
    for def in unsent {
        let scope = Scope::new(def.file, Trigger::Policy);
        let mut scratch = Sink::default();
        check_parts(env, &mut scratch, &scope, def.item);
        // `trigger.*` is fine in a message that a triggered campaign may send
        // later; everything else is reported.
        sink.diagnostics
            .extend(scratch.diagnostics.into_iter().filter(|d| d.code != codes::TRIGGER_OUTSIDE_EVENT));
    }
}
