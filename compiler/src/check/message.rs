//! A message checked for the channels it is sent on: which parts the
//! channel takes, and whether the worst case fits the carrier's limits.

use super::expr::{Scope, Trigger};
use super::lists::ListInfo;
use super::template::{self, Facts, Size};
use super::{Def, Env};
use crate::channel::{Channel, Format, Limits, Unit};
use crate::codes;
use crate::diagnostic::{Diagnostic, Sink};
use camp_grammar::ast::{self, Ident, MessagePart, Span};
use std::collections::HashSet;

/// A button (or a wide-list item): its label (text) and its link.
pub struct CheckedButton {
    pub label: Facts,
    pub url: Facts,
    pub span: Span,
}

/// One card of a carousel.
pub struct CheckedCard {
    pub title: Option<(Facts, Span)>,
    pub body: Option<(Facts, Span)>,
    pub image: Option<Span>,
    pub buttons: Vec<CheckedButton>,
    pub span: Span,
}

/// A message's parts, checked once in one campaign's context.
pub struct Checked {
    pub body: Option<Facts>,
    pub body_span: Span,
    pub subject: Option<(Facts, Span)>,
    pub title: Option<(Facts, Span)>,
    pub image: Option<Span>,
    pub buttons: Vec<CheckedButton>,
    pub template_code: Option<Span>,
    pub format: Option<Ident>,
    pub items: Vec<CheckedButton>,
    pub cards: Vec<CheckedCard>,
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
        format: None,
        items: Vec::new(),
        cards: Vec::new(),
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
                let label = template::check_with(env, sink, scope, label, lists);
                let url = template::check_with(env, sink, scope, url, lists);
                checked.buttons.push(CheckedButton { label, url, span: *span });
            }
            MessagePart::Format(f) => match &checked.format {
                Some(first) => twice(sink, "format", f.span, first.span),
                None => checked.format = Some(f.clone()),
            },
            MessagePart::Item { text, url, span } => {
                let label = template::check_with(env, sink, scope, text, lists);
                let url = template::check_with(env, sink, scope, url, lists);
                checked.items.push(CheckedButton { label, url, span: *span });
            }
            MessagePart::Card(card) => checked.cards.push(check_card(env, sink, scope, card, lists)),
        }
    }
    if checked.body.is_none() && checked.items.is_empty() && checked.cards.is_empty() {
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

fn check_card(env: &Env, sink: &mut Sink, scope: &Scope, card: &ast::Card, lists: &[ListInfo]) -> CheckedCard {
    let mut out = CheckedCard {
        title: None,
        body: None,
        image: None,
        buttons: Vec::new(),
        span: card.span,
    };
    for part in &card.parts {
        match part {
            MessagePart::Title(t) => out.title = Some((template::check_with(env, sink, scope, t, lists), t.span)),
            MessagePart::Body(t) => out.body = Some((template::check_with(env, sink, scope, t, lists), t.span)),
            MessagePart::Image(t) => {
                template::check_with(env, sink, scope, t, lists);
                out.image = Some(t.span);
            }
            MessagePart::Button { label, url, span } => {
                let label = template::check_with(env, sink, scope, label, lists);
                let url = template::check_with(env, sink, scope, url, lists);
                out.buttons.push(CheckedButton { label, url, span: *span });
            }
            // The grammar allows no other part in a card.
            _ => {}
        }
    }
    out
}

/// A size in a channel's unit.
pub fn measure(unit: Unit, s: Size) -> usize {
    match unit {
        Unit::Bytes => s.bytes,
        Unit::Chars => s.chars,
        Unit::Utf16 => s.utf16,
    }
}

/// The format a message has on `channel`: its `format` part when the
/// channel takes it (`None` when it names no format of the channel), else
/// the default (a brand message with an image is `image`, else `text`).
pub fn format_on(checked: &Checked, channel: Channel) -> Option<Format> {
    if Format::of(channel).is_empty() {
        return Some(Format::Text);
    }
    match &checked.format {
        Some(f) => Format::parse(channel, &f.name),
        None if checked.image.is_some() && matches!(channel, Channel::Brand | Channel::Friendtalk) => Some(Format::Image),
        None => Some(Format::Text),
    }
}

/// The worst-case size of the body as `channel` carries it: the channel's
/// own opt-out text in place of the policy's, and the buttons printed as
/// `label: url` lines when the channel has no buttons.
fn body_worst(env: &Env, checked: &Checked, channel: Channel, limits: &Limits) -> Option<(Size, usize)> {
    let body = checked.body.as_ref()?;
    let mut size = body.size;
    let mut breaks = body.line_breaks;
    if body.optouts > 0 {
        if let (Some(default), Some(own)) = (&env.policy.optout, env.policy.optout_for(channel.name())) {
            size = size
                .minus(template::text_size(default), body.optouts)
                .plus(template::text_size(own), body.optouts);
        }
    }
    if limits.buttons == 0 {
        for b in &checked.buttons {
            size = size.add(template::text_size("\n: ")).add(b.label.size).add(b.url.size);
            breaks += 1;
        }
    }
    Some((size, breaks))
}

/// Checks a message's parts against one channel. `used` points at where the
/// campaign chose the channel.
pub fn check_channel(
    env: &Env,
    sink: &mut Sink,
    file: crate::source::FileId,
    message: &ast::Message,
    checked: &Checked,
    channel: Channel,
    used: (crate::source::FileId, Span),
) {
    let name = channel.name();
    let Some(format) = format_on(checked, channel) else {
        if let Some(f) = &checked.format {
            let names: Vec<&str> = Format::of(channel).iter().map(|f| f.name()).collect();
            sink.push(
                Diagnostic::new(
                    codes::UNKNOWN_FORMAT,
                    file,
                    f.span,
                    format!("{name} has no format `{}`", f.name),
                    "not a format of this channel",
                )
                .with_label(used.0, used.1, format!("sent via {name} here"))
                .suggest(&f.name, f.span, names.iter().copied(), "format"),
            );
        }
        return;
    };
    let limits = channel.limits_for(format);
    let layout = if Format::of(channel).is_empty() {
        name.to_string()
    } else {
        format!("{name} {}", format.name())
    };
    let unit = limits.unit;
    let not_allowed = |sink: &mut Sink, what: &str, span: Span| {
        sink.push(
            Diagnostic::new(
                codes::PART_UNSUPPORTED,
                file,
                span,
                format!("{layout} messages cannot have {} {what}", crate::types::article(what)),
                format!("{what} on {layout}"),
            )
            .with_label(used.0, used.1, format!("sent via {name} here"))
            .with_help(format!("remove the {what}, or send this message on a channel that takes one")),
        );
    };
    let shape = |sink: &mut Sink, span: Span, text: String, label: &str, help: String| {
        sink.push(
            Diagnostic::new(codes::FORMAT_SHAPE, file, span, text, label.to_string())
                .with_label(used.0, used.1, format!("sent via {name} here"))
                .with_help(help),
        );
    };
    let too_long = |sink: &mut Sink, span: Span, what: &str, worst: usize, max: usize| {
        sink.push(
            Diagnostic::new(
                codes::PART_TOO_LONG,
                file,
                span,
                format!("the {what} can reach {worst} {} on {layout}, over the limit of {max}", unit.name()),
                format!("up to {worst} {}", unit.name()),
            )
            .with_help(format!("shorten the {what}")),
        );
    };

    if let Some(body) = &checked.body {
        if !limits.body_allowed {
            shape(
                sink,
                checked.body_span,
                format!("{layout} messages have no text of their own"),
                "text here",
                match format {
                    Format::WideList => "put the words in the header (`title`) and the `item`s".to_string(),
                    _ => "put the words in the cards: `card { title \"..\" \"text\" }`".to_string(),
                },
            );
        }
        let (size, breaks) = body_worst(env, checked, channel, &limits).unwrap_or_default();
        let worst = measure(unit, size);
        let limit = match (checked.image, limits.body_with_image) {
            (Some(_), Some(l)) => Some(l),
            _ => limits.body,
        };
        if let Some(limit) = limit.filter(|_| limits.body_allowed) {
            if worst > limit {
                let mut d = Diagnostic::new(
                    codes::TOO_LONG,
                    file,
                    checked.body_span,
                    format!(
                        "`{}` can reach {worst} {} on {layout}, over the limit of {limit}",
                        message.name.name,
                        unit.name()
                    ),
                    format!("up to {worst} {}", unit.name()),
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
                        format!("this text has no length limit and could overflow {name}'s {limit} {}", unit.name()),
                        "unbounded text",
                    )
                    .with_help("give the field a bound in the schema: `text(max N)`"),
                );
            }
        }
        if let Some(max) = limits.line_breaks.filter(|m| breaks > *m) {
            sink.push(
                Diagnostic::new(
                    codes::TOO_LONG,
                    file,
                    checked.body_span,
                    format!(
                        "`{}` has {breaks} line breaks on {layout}, over the limit of {max}",
                        message.name.name
                    ),
                    format!("{breaks} line breaks"),
                )
                .with_label(used.0, used.1, format!("sent via {name} here"))
                .with_help("join lines"),
            );
        }
        if limits.euc_kr_only {
            let in_buttons = checked
                .buttons
                .iter()
                .flat_map(|b| b.label.unencodable.iter().chain(&b.url.unencodable));
            for (span, c) in body.unencodable.iter().chain(in_buttons) {
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
            let worst = measure(unit, facts.size);
            if worst > max {
                too_long(sink, *span, what, worst, max);
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
    match checked.image {
        Some(span) if !limits.image => not_allowed(sink, "image", span),
        None if limits.needs_image => shape(
            sink,
            message.name.span,
            format!("`{}` is a {layout} message but has no image", message.name.name),
            "no `image \"..\"`",
            "add `image \"https://..\"`".to_string(),
        ),
        _ => {}
    }
    // On a channel without buttons they are printed in the text (counted
    // above); elsewhere they are counted and their labels measured.
    if limits.buttons > 0 {
        buttons(sink, file, &checked.buttons, limits.buttons, limits.button_label, &layout, unit);
    }

    match limits.items {
        None => {
            if let Some(item) = checked.items.first() {
                not_allowed(sink, "item", item.span);
            }
        }
        Some(list) => {
            if checked.title.is_none() {
                shape(
                    sink,
                    message.name.span,
                    format!("`{}` is a {layout} message but has no header", message.name.name),
                    "no `title \"..\"`",
                    "add the header: `title \"..\"`".to_string(),
                );
            }
            let n = checked.items.len();
            if n < list.min || n > list.max {
                let span = checked.items.get(list.max).map_or(message.name.span, |i| i.span);
                shape(
                    sink,
                    span,
                    format!("{layout} takes {} to {} items, `{}` has {n}", list.min, list.max, message.name.name),
                    if n > list.max { "one item too many" } else { "too few items" },
                    format!("write {} to {} `item \"text\" -> \"url\"` parts", list.min, list.max),
                );
            }
            for (i, item) in checked.items.iter().enumerate() {
                let max = if i == 0 { list.first } else { list.rest };
                let worst = measure(unit, item.label.size);
                if let Some(max) = max.filter(|m| worst > *m) {
                    let what = if i == 0 { "first item" } else { "item" };
                    too_long(sink, item.span, what, worst, max);
                }
            }
        }
    }
    match limits.cards {
        None => {
            if let Some(card) = checked.cards.first() {
                not_allowed(sink, "card", card.span);
            }
        }
        Some(list) => {
            let n = checked.cards.len();
            if n < list.min || n > list.max {
                let span = checked.cards.get(list.max).map_or(message.name.span, |c| c.span);
                shape(
                    sink,
                    span,
                    format!("{layout} takes {} to {} cards, `{}` has {n}", list.min, list.max, message.name.name),
                    if n > list.max { "one card too many" } else { "too few cards" },
                    format!("write {} to {} `card {{ .. }}` parts", list.min, list.max),
                );
            }
            for card in &checked.cards {
                if let (Some((facts, span)), Some(max)) = (&card.title, list.first) {
                    let worst = measure(unit, facts.size);
                    if worst > max {
                        too_long(sink, *span, "card title", worst, max);
                    }
                }
                match (&card.body, list.rest) {
                    (Some((facts, span)), Some(max)) => {
                        let worst = measure(unit, facts.size);
                        if worst > max {
                            too_long(sink, *span, "card text", worst, max);
                        }
                    }
                    (None, _) => shape(
                        sink,
                        card.span,
                        "a card without text".to_string(),
                        "no text",
                        "add the card's text as a string".to_string(),
                    ),
                    _ => {}
                }
                buttons(sink, file, &card.buttons, list.buttons, list.button_label, &layout, unit);
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

fn buttons(
    sink: &mut Sink,
    file: crate::source::FileId,
    buttons: &[CheckedButton],
    max: usize,
    label_max: Option<usize>,
    layout: &str,
    unit: Unit,
) {
    if let Some(b) = buttons.get(max) {
        sink.push(
            Diagnostic::new(
                codes::PART_TOO_LONG,
                file,
                b.span,
                format!("{layout} takes at most {max} buttons"),
                "one button too many",
            )
            .with_help("remove buttons"),
        );
    }
    if let Some(label_max) = label_max {
        for b in buttons {
            let worst = measure(unit, b.label.size);
            if worst > label_max {
                sink.push(
                    Diagnostic::new(
                        codes::PART_TOO_LONG,
                        file,
                        b.span,
                        format!("the button label can reach {worst} characters on {layout}, over the limit of {label_max}"),
                        "label too long",
                    )
                    .with_help("shorten the label"),
                );
            }
        }
    }
}

/// The body's worst case on `channel` in the channel's unit, and the limit
/// that applies to it (a smaller one with an image on Kakao).
pub fn body_size(env: &Env, checked: &Checked, channel: Channel) -> Option<(usize, Option<usize>)> {
    let limits = channel.limits_for(format_on(checked, channel)?);
    let (size, _) = body_worst(env, checked, channel, &limits)?;
    let limit = match (checked.image, limits.body_with_image) {
        (Some(_), Some(l)) => Some(l),
        _ => limits.body,
    };
    Some((measure(limits.unit, size), limit))
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
